package io.lit4j.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.MiniLm;
import io.lit4j.data.TextTokenizer;
import io.lit4j.datasets.Scenes;
import io.lit4j.embed.TextEmbedder;
import io.lit4j.model.BertConfig;
import io.lit4j.model.Presets;
import io.lit4j.model.TwoTower;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pretrained all-MiniLM-L6-v2 (ONNX) as the text tower of a LiT model, with a fresh head to
 * the shared dimension: locked (LL: the towers and their heads stay, only the temperature trains)
 * and unlocked (LU: the whole BERT trains through its mean pooling). A few steps each; the loss falls and the text
 * tower's weights stay or move as the setup says.
 */
class MiniLmTuneTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    @TempDir
    static Path dir;
    static Path data, minilm;
    @AutoClose
    static final Backend be = new OneDnnBackend(2);

    @BeforeAll
    static void setUp() throws Exception {
        data = dir.resolve("scenes");
        Scenes.generate(Scenes.Config.defaults().withSeed(3).withImageSize(32).withCounts(64, 0, 0).withCaptionsPerImage(2), data);
        // the context is the tokenizer.json's truncation length: 24 tokens hold these captions and keep the test quick
        minilm = dir.resolve("minilm24");
        Files.createDirectories(minilm);
        try { // a hard link (a symbolic one out of the temp folder makes JUnit warn when it cleans up)
            Files.createLink(minilm.resolve("model.onnx"), MiniLm.folder().resolve("model.onnx"));
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(MiniLm.folder().resolve("model.onnx"), minilm.resolve("model.onnx"));
        }
        JsonObject tok = JsonParser.parseString(Files.readString(MiniLm.folder().resolve("tokenizer.json"))).getAsJsonObject();
        tok.getAsJsonObject("truncation").addProperty("max_length", 24);
        Files.writeString(minilm.resolve("tokenizer.json"), tok.toString());
    }

    @ParameterizedTest(name = "setup {0}")
    @ValueSource(strings = {"LL", "LU"})
    void tunesThroughThePretrainedTextTower(String setup) throws Exception {
        Path out = dir.resolve("run-" + setup);
        TuneOptions o = TuneOptions.builder().imageTower(GOLDEN.resolve("vit_hf").toString()).textTower(minilm.toString()).embedDim(32)
                .data(data.resolve("train").toString()).setup(setup).steps(40).batch(16).lr(3e-3).warmup(1).seed(2).workers(1)
                .out(out.toString()).saveEvery(40).logEvery(1).cache("off").build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Tuner.Summary s = Tuner.run(be, o, new PrintStream(log, true));
        assertEquals(40, s.stepsDone(), log::toString);
        assertTrue(s.lastLoss() < s.firstLoss(), "loss should fall: " + s.firstLoss() + " -> " + s.lastLoss() + "\n" + log);
        try (TwoTower pre = Checkpoints.load(be, minilm); TwoTower tuned = Checkpoints.load(be, out.resolve("checkpoint"))) {
            BertConfig c = (BertConfig) tuned.config().text();
            assertEquals(BertConfig.Pooling.MEAN, c.pool());
            assertEquals(32, c.headDim(), "a fresh head maps MiniLM's 384 to the shared 32");
            for (String k : new String[] {"txt.blocks.0.mlp.fc1.kernel", "txt.tok", "txt.emb_norm.scale"}) {
                float[] before = be.download(pre.params().get(k)), after = be.download(tuned.params().get(k));
                if (setup.equals("LL")) {
                    assertArrayEquals(before, after, k + " is locked");
                } else {
                    assertFalse(Arrays.equals(before, after), k + " should have trained");
                }
            }
        }
    }

    /**
     * {@code --text-context}: MiniLM's tokenizer pads every text to 128 tokens; cut to 16, a caption
     * that fits gets the same embedding (positions come from the 512-row table, padding is masked),
     * at an eighth of the tokens. A tower whose position table is its context length refuses.
     */
    @Test
    void aShorterContextGivesTheSameEmbeddingsToCaptionsThatFit() {
        LockSpec lock = LockSpec.parse("LL", List.of(), List.of());
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        List<String> captions = List.of("a photo of a bag.", "a pair of sandals , 28 by 28 pixels", "a black and white photo of the t-shirt/top.");
        String vit = GOLDEN.resolve("vit_hf").toString(), text = MiniLm.folder().toString();
        try (TwoTower full = ModelBuilder.build(be, null, vit, text, 32, 0, null, lock, 2, 10, 0, quiet).model();
             TwoTower cut = ModelBuilder.build(be, null, vit, text, 32, 16, null, lock, 2, 10, 0, quiet).model();
             TextTokenizer tok = TextTokenizer.load(MiniLm.folder().resolve("tokenizer.json"))) {
            assertEquals(128, full.config().text().contextLength());
            assertEquals(16, cut.config().text().contextLength());
            TextEmbedder a = TextEmbedder.of(full, tok), b = TextEmbedder.of(cut, tok);
            assertTrue(Arrays.stream(b.encode(captions).lengths()).allMatch(n -> n <= 16), "the captions fit 16 tokens");
            float[] za = a.embed(captions), zb = b.embed(captions);
            for (int i = 0; i < za.length; i++) {
                assertEquals(za[i], zb[i], 2e-5f, "element " + i);
            }
        }
        LitException e = assertThrows(LitException.class, () -> ModelBuilder.withContextLength(Presets.text("text-Ti"), 8, "text-Ti"));
        assertTrue(e.getMessage().contains("--text-context 8") && e.getMessage().contains("txt.pos"), e.getMessage());
    }
}
