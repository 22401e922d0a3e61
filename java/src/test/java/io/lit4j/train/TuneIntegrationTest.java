package io.lit4j.train;

import io.lit4j.backend.Backend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.Preprocess;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenizerBuilder;
import io.lit4j.datasets.Scenes;
import io.lit4j.model.BertConfig;
import io.lit4j.model.ClipTextConfig;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tuning runs end to end on a small scenes folder, with towers loaded from each checkpoint format
 * (big_vision npz, HuggingFace safetensors, lit4j folders) and both text towers: the loss falls,
 * and metrics.jsonl, the curves PNG and a loadable checkpoint appear.
 */
class TuneIntegrationTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    @TempDir
    static Path dir;
    static Path data;
    @AutoClose
    static final Backend be = new OneDnnBackend(2);

    @BeforeAll
    static void setUp() {
        data = dir.resolve("scenes");
        Scenes.generate(Scenes.Config.defaults().withSeed(5).withImageSize(32).withCounts(256, 0, 64).withCaptionsPerImage(2), data);
    }

    @ParameterizedTest(name = "image {0} + text {1}, setup {2}")
    @CsvSource({
            "vit_old.npz,bert,Lu",        // big_vision npz image tower, lit4j BERT folder, LiT
            "vit_hf,txt,Lu",              // HuggingFace ViT (no head: one is added), text transformer
            "vit_scan.npz,txt,UU",        // both towers unlocked (no embedding cache)
            "siglip.npz,txt,Lu",          // SigLIP's MAP-pooled image tower, locked; its sigmoid loss by default
            "siglip_hf,txt,UU",           // HuggingFace SigLIP, the MAP head trained with the rest
            "clip_hf,txt,Lu",             // HuggingFace CLIP's vision tower locked, a new text transformer
    })
    void tunesWithTowersFromEveryFormat(String image, String text, String setup) throws Exception {
        Path out = dir.resolve("run-" + image.replace('.', '_') + "-" + text + "-" + setup);
        TuneOptions.Builder o = TuneOptions.builder().imageTower(GOLDEN.resolve(image).toString()).textTower(GOLDEN.resolve(text).toString())
                .embedDim(40).data(data.resolve("train").toString()).setup(setup).steps(30).batch(16).lr(3e-3).warmup(3).seed(1).workers(1)
                .out(out.toString()).saveEvery(15).logEvery(1).evalData(data.resolve("test").toString()).evalEvery(15).evalLimit(64)
                .vocabSize(100).cache(dir.resolve("cache").toString());
        // the golden text towers come without a tokenizer: 'u' builds one from the captions, U/L need one given
        TuneOptions opts = (setup.charAt(1) == 'u' ? o : o.tokenizer(tokenizerFor(out).toString())).build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Tuner.Summary s = Tuner.run(be, opts, new PrintStream(log, true));
        assertEquals(30, s.stepsDone(), log::toString);
        assertTrue(s.lastLoss() < s.firstLoss(), "loss should fall: " + s.firstLoss() + " -> " + s.lastLoss());
        assertTrue(Files.size(out.resolve("metrics.jsonl")) > 0 && Files.size(out.resolve("curves.png")) > 1000);
        assertTrue(s.lastEval().containsKey("eval_top1"), "the scenes test split has labels: zero-shot eval ran");
        try (TwoTower m = Checkpoints.load(be, out.resolve("checkpoint"))) {
            assertEquals(40, m.config().embedDim());
            assertEquals(text.equals("bert"), m.config().text() instanceof BertConfig);
            assertEquals(image.startsWith("siglip") ? TwoTowerConfig.Loss.SIGMOID : TwoTowerConfig.Loss.SOFTMAX, m.config().loss(),
                    "the image tower's own loss is the default");
            assertEquals(image.startsWith("siglip") ? ViTConfig.Pooling.MAP : m.config().image().pool(), m.config().image().pool());
        }
    }

    /** LiT on both of CLIP's towers: its image tower locked, its own text tower tuned with the CLIP tokenizer found beside it. */
    @Test
    void tunesClipsTextTowerAgainstItsLockedImageTower() {
        Path out = dir.resolve("run-clip-LU");
        String clip = GOLDEN.resolve("clip_hf").toString();
        TuneOptions opts = TuneOptions.builder().imageTower(clip).textTower(clip).data(data.resolve("train").toString()).setup("LU")
                .steps(20).batch(16).lr(1e-3).warmup(2).seed(1).workers(1).out(out.toString()).saveEvery(20).logEvery(1)
                .cache(dir.resolve("cache").toString()).build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Tuner.Summary s = Tuner.run(be, opts, new PrintStream(log, true));
        assertEquals(20, s.stepsDone(), log::toString);
        assertTrue(s.lastLoss() < s.firstLoss(), "loss should fall: " + s.firstLoss() + " -> " + s.lastLoss());
        try (TwoTower m = Checkpoints.load(be, out.resolve("checkpoint"))) {
            assertTrue(m.config().text() instanceof ClipTextConfig, "the tuned text tower is CLIP's");
            assertEquals(ViTConfig.Layout.CLIP, m.config().image().layout());
            assertEquals(Preprocess.clip(32), m.preprocess(), "CLIP's preprocessing survives the lit4j checkpoint");
        }
    }

    /** A HuggingFace SigLIP folder with its spiece.model: tuned with SiglipTokenizer's conventions, which the checkpoint carries. */
    @Test
    void tunesSiglipsTextTowerWithItsOwnTokenizerConventions() throws Exception {
        Path siglip = Files.createDirectories(dir.resolve("siglip-with-spiece"));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(GOLDEN.resolve("siglip_hf").resolve(f), siglip.resolve(f));
        }
        Files.copy(GOLDEN.resolve("spm/tiny.model"), siglip.resolve("spiece.model"));
        Path out = dir.resolve("run-siglip-LU");
        TuneOptions opts = TuneOptions.builder().imageTower(siglip.toString()).textTower(siglip.toString()).data(data.resolve("train").toString())
                .setup("LU").steps(6).batch(16).lr(1e-3).warmup(2).seed(1).workers(1).out(out.toString()).saveEvery(6).logEvery(1)
                .cache(dir.resolve("cache").toString()).build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        assertEquals(6, Tuner.run(be, opts, new PrintStream(log, true)).stepsDone(), log::toString);
        Path conv = out.resolve("checkpoint").resolve(TextTokenizer.CONVENTIONS);
        assertTrue(Files.isRegularFile(conv), "the checkpoint carries the conventions it was tuned with");
        try (TextTokenizer t = TextTokenizer.load(out.resolve("checkpoint"))) {
            TextTokenizer.Conventions c = t.conventions().orElseThrow();
            assertEquals(new TextTokenizer.Conventions(TextTokenizer.Conventions.Eos.STICKY, 1, true, true), c, "SiglipTokenizer's");
        }
    }

    private static Path tokenizerFor(Path out) throws Exception {
        Path tok = out.resolveSibling(out.getFileName() + "-tokenizer.json");
        List<String> corpus = new ArrayList<>();
        try (var ds = CaptionDataset.open(data.resolve("train"))) {
            ds.rows().forEach(r -> corpus.addAll(r.captions()));
        }
        TokenizerBuilder.build(corpus, 100, tok);
        return tok;
    }
}
