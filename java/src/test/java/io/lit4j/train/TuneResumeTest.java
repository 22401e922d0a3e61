package io.lit4j.train;

import com.google.gson.JsonParser;
import io.lit4j.datasets.Scenes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash safety of {@code lit4j tune}, with real processes: a run SIGKILLed mid-way and resumed
 * (with {@code --resume} alone: the run's one thread comes from its run.json) logs exactly the loss
 * curve of an uninterrupted run (fixed seed), and SIGTERM saves a checkpoint before the process exits.
 */
class TuneResumeTest {
    @TempDir
    static Path dir;
    static Path data;
    static Path config;

    @BeforeAll
    static void makeData() throws IOException {
        data = dir.resolve("scenes");
        Scenes.generate(Scenes.Config.defaults().withSeed(3).withImageSize(32).withCounts(160, 0, 0).withCaptionsPerImage(2), data);
        config = dir.resolve("tiny.json");
        Files.writeString(config, """
                {"format": "lit4j", "version": 1, "loss": "softmax",
                 "image": {"image_size": 32, "patch_size": 8, "channels": 3, "width": 32, "depth": 1, "heads": 2, "mlp_dim": 64,
                           "pool": "tok", "head_dim": 16},
                 "text": {"kind": "transformer", "vocab_size": 160, "context_length": 32, "width": 32, "depth": 1, "heads": 2,
                          "mlp_dim": 64, "pool": "last", "head_dim": 16}}
                """);
    }

    static ProcessBuilder tune(Path out, String... extra) {
        return tune(out, 40, extra);
    }

    static ProcessBuilder tune(Path out, int steps, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Dlit4j.cache=" + dir.resolve("cache"),
                "-cp", System.getProperty("java.class.path"), "io.lit4j.cli.Main", "tune"));
        if (extra.length > 0 && extra[0].equals("--resume")) {
            cmd.addAll(List.of(extra)); // nothing repeated: run.json gives the threads (1) and the precision
        } else {
            cmd.addAll(List.of("--threads", "1", "--model", config.toString(), "--setup", "uu", "--data", data.resolve("train").toString(), "--steps", Integer.toString(steps),
                    "--batch", "16", "--lr", "3e-3", "--warmup", "5", "--seed", "7", "--workers", "1", "--log-every", "1",
                    "--vocab-size", "160", "--out", out.toString()));
            cmd.addAll(List.of(extra));
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(out.getFileName() + ".log").toFile()));
    }

    static int run(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "tune did not finish");
        return p.exitValue();
    }

    static List<String> losses(Path run) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            var o = JsonParser.parseString(line).getAsJsonObject();
            out.add(o.get("step").getAsLong() + ":" + o.get("loss").getAsString());
        }
        return out;
    }

    static long checkpointStep(Path run) throws IOException {
        Path st = run.resolve("checkpoint").resolve("trainer.json");
        if (!Files.isRegularFile(st)) {
            return -1;
        }
        return JsonParser.parseString(Files.readString(st)).getAsJsonObject().get("step").getAsLong();
    }

    @Test
    void killedAndResumedRunIsBitIdenticalToAnUninterruptedOne() throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        assertEquals(0, run(tune(whole, "--save-every", "1000")), () -> log(whole));
        Process p = tune(killed, "--save-every", "4").start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (checkpointStep(killed) < 12 && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the run finished before it could be killed: " + log(killed));
        p.destroyForcibly().waitFor(); // SIGKILL: no shutdown hooks, no final save
        long at = checkpointStep(killed);
        assertTrue(at >= 12 && at < 40, "killed after the checkpoint at step " + at);
        assertEquals(0, run(tune(killed, "--resume", killed.toString())), () -> log(killed));
        List<String> a = losses(whole), b = losses(killed);
        assertEquals(40, a.size());
        assertEquals(a, b, "the resumed run's loss curve must equal the uninterrupted one, bit for bit");
        assertEquals(40, checkpointStep(killed));
    }

    @Test
    void sigtermSavesBeforeExiting() throws Exception {
        Path run = dir.resolve("term");
        Process p = tune(run, 100_000, "--save-every", "1000").start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while ((!Files.exists(run.resolve("metrics.jsonl")) || losses(run).size() < 5) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), log(run));
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        long at = checkpointStep(run);
        assertTrue(at >= 5, "SIGTERM should leave a checkpoint at the step reached, got " + at + "\n" + log(run));
        assertTrue(log(run).contains("stopped at step " + at), log(run));
    }

    static String log(Path run) {
        try {
            return Files.readString(dir.resolve(run.getFileName() + ".log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
