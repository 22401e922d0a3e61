package io.lit4j.checkpoint;

import com.google.gson.JsonParser;
import io.lit4j.LitModel;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.data.Preprocess;
import io.lit4j.data.PreprocessorConfig;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.model.ClipTextConfig;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.ForwardObserver;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;
import org.junit.jupiter.api.AutoClose;
import io.lit4j.train.AdamW;
import io.lit4j.train.ContrastiveLoss;
import io.lit4j.train.LockSpec;
import io.lit4j.train.Schedule;
import io.lit4j.train.TrainingSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.lit4j.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tiny HuggingFace CLIP folder (golden/clip_hf/: CLIPModel keys, config.json, tokenizer.json),
 * written by src/test/reference/make_clip_golden.py from its own transcription of transformers'
 * modeling_clip.py, loaded through the real loader with no config given: every block's output,
 * the pooled features, the projections and the embeddings of both towers match on both backends
 * to 1e-5, and the CLIP tokenizer gives the script's ids.
 */
class ClipParityTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final Path FOLDER = GOLDEN.resolve("clip_hf");
    static final double RTOL = 1e-5;

    @AutoClose
    static final Backend scalar = new ScalarBackend();
    @AutoClose
    static final Backend onednn = new OneDnnBackend(2);

    /** The golden file's arrays and metadata. */
    record Golden(Map<String, float[]> values, float[] images, int imageBatch, TokenBatch tokens, List<String> texts) {
        static Golden read() {
            try (SafetensorsReader r = SafetensorsReader.open(GOLDEN.resolve("clip_hf.safetensors"))) {
                Map<String, float[]> v = new HashMap<>();
                for (String k : r.keys()) {
                    if (!k.equals("txt_input")) {
                        v.put(k, r.read(k).toFloatArray());
                    }
                }
                HostArray img = r.read("img_input"), txt = r.read("txt_input");
                List<String> texts = new ArrayList<>();
                JsonParser.parseString(r.metadata().get("texts")).getAsJsonArray().forEach(e -> texts.add(e.getAsString()));
                return new Golden(v, img.toFloatArray(), (int) img.shape()[0],
                        new TokenBatch(txt.toIntArray(), (int) txt.shape()[0], (int) txt.shape()[1]), texts);
            }
        }
    }

    @Test
    void theConfigComesFromConfigJsonAndTheShapes() {
        Checkpoints.Detected d = Checkpoints.inspect(FOLDER);
        assertEquals(Checkpoints.Format.HUGGINGFACE_CLIP, d.format());
        TwoTowerConfig want = new TwoTowerConfig(
                new ViTConfig(32, 8, 3, 48, 2, 3, 96, ViTConfig.Pooling.TOK, 1e-5f, Gelu.QUICK, 40, ViTConfig.Layout.CLIP),
                new ClipTextConfig(527, 16, 32, 2, 4, 64, 1e-5f, Gelu.QUICK, 40, ClipTextConfig.LEGACY_EOS), TwoTowerConfig.Loss.SOFTMAX);
        assertEquals(want, d.config());
        try (TwoTower m = Checkpoints.load(scalar, FOLDER)) { // preprocessor_config.json: CLIP's documented preprocessing
            assertEquals(Preprocess.clip(32), m.preprocess());
        }
    }

    @Test
    void bothTowersMatchTheTranscribedForwardOnBothBackends() {
        Golden g = Golden.read();
        for (Backend be : new Backend[] {scalar, onednn}) {
            try (TwoTower m = Checkpoints.load(be, FOLDER)) {
                Map<String, float[]> seen = new HashMap<>();
                ForwardObserver obs = (name, t) -> seen.put(name, be.download(t));
                float[] zi = m.embedImages(g.images(), g.imageBatch(), obs);
                compare(g, "img_", seen, be);
                seen.clear();
                float[] zt = m.embedTexts(g.tokens(), obs);
                compare(g, "txt_", seen, be);
                assertClose("image embedding on " + be.name(), g.values().get("img_embedding"), zi, RTOL);
                assertClose("text embedding on " + be.name(), g.values().get("txt_embedding"), zt, RTOL);

                double scale = Math.exp(be.download(m.params().get("t"))[0]); // logit_scale.exp()
                int ni = g.imageBatch(), nt = g.tokens().batch(), e = m.config().embedDim();
                float[] logits = new float[ni * nt];
                for (int i = 0; i < ni; i++) {
                    for (int j = 0; j < nt; j++) {
                        double dot = 0;
                        for (int k = 0; k < e; k++) {
                            dot += (double) zi[i * e + k] * zt[j * e + k];
                        }
                        logits[i * nt + j] = (float) (scale * dot);
                    }
                }
                assertClose("logits_per_image on " + be.name(), g.values().get("logits_per_image"), logits, RTOL);
            }
        }
    }

    /** Every golden tensor of one tower ({@code img_block.0} is the pass's {@code block.0}) against what the pass produced. */
    private static void compare(Golden g, String prefix, Map<String, float[]> seen, Backend be) {
        int n = 0;
        for (var e : g.values().entrySet()) {
            String k = e.getKey();
            if (!k.startsWith(prefix) || k.endsWith("_input") || k.endsWith("_embedding")) {
                continue;
            }
            String name = k.substring(prefix.length());
            assertTrue(seen.containsKey(name), "the " + prefix + " pass never produced '" + name + "'");
            assertClose(k + " on " + be.name(), e.getValue(), seen.get(name), RTOL);
            n++;
        }
        assertTrue(n >= 4, prefix + ": too few golden tensors compared (" + n + ")");
    }

    /**
     * Tuning's gradients against torch autograd through the same transcription (clip_hf_grads):
     * both towers trainable (UU: the pre-LayerNorm, the folded class token, the end-of-text gather,
     * the causal blocks, the bias-free projections), and with the image tower locked (Lu, LiT's
     * setup), whose text gradients are the same.
     */
    @ParameterizedTest
    @ValueSource(strings = {"UU", "Lu"})
    void tuningGradientsMatchAutogradOnBothBackends(String setup) {
        Golden g = Golden.read();
        try (SafetensorsReader want = SafetensorsReader.open(GOLDEN.resolve("clip_hf_grads.safetensors"))) {
            for (Backend be : new Backend[] {scalar, onednn}) {
                try (TwoTower m = Checkpoints.load(be, FOLDER);
                     TrainingSession s = new TrainingSession(m, LockSpec.parse(setup, List.of(), List.of()),
                             new AdamW.Config(new Schedule(1e-3, 0, 1, 0), 0.9f, 0.999f, 1e-8f, 0f, 0f, AdamW.Config.kernelsOnly()),
                             TrainingSession.Options.of(g.tokens().batch()))) {
                    ContrastiveLoss.Result r = s.forwardBackward(g.images(), null, g.tokens());
                    String what = setup + " on " + be.name();
                    assertEquals(want.read("loss0").toFloatArray()[0], r.loss(), 1e-5, what + ": loss");
                    int compared = 0;
                    for (ParamSpec p : m.config().params()) {
                        boolean trains = s.lock().trainable(p.name());
                        assertEquals(trains, s.grads().has(p.name()), what + ": " + p.name() + " has a gradient iff it trains");
                        if (trains) {
                            assertClose(what + ": grad of " + p.name(), want.read("grad/" + p.name()).toFloatArray(),
                                    be.download(s.grads().get(p.name())), 1e-4);
                            compared++;
                        }
                    }
                    assertTrue(compared >= (setup.equals("UU") ? 50 : 25), what + ": only " + compared + " gradients compared");
                }
            }
        }
    }

    /** Through the public API (frozen, packed in place, tokenizer found beside): texts in, the reference embeddings out. */
    @Test
    void litModelEmbedsTheReferenceTextsAndPixels() {
        Golden g = Golden.read();
        try (LitModel m = LitModel.load(FOLDER, LitModel.Options.defaults().withThreads(2))) {
            assertEquals(Preprocess.clip(32), m.preprocess());
            assertClose("texts through LitModel", g.values().get("txt_embedding"), m.embedTexts(g.texts()), RTOL);
            assertClose("pixels through LitModel", g.values().get("img_embedding"), m.embedPixels(g.images(), g.imageBatch()), RTOL);
        }
    }

    /** A lit4j folder keeps a preprocessing that is not the layout's default (and writes none when it is). */
    @Test
    void savedFoldersKeepTheirPreprocessing(@TempDir Path dir) throws IOException {
        try (TwoTower m = Checkpoints.load(scalar, FOLDER)) {
            LitFormat.save(m, dir.resolve("plain"), null);
            assertFalse(Files.exists(dir.resolve("plain").resolve(PreprocessorConfig.FILE)), "CLIP's default needs no file");
            Preprocess custom = Preprocess.meanStd(32, Preprocess.Resize.SQUASH, Preprocess.IMAGENET_MEAN, Preprocess.IMAGENET_STD);
            m.setPreprocess(custom);
            LitFormat.save(m, dir.resolve("custom"), null);
            try (TwoTower back = Checkpoints.load(scalar, dir.resolve("custom"))) {
                assertEquals(custom, back.preprocess());
            }
        }
    }

    @Test
    void theClipTokenizerGivesTheReferenceIds() {
        Golden g = Golden.read();
        try (TextTokenizer tok = TextTokenizer.load(FOLDER)) {
            TextTokenizer.Encoded enc = tok.encodeChecked(g.texts(), g.tokens().length(), TextTokenizer.Policy.CLIP);
            assertArrayEquals(g.tokens().ids(), enc.batch().ids(), "ids of " + g.texts());
            assertArrayEquals(new boolean[] {false, false, true}, enc.tooLong(), "only the long caption is truncated");

            // CLIP's own length: 77, the end-of-text token kept at the end of a truncated text
            int bos = tok.id(TextTokenizer.CLIP_BOS), eos = tok.id(TextTokenizer.CLIP_EOS);
            TokenBatch b = tok.encode(List.of("A CAT", "a cat ".repeat(100)), 77, TextTokenizer.Policy.CLIP);
            int[] ids = b.ids();
            assertEquals(77, b.length());
            assertArrayEquals(new int[] {bos, tok.id("a</w>"), tok.id("cat</w>"), eos, eos}, Arrays.copyOf(ids, 5), "lowercased, framed, padded");
            assertEquals(bos, ids[77]);
            assertEquals(tok.id("a</w>"), ids[77 + 75]); // the 75th of "a cat a cat ..." : 75 ids fit
            assertEquals(tok.id("cat</w>"), ids[77 + 74]);
            assertEquals(eos, ids[77 + 76]);
        }
    }
}
