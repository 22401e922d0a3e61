package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.datasets.FashionMnist;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every study's {@code --quick} mode end to end on Fashion-MNIST (as CI installs it): it exits 0
 * and writes a table with the exact command, a readable PNG and a JSON whose arms carry metrics
 * in [0, 1]. Plumbing, not findings: the towers are tiny and tune for three steps.
 */
class StudyCommandTest {
    static final Path TOKENIZER = Path.of("..", "models", "studies", "tokenizer", "lit4j-6lang.model");

    private static JsonObject runStudy(Path dir, String study, int arms, String png, String... extra) throws Exception {
        assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST is not installed (apt install dataset-fashion-mnist)");
        List<String> args = new java.util.ArrayList<>(List.of("study", study, "--quick", "--quiet", "--threads", "2", "--out",
                dir.resolve("out").toString(), "--work", dir.resolve("work").toString()));
        args.addAll(List.of(extra));
        CliTest.Result r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        Path res = dir.resolve("out").resolve(study);
        assertTrue(r.out().contains("results: " + res), r.out());
        JsonObject o = JsonParser.parseString(Files.readString(res.resolve("results.json"))).getAsJsonObject();
        assertEquals(study, o.get("study").getAsString());
        assertTrue(o.get("command").getAsString().startsWith("lit4j study " + study + " --quick"), o.get("command").getAsString());
        JsonArray a = o.getAsJsonArray("arms");
        assertEquals(arms, a.size(), o.toString());
        for (var e : a) {
            JsonObject arm = e.getAsJsonObject();
            for (String k : arm.keySet()) {
                if (k.endsWith("top1") || k.endsWith("top5") || k.contains("_r")) {
                    double v = arm.get(k).getAsDouble();
                    assertTrue(v >= 0 && v <= 1, k + " = " + v + " in " + arm);
                }
            }
            assertTrue(arm.get("steps").getAsLong() >= 1, arm.toString());
        }
        String table = Files.readString(res.resolve("table.md"));
        assertTrue(table.contains("Command: `lit4j study " + study), table);
        assertTrue(table.contains("Wall time: "), table);
        BufferedImage img = ImageIO.read(res.resolve(png).toFile());
        assertNotNull(img, png);
        assertTrue(img.getWidth() > 400 && img.getHeight() > 300, png + " " + img.getWidth() + "x" + img.getHeight());
        return o;
    }

    @Test
    void setupsRunsEverySetupIncludingTheFrozenRandomTextTower(@TempDir Path dir) throws Exception {
        JsonObject o = runStudy(dir, "setups", 7, "setups.png");
        JsonObject lu = o.getAsJsonArray("arms").get(0).getAsJsonObject();
        assertEquals("Lu", lu.get("arm").getAsString());
        for (String k : List.of("top1", "top5", "i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10")) {
            assertTrue(lu.has(k), k + " missing from " + lu);
        }
        // a second run with the same options reuses every arm's result instead of tuning again
        CliTest.Result again = CliTest.run("study", "setups", "--quick", "--threads", "2", "--setups", "Lu", "--out", dir.resolve("out").toString(),
                "--work", dir.resolve("work").toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("was tuned before with the same options"), again.err());
    }

    @Test
    void lockRegimeFillsItsGridAndTheShiftedSet(@TempDir Path dir) throws Exception {
        JsonObject o = runStudy(dir, "lock-regime", 12, "lock-regime-shifted.png");
        assertTrue(o.getAsJsonArray("arms").get(0).getAsJsonObject().has("shifted_top1"), o.toString());
    }

    @Test
    void sizeTunesEveryCellOfTheGrid(@TempDir Path dir) throws Exception {
        runStudy(dir, "size", 4, "size.png");
    }

    @Test
    void duplicatesComparesThreeTuningSets(@TempDir Path dir) throws Exception {
        JsonObject o = runStudy(dir, "duplicates", 3, "duplicates.png");
        assertTrue(o.getAsJsonArray("findings").get(0).getAsString().startsWith("dedup of 600 rows"), o.toString());
        assertNotNull(ImageIO.read(dir.resolve("out").resolve("duplicates").resolve("borderline.png").toFile()), "the contact sheet");
    }

    @Test
    void multilingualEvaluatesEveryLanguage(@TempDir Path dir) throws Exception {
        JsonObject o = runStudy(dir, "multilingual", 2, "multilingual.png", "--tokenizer", TOKENIZER.toString());
        JsonObject arm = o.getAsJsonArray("arms").get(1).getAsJsonObject();
        for (String lang : List.of("en", "de", "es", "ru", "zh", "ja")) {
            assertTrue(arm.has(lang + "_top1"), lang + " missing from " + arm);
        }
    }
}
