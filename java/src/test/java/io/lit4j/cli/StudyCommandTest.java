package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.datasets.FashionMnist;
import io.lit4j.study.LockRegimeStudy;
import io.lit4j.study.SizeStudy;
import io.lit4j.study.StudyReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    private static CliTest.Result setups(Path dir, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("study", "setups", "--quick", "--quiet", "--threads", "2", "--out",
                dir.resolve("out").toString(), "--work", dir.resolve("work").toString()));
        args.addAll(List.of(extra));
        return CliTest.run(args.toArray(String[]::new));
    }

    @Test
    void setupsAddsArmsToTheTableAlreadyThere(@TempDir Path dir) throws Exception {
        assumeTrue(FashionMnist.isAvailable(), "Fashion-MNIST is not installed (apt install dataset-fashion-mnist)");
        CliTest.Result first = setups(dir, "--setups", "Lu");
        assertEquals(0, first.code(), first.err());
        CliTest.Result second = setups(dir, "--setups", "L-frozen-random,Lu", "--seeds", "1");
        assertEquals(0, second.code(), second.err());
        Path res = dir.resolve("out").resolve("setups");
        JsonObject o = JsonParser.parseString(Files.readString(res.resolve("results.json"))).getAsJsonObject();
        JsonArray arms = o.getAsJsonArray("arms");
        assertEquals(3, arms.size(), o.toString());
        assertEquals("Lu", arms.get(0).getAsJsonObject().get("arm").getAsString());
        assertEquals(0, arms.get(0).getAsJsonObject().get("seed").getAsLong());
        assertTrue(arms.get(0).getAsJsonObject().get("command").getAsString().endsWith("--setups Lu"), o.toString());
        assertTrue(arms.get(2).getAsJsonObject().get("command").getAsString().endsWith("--seeds 1"), o.toString());
        assertEquals(2, o.getAsJsonArray("runs").size(), o.toString());
        assertTrue(o.getAsJsonObject("options").get("quick").getAsBoolean(), o.toString());
        String table = Files.readString(res.resolve("table.md"));
        assertTrue(table.contains("--setups Lu`") && table.contains("--setups L-frozen-random,Lu --seeds 1`"), table);
        assertTrue(table.contains("| L-frozen-random |    1 |") && table.contains("| Lu              |    0 |"), table);
        // this run's arm replaces the earlier one of the same setup and seed; the run it came from no longer contributes
        CliTest.Result third = setups(dir, "--setups", "Lu", "--seeds", "0,1");
        assertEquals(0, third.code(), third.err());
        o = JsonParser.parseString(Files.readString(res.resolve("results.json"))).getAsJsonObject();
        assertEquals(3, o.getAsJsonArray("arms").size(), o.toString());
        assertEquals(2, o.getAsJsonArray("runs").size(), o.toString());
        // other recipe options refuse to merge, naming the field; --replace starts afresh
        CliTest.Result other = setups(dir, "--setups", "Lu", "--lr", "0.01");
        assertEquals(1, other.code(), other.out());
        assertTrue(other.err().contains("lr = 0.001") && other.err().contains("--replace"), other.err());
        CliTest.Result fresh = setups(dir, "--setups", "Lu", "--lr", "0.01", "--replace");
        assertEquals(0, fresh.code(), fresh.err());
        o = JsonParser.parseString(Files.readString(res.resolve("results.json"))).getAsJsonObject();
        assertEquals(1, o.getAsJsonArray("arms").size(), o.toString());
    }

    @Test
    void theCommittedSetupsTableMergesWithTheDefaultCommand(@TempDir Path dir) throws Exception {
        copyCommitted(dir, "setups");
        StudyCommand.Setups cmd = new StudyCommand.Setups();
        // the command that added the MiniLM setups' second seed to the committed table, run again
        new CommandLine(cmd).parseArgs("--setups", "LL,LU,UU", "--seeds", "1", "--threads", "2", "--out", dir.toString());
        StudyReport r = new StudyReport("setups", cmd.shared.options(cmd.spec, cmd.pretrainedText));
        r.keepEarlierArms(); // the committed arms were run with the defaults, as this command is: all kept
        assertEveryCommittedArmKept("setups", r, 8);
        StudyCommand.Setups quick = new StudyCommand.Setups();
        new CommandLine(quick).parseArgs("--setups", "LU", "--quick", "--out", dir.toString());
        LitException e = assertThrows(LitException.class,
                () -> new StudyReport("setups", quick.shared.options(quick.spec, quick.pretrainedText)).keepEarlierArms());
        assertTrue(e.getMessage().contains("quick = false"), e.getMessage());
    }

    @Test
    void lockRegimeFillsItsGridAndTheShiftedSet(@TempDir Path dir) throws Exception {
        JsonObject o = runStudy(dir, "lock-regime", 12, "lock-regime-shifted.png");
        assertTrue(o.getAsJsonArray("arms").get(0).getAsJsonObject().has("shifted_top1"), o.toString());
        runStudy(dir, "lock-regime", 24, "lock-regime.png", "--seeds", "1");
        String two = Files.readString(dir.resolve("out").resolve("lock-regime").resolve("table.md"));
        assertTrue(two.matches("(?s).*\\|\\s*0,1\\s*\\|.*") && two.contains(" ±0.") && two.contains("mean over seeds 0,1"), two);
    }

    @Test
    void theCommittedLockRegimeTableMergesWithASecondSeed(@TempDir Path dir) throws Exception {
        copyCommitted(dir, "lock-regime");
        StudyCommand.LockRegime cmd = new StudyCommand.LockRegime();
        new CommandLine(cmd).parseArgs("--seeds", "1", "--threads", "2", "--out", dir.toString());
        assertEveryCommittedArmKept("lock-regime", LockRegimeStudy.report(cmd.shared.options(cmd.spec, null)), 27); // 3x3 cells, 3 setups
    }

    @Test
    void sizeTunesEveryCellOfTheGridAndASecondSeedJoinsTheTable(@TempDir Path dir) throws Exception {
        runStudy(dir, "size", 4, "size.png");
        String one = Files.readString(dir.resolve("out").resolve("size").resolve("table.md"));
        assertTrue(one.matches("(?s).*\\|\\s*0\\s*\\|.*") && !one.contains("±"), one);
        runStudy(dir, "size", 8, "size.png", "--seeds", "1");
        String two = Files.readString(dir.resolve("out").resolve("size").resolve("table.md"));
        assertTrue(two.matches("(?s).*\\|\\s*0,1\\s*\\|.*") && two.contains(" ±0.") && two.contains("--seeds 1`"), two);
        // a different pretraining makes different towers: it refuses to share the table
        List<String> args = List.of("study", "size", "--quick", "--quiet", "--threads", "2", "--pretrain-epochs", "2", "--out",
                dir.resolve("out").toString(), "--work", dir.resolve("work").toString());
        CliTest.Result r = CliTest.run(args.toArray(String[]::new));
        assertEquals(1, r.code(), r.out());
        assertTrue(r.err().contains("pretrain_epochs = 1.0") && r.err().contains("--replace"), r.err());
    }

    @Test
    void theCommittedSizeTableMergesWithASecondSeed(@TempDir Path dir) throws Exception {
        copyCommitted(dir, "size");
        StudyCommand.Size cmd = new StudyCommand.Size();
        new CommandLine(cmd).parseArgs("--seeds", "1", "--threads", "2", "--out", dir.toString());
        assertEveryCommittedArmKept("size", SizeStudy.report(cmd.shared.options(cmd.spec, null), cmd.pretrainEpochs), 9); // the 3x3 grid
    }

    /** The committed table of {@code study}, copied into {@code dir} as if an earlier run there had written it. */
    private static void copyCommitted(Path dir, String study) throws Exception {
        Files.createDirectories(dir.resolve(study));
        Files.copy(Path.of("..", "models", "studies", study, "results.json"), dir.resolve(study).resolve("results.json"));
    }

    /**
     * {@code r} kept every arm of the committed table of {@code study}, which holds at least
     * {@code atLeast} (it grows as seeds are added, so the count is read, not fixed).
     */
    private static void assertEveryCommittedArmKept(String study, StudyReport r, int atLeast) throws Exception {
        int committed = JsonParser.parseString(Files.readString(Path.of("..", "models", "studies", study, "results.json"))).getAsJsonObject()
                .getAsJsonArray("arms").size();
        assertTrue(committed >= atLeast, "the committed " + study + " table holds " + committed + " arms, fewer than " + atLeast);
        assertEquals(committed, r.arms().size(), "every committed " + study + " arm is kept");
    }

    @Test
    void duplicatesComparesThreeTuningSets(@TempDir Path dir) throws Exception {
        JsonObject o = runStudy(dir, "duplicates", 3, "duplicates.png");
        assertTrue(o.getAsJsonArray("findings").get(0).getAsString().startsWith("dedup of 600 rows"), o.toString());
        assertNotNull(ImageIO.read(dir.resolve("out").resolve("duplicates").resolve("borderline.png").toFile()), "the contact sheet");
    }

    /** The counts of the dedup.json the duplicates study wrote for the rule of {@code suffix} ("": the defaults). */
    private static JsonObject dedupReport(Path dir, String suffix) throws Exception {
        try (var s = Files.list(dir.resolve("work").resolve("quick").resolve("data"))) {
            Path d = s.filter(p -> p.getFileName().toString().endsWith("-dedup" + suffix)).findFirst().orElseThrow();
            return JsonParser.parseString(Files.readString(d.resolve("report").resolve("dedup.json"))).getAsJsonObject();
        }
    }

    @Test
    void duplicatesPassesItsThresholdsToTheRule(@TempDir Path dir) throws Exception {
        runStudy(dir, "duplicates", 3, "duplicates.png");
        JsonObject strict = runStudy(dir, "duplicates", 3, "duplicates.png", "--cosine", "1", "--eval-cosine", "1", "--max-hamming", "4");
        JsonObject opts = strict.getAsJsonObject("options");
        assertEquals(1.0, opts.get("cosine").getAsDouble());
        assertEquals(4, opts.get("max_hamming").getAsInt());
        assertTrue(strict.getAsJsonArray("findings").get(1).getAsString().startsWith("dedup rule: perceptual hashes within Hamming 4, confirmed "
                + "by embedding cosine >= 1.0 (>= 1.0"), strict.toString());
        String table = Files.readString(dir.resolve("out").resolve("duplicates").resolve("table.md"));
        assertTrue(table.contains("cosine = 1.0") && table.contains("Hamming 4") && !table.contains("(the defaults)"), table);
        JsonObject d = dedupReport(dir, ""), s = dedupReport(dir, "-h4-c1.0-e1.0");
        assertEquals(4, s.get("max_hamming").getAsInt());
        assertTrue(d.get("near_in_set").getAsInt() + d.get("near_against_eval").getAsInt() > 0, d.toString());
        assertEquals(0, s.get("near_in_set").getAsInt() + s.get("near_against_eval").getAsInt(), s.toString());
        assertTrue(s.get("kept").getAsInt() >= d.get("kept").getAsInt(), s + " vs " + d);
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
