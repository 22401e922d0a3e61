package io.lit4j.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The soak's verdict fails on each thing it promises to fail on, and passes flat samples with some 429s. */
class SoakVerdictTest {
    private static final HttpLoad.Result CLEAN = new HttpLoad.Result(new long[] {1, 2, 3}, 5, Map.of(), 0, null, 60);

    private static List<Soak.Sample> samples(long rssEndKb, int fdsEnd) {
        List<Soak.Sample> s = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            boolean late = i >= 15;
            s.add(new Soak.Sample(i * 3, late ? rssEndKb : 100_000, late ? fdsEnd : 22, 50_000));
        }
        return s;
    }

    @Test
    void flatSamplesAndOnly429sPass() {
        assertNull(Soak.verdict(samples(104_000, 22), 5, CLEAN, List.of(), 0).failure());
    }

    @Test
    void eachFaultFails() {
        assertTrue(Soak.verdict(samples(105_000, 22), 5, CLEAN, List.of(), 0).failure().contains("RSS grew 5.0 %"));
        assertTrue(Soak.verdict(samples(100_000, 23), 5, CLEAN, List.of(), 0).failure().contains("file descriptors grew"));
        HttpLoad.Result failed = new HttpLoad.Result(new long[] {1}, 0, Map.of(500, 2L), 0, "HTTP 500", 60);
        assertTrue(Soak.verdict(samples(100_000, 22), 5, failed, List.of(), 0).failure().contains("2 failed requests"));
        HttpLoad.Result broken = new HttpLoad.Result(new long[] {1}, 0, Map.of(), 1, "java.io.IOException: reset", 60);
        assertTrue(Soak.verdict(samples(100_000, 22), 5, broken, List.of(), 0).failure().contains("1 transport errors"));
        assertTrue(Soak.verdict(samples(100_000, 22), 5, CLEAN, List.of("SEVERE: boom"), 0).failure().contains("server's log"));
        assertTrue(Soak.verdict(samples(100_000, 22), 5, CLEAN, List.of(), 1).failure().contains("exited with 1"));
    }
}
