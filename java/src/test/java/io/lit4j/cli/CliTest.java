package io.lit4j.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
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
}
