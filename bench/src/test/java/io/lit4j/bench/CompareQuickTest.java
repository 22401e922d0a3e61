package io.lit4j.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness end to end at {@code --quick} sizes, lit4j only (peers pointed at an empty folder):
 * every row measured in its own process, the table, chart, JSON and GOAL lines written. It checks
 * that the harness works, not how fast anything is.
 */
class CompareQuickTest {
    @Test
    void quickRunWritesTableChartJsonAndGoals(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Files.createDirectories(dir.resolve("no-peers"));
        Compare.main(new String[] {"--quick", "--rounds", "1", "--threads", "1", "--out", out.toString(), "--peers",
                dir.resolve("no-peers").toString()});
        String md = Files.readString(out.resolve("results.md"));
        for (String row : new String[] {"ViT smoke image, batch 1", "BERT tiny texts, batch 8 x 16", "text transformer tiny, batch 1 x 16",
                "LiT step (BERT tiny text tower, AdamW), 16 x 16"}) {
            assertTrue(md.contains(row), "results.md lacks the row '" + row + "':\n" + md);
        }
        assertTrue(md.contains("PyTorch peer skipped"), "a missing peer must be named in a note:\n" + md);
        assertTrue(md.contains("GOAL fp32_vit_vit-b4_of_gemm ratio="), "results.md lacks the GOAL lines:\n" + md);
        JsonObject json = JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject();
        JsonObject vit = json.getAsJsonObject("medians_s").getAsJsonObject("vit-b1");
        assertTrue(vit.get("lit4j fp32").getAsDouble() > 0 && vit.get("lit4j bf16").getAsDouble() > 0, json.toString());
        assertTrue(json.get("gemm_gflops").getAsDouble() > 0, "the same-run GEMM rate must be measured");
        byte[] png = Files.readAllBytes(out.resolve("results.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4), "results.png is not a PNG");
        try (var logs = Files.list(out.resolve("logs"))) {
            for (Path log : logs.toList()) {
                String text = Files.readString(log);
                assertTrue(!text.contains("Exception"), log + " shows an exception:\n" + text);
            }
        }
    }
}
