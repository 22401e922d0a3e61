package io.lit4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.DefaultModel;
import io.lit4j.train.TuneOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.lit4j.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The conventions a newcomer expects of every command: help, JSON, checked numbers, lists of images, clear errors. */
class CliConventionsTest {
    private static final List<String> COMMANDS = List.of("info", "tune", "dataset", "pretrain", "classify", "embed", "retrieve", "eval", "demo",
            "ablation", "serve", "inspect", "convert");

    private static void oneLineError(CliTest.Result r, String expected) {
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(expected), expected + " in: " + r.err());
    }

    @Test
    void everyCommandTakesHelpOnStdoutAndDescribesEveryOption() {
        for (String c : COMMANDS) {
            for (String flag : new String[] {"--help", "-h"}) {
                CliTest.Result r = run(c, flag);
                assertEquals(0, r.code(), c + " " + flag + ": " + r.err());
                assertTrue(r.out().startsWith("Usage: lit4j " + c), c + " " + flag + ": " + r.out());
                assertEquals("", r.err(), c + " " + flag);
            }
        }
        CommandLine cli = new CommandLine(new Main(System.err));
        List<String> undescribed = new ArrayList<>();
        for (CommandLine sub : cli.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            for (OptionSpec o : spec.options()) {
                if (o.description().length == 0 || o.description()[0].isBlank()) {
                    undescribed.add(spec.name() + " " + o.longestName());
                }
            }
        }
        assertEquals(List.of(), undescribed, "options without a description");
        String top = run("--help").out();
        for (String c : COMMANDS) {
            assertTrue(top.contains("  " + c + " "), c + " in the command list: " + top);
        }
        assertTrue(top.contains("probe"), "eval names probe: " + top);
        assertTrue(run("tune", "--help").out().contains("Default: 1000"), "defaults are shown");
    }

    /**
     * picocli formats every help line with {@code String.format} and, when that fails, prints a
     * "[picocli WARN]" paragraph to stderr and shows the line raw ("10% warmup" did, in study's help):
     * the help of every command, nested ones included, renders without a warning.
     */
    @Test
    void everyCommandsHelpRendersWithoutAPicocliWarning() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        List<String> rendered = new ArrayList<>();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            List<CommandLine> pending = new ArrayList<>(List.of(new CommandLine(new Main(err))));
            while (!pending.isEmpty()) {
                CommandLine c = pending.removeLast();
                if (!c.getUsageMessage().isBlank()) {
                    rendered.add(c.getCommandSpec().qualifiedName());
                }
                pending.addAll(c.getSubcommands().values());
            }
        } finally {
            System.setErr(err);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8), "help text picocli could not format (write % as %%)");
        assertTrue(rendered.containsAll(List.of("lit4j study setups", "lit4j study size", "lit4j tune")), "nested commands rendered: " + rendered);
    }

    @Test
    void serveChecksItsOptionsBeforeLoadingTheModel(@TempDir Path dir) {
        oneLineError(run("serve", "--tls-cert", "cert.pem"), "--tls-cert and --tls-key go together");
        oneLineError(run("serve", "--api-keys-file", dir.resolve("none.txt").toString()), "none.txt: cannot read the API keys file");
        oneLineError(run("serve", "--port", "70000"), "port 70000");
        oneLineError(run("serve", "--max-body", "0"), "(got 0)");
        oneLineError(run("serve", "--small-batch-rows", "-1"), "--small-batch-rows and --idle-spin take 0 or more (got 0, -1, 0)");
        oneLineError(run("serve", "--idle-spin", "-5"), "(got 0, 64, -5)");
        assertTrue(run("serve", "--help").out().contains("--small-batch-rows=ROWS"), "the team lever is an option");
    }

    @Test
    void numbersAreCheckedUpFront() {
        oneLineError(run("info", "--threads", "0"), "--threads 0");
        oneLineError(run("info", "--threads", "-1"), "--threads -1");
        CliTest.Result many = run("info", "--threads", String.valueOf(Runtime.getRuntime().availableProcessors() + 3));
        assertEquals(0, many.code(), many.err());
        assertTrue(many.err().contains("warning: --threads"), many.err());
        Path sample = DefaultModel.samples().resolve("fashion-bag.png");
        oneLineError(run("classify", "--labels", "bag,shoe", "--top", "0", sample.toString()), "--top 0");
        oneLineError(run("classify", "--labels", "bag,shoe", "--top", "-3", sample.toString()), "--top -3");
        oneLineError(run("tune", "--model", "default", "--data", ".", "--out", "x", "--lr", "-1"), "--lr -1.0");
        oneLineError(run("dataset", "scenes", "--out", "x", "--train", "-5"), "--train -5");
        TuneOptions o = TuneOptions.builder().model("m").data("d").out("o").steps(50).warmup(100).build();
        assertTrue(o.doubts().getFirst().contains("--warmup 100"), o.doubts().toString());
        TuneOptions ll = TuneOptions.builder().model("m").data("d").out("o").setup("LL").build();
        assertTrue(ll.doubts().size() == 1 && ll.doubts().getFirst().contains("only the temperature trains"), ll.doubts().toString());
        assertEquals(List.of(), TuneOptions.builder().model("m").data("d").out("o").setup("LL").unfreeze(List.of("^txt\\.head\\.")).build()
                .doubts(), "LL with the text head unfrozen is what the setups study runs");
    }

    @Test
    void ablationChecksEverySetupBeforeTraining(@TempDir Path dir) throws Exception {
        Path textConfig = Files.writeString(dir.resolve("text.json"), "{}");
        CliTest.Result r = run("ablation", "--image-tower", DefaultModel.path().toString(), "--text-tower", textConfig.toString(),
                "--data", dir.toString(), "--eval-data", dir.toString(), "--setups", "Lu,uu,LU", "--out", dir.resolve("runs").toString());
        oneLineError(r, "setup LU starts from a pretrained text tower");
        assertFalse(Files.exists(dir.resolve("runs/Lu")), "nothing trained before the check");
    }

    /** The shipped bag sample at {@code bag}, the sneaker at {@code sneaker} (paths under {@code dir}, folders made). */
    private static void twoClassFolders(Path dir, String bag, String sneaker) throws Exception {
        for (String[] f : new String[][] {{bag, "fashion-bag.png"}, {sneaker, "fashion-sneaker.png"}}) {
            Files.createDirectories(dir.resolve(f[0]).getParent());
            Files.copy(DefaultModel.samples().resolve(f[1]), dir.resolve(f[0]));
        }
    }

    @Test
    void resumeRefusesOptionsItWouldIgnore(@TempDir Path dir) {
        oneLineError(run("tune", "--resume", dir.toString(), "--steps", "5000"), "--steps with --resume");
    }

    @Test
    void imagesFromFoldersGlobsAndStdinShowTheirPaths(@TempDir Path dir) throws Exception {
        twoClassFolders(dir, "a/x.png", "b/x.png");
        Files.writeString(dir.resolve("b/broken.png"), "not a png");
        CliTest.Result r = run("classify", "--labels", "bag,sneaker", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("a/x.png") && r.out().contains("b/x.png"), "paths relative to the folder: " + r.out());
        CliTest.Result j = run("classify", "--labels", "bag,sneaker", "--json", dir.toString());
        JsonObject o = JsonParser.parseString(j.out().strip()).getAsJsonObject();
        assertEquals(2, o.getAsJsonArray("images").size(), j.out());
        assertEquals(1, o.getAsJsonArray("skipped").size(), j.out());
        assertTrue(o.getAsJsonArray("skipped").get(0).getAsJsonObject().get("image").getAsString().endsWith("broken.png"), j.out());

        CliTest.Result g = run("classify", "--labels", "bag,sneaker", dir + "/*/x.png");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().contains("a/x.png") && g.out().contains("b/x.png"), g.out());
        oneLineError(run("classify", "--labels", "bag", dir + "/*.jpg"), "no files match");

        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream((dir.resolve("a/x.png") + "\n\n" + dir.resolve("b/x.png") + "\n").getBytes(StandardCharsets.UTF_8)));
            CliTest.Result s = run("classify", "--labels", "bag,sneaker", "-");
            assertEquals(0, s.code(), s.err());
            assertEquals(4, s.out().strip().lines().count(), "two rows under the header: " + s.out());
        } finally {
            System.setIn(stdin);
        }

        Path npy = dir.resolve("index.npy");
        CliTest.Result e = run("embed", "--images", dir.toString(), "--out", npy.toString(), "--json");
        assertEquals(0, e.code(), e.err());
        JsonObject eo = JsonParser.parseString(e.out().strip()).getAsJsonObject();
        assertEquals(2, eo.get("rows").getAsInt(), e.out());
        assertEquals(List.of("a/x.png", "b/x.png"), Files.readAllLines(EmbedCommand.idsFile(npy)));
        List<String> bad = Files.readAllLines(dir.resolve("index.bad_files.txt"));
        assertEquals(1, bad.size(), bad.toString());
        assertTrue(bad.getFirst().startsWith("b/broken.png\t"), bad.toString());

        CliTest.Result q = run("retrieve", "--index", npy.toString(), "--query", "a bag", "--top", "1", "--json");
        assertEquals(0, q.code(), q.err());
        assertEquals("a/x.png", JsonParser.parseString(q.out().strip()).getAsJsonObject().getAsJsonArray("hits").get(0)
                .getAsJsonObject().get("id").getAsString(), q.out());
    }

    @Test
    void evalReadsClassFoldersAndWritesNoPictureUnlessAsked(@TempDir Path dir) throws Exception {
        twoClassFolders(dir, "Bag/1.png", "Sneaker/1.png");
        CliTest.Result r = run("eval", "zeroshot", "--dataset", dir.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out().strip()).getAsJsonObject();
        assertEquals(2, o.get("n").getAsInt(), r.out());
        assertEquals(2, o.get("classes").getAsInt(), r.out());
        assertFalse(o.has("confusion_png"), r.out());
        CliTest.Result t = run("eval", "zeroshot", "--dataset", dir.toString());
        assertTrue(t.out().matches("(?s).*chance\\s+0\\.5\\b.*"), "numbers rounded in the table: " + t.out());
    }

    @Test
    void badPathsSayWhatToType(@TempDir Path dir) {
        oneLineError(run("embed", "--texts", dir.toString(), "--out", dir.resolve("t.npy").toString()), "is a folder");
        oneLineError(run("retrieve", "--index", dir.resolve("none.npy").toString(), "--query", "x"), "no such file");
    }

    @Test
    void labelsTheTokenizerCannotReadAreWarnedAbout() {
        Path sample = DefaultModel.samples().resolve("fashion-bag.png");
        CliTest.Result r = run("classify", "--labels", "bag,обувь", sample.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("label 'обувь'") && r.err().contains("unknown"), r.err());
        assertFalse(r.err().contains("label 'bag'"), r.err());
        CliTest.Result quiet = run("classify", "--labels", "bag,обувь", "--quiet", sample.toString());
        assertEquals("", quiet.err());
    }

    @Test
    void infoAndDatasetSpeakJson(@TempDir Path dir) {
        CliTest.Result i = run("info", "--json", "--threads", "1");
        assertEquals(0, i.code(), i.err());
        assertEquals(1, JsonParser.parseString(i.out().strip()).getAsJsonObject().get("threads").getAsInt(), i.out());
        CliTest.Result d = run("dataset", "scenes", "--out", dir.resolve("s").toString(), "--train", "4", "--test", "2", "--size", "16", "--json");
        assertEquals(0, d.code(), d.err());
        assertEquals(4, JsonParser.parseString(d.out().strip()).getAsJsonObject().get("train").getAsInt(), d.out());
    }

    @Test
    void demoSaysHowManyOfEachTableWereRight() {
        CliTest.Result r = run("demo", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*\\d+ of 10 right at top-1; garments.*\\d+ of 8 right at top-1; these colour-shape pairs were never seen together.*"),
                r.out());
    }
}
