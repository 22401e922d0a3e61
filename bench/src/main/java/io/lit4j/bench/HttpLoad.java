package io.lit4j.bench;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * Closed-loop HTTP load: {@code clients} virtual threads, each sending one request, waiting for
 * its answer, then sending the next, until the time is up. Requests still in flight at the end
 * are waited for and counted. Latencies of 2xx answers are kept; 429s, other statuses and
 * transport errors are counted apart (the soak fails on the last two).
 */
final class HttpLoad {
    private HttpLoad() {
    }

    /** What a run got: 2xx latencies (sorted, ns), 429s, other statuses by code, transport errors (first message kept). */
    record Result(long[] okNanos, long shed, Map<Integer, Long> failed, long errors, String firstError, double seconds) {
        long ok() {
            return okNanos.length;
        }

        double perSecond() {
            return ok() / seconds;
        }

        /** The {@code q}-quantile (0..1) of the 2xx latencies in ms, nearest rank; NaN when there are none. */
        double ms(double q) {
            if (okNanos.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.ceil(q * okNanos.length) - 1;
            return okNanos[Math.clamp(i, 0, okNanos.length - 1)] / 1e6;
        }

        long failures() {
            return failed.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Runs {@code clients} closed loops for {@code time}; {@code request.apply(i)} makes the i-th request of the run. */
    static Result run(HttpClient http, IntFunction<HttpRequest> request, int clients, Duration time) throws InterruptedException {
        ConcurrentLinkedQueue<long[]> lat = new ConcurrentLinkedQueue<>();
        LongAdder shed = new LongAdder(), errors = new LongAdder();
        AtomicInteger seq = new AtomicInteger();
        Map<Integer, LongAdder> failed = new ConcurrentHashMap<>();
        String[] firstError = new String[1];
        long t0 = System.nanoTime(), end = t0 + time.toNanos();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                pool.submit(() -> {
                    long[] mine = new long[1024];
                    int n = 0;
                    while (System.nanoTime() < end) {
                        HttpRequest req = request.apply(seq.getAndIncrement());
                        long s = System.nanoTime();
                        try {
                            HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
                            long took = System.nanoTime() - s;
                            if (r.statusCode() / 100 == 2) {
                                if (n == mine.length) {
                                    mine = Arrays.copyOf(mine, n * 2);
                                }
                                mine[n++] = took;
                            } else if (r.statusCode() == 429) {
                                shed.increment();
                                Thread.sleep(5); // a shed client backs off a little, as Retry-After asks
                            } else {
                                failed.computeIfAbsent(r.statusCode(), k -> new LongAdder()).increment();
                                synchronized (firstError) {
                                    if (firstError[0] == null) {
                                        firstError[0] = "HTTP " + r.statusCode() + " " + new String(r.body(), 0, Math.min(200, r.body().length));
                                    }
                                }
                            }
                        } catch (IOException e) {
                            errors.increment();
                            synchronized (firstError) {
                                if (firstError[0] == null) {
                                    firstError[0] = e.toString();
                                }
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            break;
                        }
                    }
                    lat.add(Arrays.copyOf(mine, n));
                });
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long[] all = lat.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        Map<Integer, Long> f = new TreeMap<>();
        failed.forEach((k, v) -> f.put(k, v.sum()));
        return new Result(all, shed.sum(), f, errors.sum(), firstError[0], seconds);
    }
}
