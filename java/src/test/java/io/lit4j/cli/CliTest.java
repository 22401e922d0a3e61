package io.lit4j.cli;

import com.google.gson.JsonParser;
import io.lit4j.DefaultModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void infoShowsOneDnnItsIsaAndTheThreadCount() {
        Result r = run("info", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("backend: onednn"), r.out());
        assertTrue(r.out().matches("(?s).*oneDNN 3\\.13\\.\\d+.*dispatching to (avx|sse)\\w*.*"), r.out());
        assertTrue(r.out().contains("oneDNN threads (OpenMP): 1"), r.out());
        assertTrue(r.out().contains("Vector API"), r.out());
    }

    @Test
    void scalarBackendCanBeForced() {
        Result r = run("info", "--backend", "scalar");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("backend: scalar - requested"), r.out());
    }

    @Test
    void badInputIsOneLineAndNonZero() {
        Result r = run("info", "--backend", "tpu");
        assertEquals(1, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("unknown backend 'tpu'"), r.err());
        assertFalse(r.err().contains("at io.lit4j"), "no stack trace without --verbose");
        Result v = run("info", "--backend", "tpu", "--verbose");
        assertTrue(v.err().contains("at io.lit4j"), "stack trace with --verbose");
    }

    @Test
    void badInputGetsOneLineAndANonZeroExit(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path notImage = Files.writeString(dir.resolve("notes.png"), "this is text, not a PNG");
        Path webp = Files.write(dir.resolve("photo.webp"),
                new byte[] {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '});
        String[][] cases = {
                {"classify", "--labels", "cat,dog", notImage.toString()},
                {"classify", "--labels", "cat,dog", webp.toString()},
                {"classify", "--labels", "", notImage.toString()},
                {"classify", "--model", dir.toString(), "--labels", "cat", notImage.toString()},
                {"classify", "--labels", "cat", dir.resolve("missing.png").toString()},
        };
        String[] expect = {"notes.png", "photo.webp", "no labels", "not a model folder", "missing.png"};
        for (int i = 0; i < cases.length; i++) {
            Result r = run(cases[i]);
            assertEquals(1, r.code(), String.join(" ", cases[i]) + "\n" + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().contains(expect[i]), expect[i] + " in: " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
    }

    @Test
    void classifyAndEvalPrintJson() {
        Result r = run("eval", "zeroshot", "--dataset", "scenes", "--held-out-only", "--templates", "clip_best", "--limit", "64", "--json",
                "--confusion", System.getProperty("java.io.tmpdir") + "/lit4j-cli-test-confusion.png");
        assertEquals(0, r.code(), r.err());
        var o = JsonParser.parseString(r.out().strip()).getAsJsonObject();
        for (String k : new String[] {"dataset", "n", "top1", "top5"}) {
            assertTrue(o.has(k), k + " in " + o);
        }
    }

    /** A folder's undecodable file is skipped and named on stderr; the rest are classified (a named bad file is an error, above). */
    @Test
    void aFolderIsClassifiedWithoutItsBadFiles(@TempDir Path dir) throws Exception {
        Path samples = DefaultModel.samples();
        Files.copy(samples.resolve("fashion-bag.png"), dir.resolve("bag.png"));
        Files.copy(samples.resolve("fashion-sneaker.png"), dir.resolve("shoe.png"));
        Files.writeString(dir.resolve("broken.png"), "this is text, not a PNG");
        Result r = run("classify", "--labels", "bag,sneaker", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bag.png") && r.out().contains("shoe.png") && !r.out().contains("broken.png"), r.out());
        assertTrue(r.err().contains("skipped 1 image") && r.err().contains("broken.png"), r.err());
        Result named = run("classify", "--labels", "bag,sneaker", dir.resolve("broken.png").toString(), dir.toString());
        assertEquals(1, named.code(), "a bad file named beside a folder is still an error: " + named.out());
        assertTrue(named.err().contains("broken.png"), named.err());
        Path npy = dir.resolveSibling(dir.getFileName() + "-index.npy");
        Result e = run("embed", "--images", dir.toString(), "--out", npy.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("wrote 2 embeddings"), e.out());
        assertEquals(List.of("bag.png", "shoe.png"), Files.readAllLines(EmbedCommand.idsFile(npy)));
    }
}
