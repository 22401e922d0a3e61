package io.lit4j.bench;

import io.lit4j.LitException;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The soak: starts {@code lit4j serve} from the shaded jar (with native memory tracking), drives
 * steady mixed traffic at it (every POST endpoint and the GETs) from a few closed-loop clients,
 * samples its RSS ({@code VmRSS}), open file descriptors and NMT's committed total, then stops it
 * with SIGTERM. It fails on RSS growth of 5 % or more after warm-up, on fd growth, on any error
 * (a transport error, an exception in the server's log, an exit code other than 0) and on any
 * failed request that was not shed with a 429. {@code bench/soak.sh} runs it for 10 minutes,
 * {@code SoakIT} for 60 seconds in {@code mvn verify}.
 */
public final class Soak {
    static final double MAX_RSS_GROWTH = 0.05;
    private static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");
    private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");
    private static final Pattern LOG_ERROR = Pattern.compile("Exception|SEVERE|ERROR|OutOfMemory|fatal", Pattern.CASE_INSENSITIVE);

    private Soak() {
    }

    /** What to soak: the jar, the repository root (for the sample images), how long, how many clients, where the server's log goes. */
    record Options(Path jar, Path root, Duration time, int clients, Path workDir) {
    }

    /** One sample of the server process: seconds since traffic began, RSS and NMT committed in KiB, open fds. */
    record Sample(double at, long rssKb, int fds, long nmtKb) {
    }

    /** The verdict: {@code failure} is null when the soak passed, else one line saying why. */
    record Report(List<Sample> samples, int warmSamples, HttpLoad.Result load, List<String> logErrors, int exitCode, String failure) {
        Sample base() {
            return samples.get(Math.min(warmSamples, samples.size() - 1));
        }

        Sample last() {
            return samples.getLast();
        }

        String summary() {
            Sample b = base(), e = last();
            return String.format("soak: %.0f s, %d requests answered, %d shed (429), %d failed, %d transport errors, %d server log errors, exit %d;"
                            + " after warm-up RSS %.1f -> %.1f MiB (%+.1f %%), fds %d -> %d, NMT committed %.1f -> %.1f MiB", load.seconds(),
                    load.ok(), load.shed(), load.failures(), load.errors(), logErrors.size(), exitCode, b.rssKb() / 1024.0, e.rssKb() / 1024.0,
                    100.0 * (e.rssKb() - b.rssKb()) / b.rssKb(), b.fds(), e.fds(), b.nmtKb() / 1024.0, e.nmtKb() / 1024.0);
        }
    }

    public static void main(String[] args) throws Exception {
        Worker.Args a = new Worker.Args(args);
        double minutes = Double.parseDouble(a.s("--minutes", "10"));
        Path root = Path.of(a.s("--root", "."));
        Path jar = Path.of(a.s("--jar", newestJar(root.resolve("java/target")).toString()));
        Path work = Files.createTempDirectory("lit4j-soak");
        Report r = run(new Options(jar, root, Duration.ofMillis((long) (minutes * 60_000)), a.i("--clients", 8), work), System.out);
        System.out.println(r.summary());
        System.out.println("server log: " + work.resolve("server.log"));
        if (r.failure() != null) {
            System.out.println("soak FAILED: " + r.failure());
            System.exit(1);
        }
        System.out.println("soak passed");
    }

    static Path newestJar(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("lit4j-.*-all\\.jar"))
                    .max((x, y) -> Long.compare(x.toFile().lastModified(), y.toFile().lastModified()))
                    .orElseThrow(() -> new LitException(dir + ": no lit4j-*-all.jar (build it: mvn -q -B -DskipTests package -pl java -am)"));
        }
    }

    /** Runs the soak; {@code out} (may be null) gets one line per sample. */
    static Report run(Options o, PrintStream out) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java"), jcmd = java.resolveSibling("jcmd");
        Path log = o.workDir().resolve("server.log");
        // The launcher's flags, plus NMT, plus the heap touched up front: else RSS climbs for minutes while the
        // old generation's committed pages are first written (promoted garbage), which is no leak.
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-XX:+UseParallelGC", "-Xmn32m", "-XX:NativeMemoryTracking=summary", "-XX:+AlwaysPreTouch"));
        String extra = System.getenv("LIT4J_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.strip().split("\\s+")));
        }
        cmd.addAll(List.of("-jar", o.jar().toString(), "serve", "--port", "0", "--rate", "0", "--warm", "1", "--threads", "2"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String base = awaitReady(p, log);
            List<byte[]> images = images(o.root());
            List<String> texts = BatcherThroughput.texts(new Random(2), 512);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
            List<Sample> samples = new CopyOnWriteArrayList<>();
            long every = Math.clamp(o.time().toMillis() / 30, 2000, 20_000);
            long t0 = System.nanoTime();
            Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        Sample s = sample(p.pid(), jcmd, (System.nanoTime() - t0) / 1e9);
                        samples.add(s);
                        if (out != null) {
                            out.printf("%6.0f s  RSS %7.1f MiB  fds %4d  NMT committed %7.1f MiB%n", s.at(), s.rssKb() / 1024.0, s.fds(), s.nmtKb() / 1024.0);
                        }
                        Thread.sleep(every);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (IOException e) {
                    throw new LitException("sampling the server (pid " + p.pid() + "): " + e.getMessage(), e);
                }
            });
            HttpLoad.Result load = HttpLoad.run(http, i -> request(base, i, texts, images), o.clients(), o.time());
            sampler.interrupt();
            sampler.join();
            samples.add(sample(p.pid(), jcmd, (System.nanoTime() - t0) / 1e9));
            p.destroy(); // SIGTERM: finish what is in flight, exit 0
            int exit = p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
            List<String> logErrors = Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> LOG_ERROR.matcher(l).find()).toList();
            int warm = (int) Math.ceil(samples.size() * 0.25); // the first quarter is warm-up
            return verdict(samples, warm, load, logErrors, exit);
        } finally {
            p.destroyForcibly();
        }
    }

    static Report verdict(List<Sample> samples, int warm, HttpLoad.Result load, List<String> logErrors, int exit) {
        List<String> why = new ArrayList<>();
        if (samples.size() < warm + 3) {
            why.add("only " + samples.size() + " samples");
        } else {
            List<Sample> after = samples.subList(warm, samples.size());
            long rss0 = median(after.subList(0, 3).stream().mapToLong(Sample::rssKb).toArray());
            long rss1 = median(after.subList(after.size() - 3, after.size()).stream().mapToLong(Sample::rssKb).toArray());
            if (rss1 >= rss0 * (1 + MAX_RSS_GROWTH)) {
                why.add(String.format("RSS grew %.1f %% after warm-up (%d -> %d KiB; limit %.0f %%)", 100.0 * (rss1 - rss0) / rss0, rss0, rss1,
                        100 * MAX_RSS_GROWTH));
            }
            int third = Math.max(1, after.size() / 3);
            int firstMax = after.subList(0, third).stream().mapToInt(Sample::fds).max().orElseThrow();
            int lastMin = after.subList(after.size() - third, after.size()).stream().mapToInt(Sample::fds).min().orElseThrow();
            if (lastMin > firstMax) {
                why.add("open file descriptors grew (at most " + firstMax + " early after warm-up, at least " + lastMin + " at the end)");
            }
        }
        if (load.failures() > 0 || load.errors() > 0) {
            why.add(load.failures() + " failed requests (not 429) " + load.failed() + " and " + load.errors() + " transport errors; first: "
                    + load.firstError());
        }
        if (load.ok() == 0) {
            why.add("no request was answered");
        }
        if (!logErrors.isEmpty()) {
            why.add(logErrors.size() + " errors in the server's log, first: " + logErrors.getFirst());
        }
        if (exit != 0) {
            why.add("the server exited with " + exit + " on SIGTERM (want 0)");
        }
        return new Report(List.copyOf(samples), warm, load, logErrors, exit, why.isEmpty() ? null : String.join("; ", why));
    }

    private static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Waits (at most 3 minutes) for the "listening on" line, then for {@code /ready} to answer 200; returns the base URI. */
    static String awaitReady(Process p, Path log) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        String base = null;
        while (System.nanoTime() < until) {
            if (!p.isAlive()) {
                throw new LitException("lit4j serve exited with " + p.exitValue() + " before it was ready: " + Files.readString(log));
            }
            if (base == null) {
                Matcher m = LISTENING.matcher(Files.readString(log));
                base = m.find() ? m.group(1) : null;
            } else {
                try {
                    if (http.send(HttpRequest.newBuilder(URI.create(base + "/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return base;
                    }
                } catch (IOException e) {
                    // not accepting yet
                }
            }
            Thread.sleep(100);
        }
        throw new LitException("lit4j serve was not ready within 3 minutes: " + Files.readString(log));
    }

    private static List<byte[]> images(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("models/default/samples"))) {
            List<byte[]> out = new ArrayList<>();
            for (Path f : s.filter(f -> f.toString().endsWith(".png")).sorted().toList()) {
                out.add(Files.readAllBytes(f));
            }
            return out;
        }
    }

    /** The i-th request of the mix: every POST endpoint in turn, with a health check, an info and a metrics scrape among them. */
    static HttpRequest request(String base, int i, List<String> texts, List<byte[]> images) {
        String t = texts.get(i % texts.size()), u = texts.get((i * 7 + 3) % texts.size());
        String img = Base64.getEncoder().encodeToString(images.get(i % images.size()));
        return switch (i % 16) {
            case 0, 1, 2, 3 -> json(base + "/v1/embeddings", "{\"input\": [\"" + t + "\", \"" + u + "\"], \"encoding_format\": \"" + (i % 2 == 0 ? "float" : "base64") + "\"}");
            case 4, 5, 6 -> json(base + "/embed/texts", "{\"texts\": [\"" + t + "\"]}");
            case 7, 8, 9 -> HttpRequest.newBuilder(URI.create(base + "/embed/images")).header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(images.get(i % images.size()))).build();
            case 10, 11 -> json(base + "/classify", "{\"images\": [\"" + img + "\"], \"labels\": [\"bag\", {\"name\": \"sneaker\", \"aliases\": [\"trainer\"]},"
                    + " \"coat\", \"dress\"], \"templates\": \"clip_best\", \"top_k\": 2}");
            case 12, 13 -> json(base + "/similarity", "{\"texts\": [\"" + t + "\", \"" + u + "\"], \"images\": [\"" + img + "\"]}");
            case 14 -> HttpRequest.newBuilder(URI.create(base + (i % 32 == 14 ? "/health" : "/info"))).build();
            default -> HttpRequest.newBuilder(URI.create(base + "/metrics")).build();
        };
    }

    private static HttpRequest json(String uri, String body) {
        return HttpRequest.newBuilder(URI.create(uri)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static Sample sample(long pid, Path jcmd, double at) throws IOException, InterruptedException {
        Path proc = Path.of("/proc", Long.toString(pid));
        long rss = Files.readAllLines(proc.resolve("status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D+", ""))).findFirst().orElseThrow();
        int fds;
        try (Stream<Path> s = Files.list(proc.resolve("fd"))) {
            fds = (int) s.count();
        }
        Process j = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "VM.native_memory", "summary").redirectErrorStream(true).start();
        String text = new String(j.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        j.waitFor(30, TimeUnit.SECONDS);
        Matcher m = NMT_TOTAL.matcher(text);
        return new Sample(at, rss, fds, m.find() ? Long.parseLong(m.group(2)) : -1);
    }
}
