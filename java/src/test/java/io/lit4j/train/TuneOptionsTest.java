package io.lit4j.train;

import io.lit4j.LitException;
import io.lit4j.model.Precision;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** run.json: what a resume reads back, including files written before it recorded the precision and threads. */
class TuneOptionsTest {
    @Test
    void runJsonRoundTripsWithPrecisionAndThreads() {
        TuneOptions o = TuneOptions.builder().model("m").data("d").out("o").setup("Uu").freeze(List.of("img\\.pos"))
                .steps(7).batch(4).precision(Precision.BF16).build().withThreads(3);
        String json = o.toJson();
        assertTrue(json.contains("\"precision\": \"bf16\"") && json.contains("\"threads\": 3"), json);
        assertEquals(o, TuneOptions.fromJson(json, "run.json"));
    }

    @Test
    void anOlderRunJsonRecordsNeitherPrecisionNorThreads() {
        TuneOptions o = TuneOptions.fromJson("""
                {"model": "m", "data": "d", "setup": "Lu", "steps": 10, "batch": 8, "lr": 0.001, "out": "o", "workers": 2}
                """, "run.json");
        assertNull(o.precision(), "unrecorded: a resume takes it from --precision, else fp32");
        assertEquals(0, o.threads());
        assertEquals(List.of(), o.freeze());
    }

    @Test
    void impossibleRunsAreRefused() {
        assertThrows(LitException.class, () -> TuneOptions.builder().batch(1).build());
        assertThrows(LitException.class, () -> TuneOptions.fromJson("{\"steps\": 0, \"batch\": 8}", "run.json"));
        assertThrows(LitException.class, () -> TuneOptions.fromJson("[1, 2]", "run.json"));
        LitException bad = assertThrows(LitException.class,
                () -> TuneOptions.fromJson("{\"steps\": 5, \"batch\": 8, \"precision\": \"bf-16\"}", "run.json"));
        assertTrue(bad.getMessage().contains("run.json") && bad.getMessage().contains("bf-16"), bad.getMessage());
    }
}
