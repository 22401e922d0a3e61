package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.io.ArraySource;
import io.lit4j.io.NpzWriter;
import io.lit4j.io.SafetensorsWriter;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.train.AdamW;
import io.lit4j.train.ContrastiveLoss;
import io.lit4j.train.LockSpec;
import io.lit4j.train.Schedule;
import io.lit4j.train.TrainingSession;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.lit4j.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SigLIP against the independent PyTorch transcriptions of big_vision and transformers
 * (src/test/reference/make_siglip_golden.py): the same tiny two-tower model in four layouts
 * (big_vision per-block, scanned under {@code params/}, bf16 stored as numpy {@code V2}, and a
 * HuggingFace SiglipModel folder), loaded with no config through the real loaders, must give the
 * reference embeddings and sigmoid logits to 1e-5 on both backends; and its sigmoid-loss
 * gradients, MAP head included, must match autograd's to 1e-4 with the head trainable, locked, or
 * the only thing that trains.
 */
class SiglipParityTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final double RTOL = 1e-5;

    @AutoClose
    static final Backend scalar = new ScalarBackend();
    @AutoClose
    static final Backend onednn = new OneDnnBackend(2);
    static final Backend[] backends = {scalar, onednn};

    record Golden(float[] images, TokenBatch tokens, Map<String, float[]> values) {
        static Golden read(String file) {
            try (SafetensorsReader r = SafetensorsReader.open(GOLDEN.resolve(file))) {
                Map<String, float[]> v = new HashMap<>();
                for (String k : r.keys()) {
                    if (!k.endsWith("_input")) {
                        v.put(k, r.read(k).toFloatArray());
                    }
                }
                HostArray txt = r.read("txt_input");
                return new Golden(r.read("img_input").toFloatArray(), new TokenBatch(txt.toIntArray(), (int) txt.shape()[0],
                        (int) txt.shape()[1]), v);
            }
        }

        int batch() {
            return tokens.batch();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"siglip.npz", "siglip_scan.npz", "siglip_hf", "siglip_hf/model.safetensors", "siglip_bf16.npz"})
    void embedsAndScoresLikeTheReference(String weights) {
        Golden g = Golden.read(weights.startsWith("siglip_bf16") ? "siglip_bf16.safetensors" : "siglip.safetensors");
        TwoTowerConfig cfg = Checkpoints.inspect(GOLDEN.resolve(weights)).config();
        assertEquals(ViTConfig.Pooling.MAP, cfg.image().pool(), weights);
        assertEquals(0, cfg.image().headDim(), weights + ": SigLIP's image embedding is the MAP head's output");
        assertEquals(4, cfg.image().heads(), weights);
        assertEquals(48, cfg.text().headDim(), weights);
        assertEquals(TwoTowerConfig.Loss.SIGMOID, cfg.loss(), weights + ": SigLIP tunes with the sigmoid loss");
        for (Backend be : backends) {
            try (TwoTower m = Checkpoints.load(be, GOLDEN.resolve(weights))) {
                String what = weights + " on " + be.name();
                Map<String, float[]> seen = new HashMap<>();
                float[] zi = m.embedImages(g.images(), g.batch(), (name, t) -> seen.put(name, be.download(t)));
                float[] zt = m.embedTexts(g.tokens());
                assertClose(what + ": pooled (MAP head output)", g.values().get("img_pooled"), seen.get("pooled"), RTOL);
                assertClose(what + ": image embedding", g.values().get("img_embedding"), zi, RTOL);
                assertClose(what + ": text embedding", g.values().get("txt_embedding"), zt, RTOL);
                assertClose(what + ": logits", g.values().get("logits"), logits(m, be, zi, zt), RTOL);
            }
        }
    }

    /** exp(t) · zimg · ztxtᵀ + b, as SigLIP scores pairs. */
    static float[] logits(TwoTower m, Backend be, float[] zi, float[] zt) {
        int e = m.config().embedDim(), n = zi.length / e, k = zt.length / e;
        double b = be.download(m.params().get("b"))[0];
        float[] out = new float[n * k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double dot = 0;
                for (int c = 0; c < e; c++) {
                    dot += (double) zi[i * e + c] * zt[j * e + c];
                }
                out[i * k + j] = (float) (m.temperature() * dot + b);
            }
        }
        return out;
    }

    @TempDir
    Path tmp;

    private static void assertEmbedsLikeTheReference(String what, Path weights, boolean image, boolean text) {
        Golden g = Golden.read("siglip.safetensors");
        for (Backend be : backends) {
            try (TwoTower m = Checkpoints.load(be, weights)) {
                assertEquals(image, m.config().hasImage(), what);
                assertEquals(text, m.config().hasText(), what);
                if (image) {
                    assertClose(what + " image on " + be.name(), g.values().get("img_embedding"), m.embedImages(g.images(), g.batch()), RTOL);
                }
                if (text) {
                    assertClose(what + " text on " + be.name(), g.values().get("txt_embedding"), m.embedTexts(g.tokens()), RTOL);
                }
            }
        }
    }

    @Test
    void theInlinedMapHeadOfViTGEraFilesLoads() {
        // fix_old_checkpoints: "MAP-head variants during ViT-G development had it inlined" (img/probe, ...)
        Path npz = tmp.resolve("inlined.npz");
        try (ArraySource src = ArraySource.open(GOLDEN.resolve("siglip.npz")); NpzWriter w = NpzWriter.create(npz)) {
            for (String k : src.keys()) {
                w.put(k.replace("img/MAPHead_0/", "img/"), src.info(k).shape(), src.readFloats(k));
            }
        }
        assertEquals(ViTConfig.Pooling.MAP, Checkpoints.inspect(npz).config().image().pool());
        assertEmbedsLikeTheReference("inlined MAP head", npz, true, true);
    }

    @Test
    void singleTowerHuggingFaceFilesLoadEitherTower() throws IOException {
        for (String tower : new String[] {"vision_model.", "text_model."}) {
            Path dir = Files.createDirectories(tmp.resolve(tower.replace(".", "")));
            Files.copy(GOLDEN.resolve("siglip_hf/config.json"), dir.resolve("config.json"));
            try (SafetensorsReader r = SafetensorsReader.open(GOLDEN.resolve("siglip_hf/model.safetensors"))) {
                List<HostArray> keep = new ArrayList<>();
                for (String k : r.keys()) {
                    if (k.startsWith(tower)) {
                        keep.add(r.read(k));
                    }
                }
                SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("format", "pt"), keep);
            }
            assertEmbedsLikeTheReference(tower + " only", dir, tower.startsWith("vision"), tower.startsWith("text"));
        }
    }

    @Test
    void aSiglipModelRoundTripsThroughLit4jsOwnFormatBitForBit() {
        Golden g = Golden.read("siglip.safetensors");
        Path dir = tmp.resolve("lit");
        try (TwoTower m = Checkpoints.load(scalar, GOLDEN.resolve("siglip_bf16.npz"))) {
            LitFormat.save(m, dir, null);
            try (TwoTower back = Checkpoints.load(scalar, dir)) {
                assertEquals(m.config(), back.config());
                assertArrayEquals(m.embedImages(g.images(), g.batch()), back.embedImages(g.images(), g.batch()));
                assertArrayEquals(m.embedTexts(g.tokens()), back.embedTexts(g.tokens()));
                assertArrayEquals(scalar.download(m.params().get("b")), scalar.download(back.params().get("b")));
            }
        }
    }

    @Test
    void bf16RoundingIsVisibleAtTheTolerance() {
        // the bf16 file's goldens come from its rounded weights; the fp32 goldens must be far off
        Golden f32 = Golden.read("siglip.safetensors");
        try (TwoTower m = Checkpoints.load(onednn, GOLDEN.resolve("siglip_bf16.npz"))) {
            float[] zi = m.embedImages(f32.images(), f32.batch());
            assertTrue(io.lit4j.Assertions2.relativeError(f32.values().get("img_embedding"), zi) > 10 * RTOL,
                    "bf16 weights should not reproduce the fp32 reference");
        }
    }

    @Test
    void frozenAndBf16EmbeddingCallsUseTheMapHeadToo() {
        Golden g = Golden.read("siglip.safetensors");
        for (Backend be : backends) {
            try (TwoTower m = Checkpoints.load(be, GOLDEN.resolve("siglip_scan.npz"))) {
                m.setPrecision(Precision.BF16);
                float[] bf16 = m.embedImages(g.images(), g.batch());
                assertClose("bf16 image embedding on " + be.name(), g.values().get("img_embedding"), bf16, 3e-2);
                m.setPrecision(Precision.FP32);
                m.freezeForInference(); // kernels packed in place, the MAP head's included
                assertClose("frozen image embedding on " + be.name(), g.values().get("img_embedding"), m.embedImages(g.images(), g.batch()),
                        RTOL);
                assertClose("frozen text embedding on " + be.name(), g.values().get("txt_embedding"), m.embedTexts(g.tokens()), RTOL);
            }
        }
    }

    /** Sigmoid-loss gradients of the siglip model under {@code freeze} (regexes), each trainable one against autograd's. */
    private static void checkGradients(List<String> freeze, List<String> unfreeze, int minCompared) {
        Golden g = Golden.read("siglip.safetensors");
        AdamW.Config opt = new AdamW.Config(new Schedule(1e-3, 1, 10, 0), 0.9f, 0.999f, 1e-8f, 0f, 0f, AdamW.Config.kernelsOnly());
        for (Backend be : backends) {
            try (TwoTower m = Checkpoints.load(be, GOLDEN.resolve("siglip.npz"));
                 TrainingSession s = new TrainingSession(m, LockSpec.parse("UU", freeze, unfreeze), opt,
                         TrainingSession.Options.of(g.batch()))) {
                ContrastiveLoss.Result res = s.forwardBackward(g.images(), null, g.tokens());
                String what = "siglip freeze " + freeze + " unfreeze " + unfreeze + " on " + be.name();
                double loss0 = g.values().get("loss0")[0];
                assertEquals(loss0, res.loss(), 1e-5 * Math.max(1, Math.abs(loss0)), what + ": loss");
                int compared = 0;
                for (ParamSpec p : m.config().params()) {
                    if (s.lock().trainable(p.name())) {
                        assertClose(what + ": grad of " + p.name(), g.values().get("grad/" + p.name()),
                                be.download(s.grads().get(p.name())), 1e-4);
                        compared++;
                    } else {
                        assertEquals(null, s.grads().get(p.name()), what + ": a frozen " + p.name() + " has no gradient");
                    }
                }
                assertTrue(compared >= minCompared, what + ": only " + compared + " gradients compared");
            }
        }
    }

    @Test
    void everyGradientMatchesAutogradWithTheMapHeadTrainable() {
        checkGradients(List.of(), List.of(), 60);
    }

    @Test
    void theTowerBelowALockedMapHeadStillTrains() {
        checkGradients(List.of("img\\.map\\..*"), List.of(), 40);
    }

    @Test
    void theMapHeadAloneTrains() {
        checkGradients(List.of("img\\..*"), List.of("img\\.map\\..*"), 11);
    }

    @Test
    void aConfigWithAnotherHeadCountIsRefusedNamingTheKey() {
        TwoTowerConfig file = Checkpoints.inspect(GOLDEN.resolve("siglip.npz")).config();
        ViTConfig i = file.image();
        ViTConfig eight = new ViTConfig(i.imageSize(), i.patchSize(), i.channels(), i.width(), i.depth(), 8, i.mlpDim(), i.pool(),
                i.lnEps(), i.gelu(), i.headDim());
        for (String weights : new String[] {"siglip.npz", "siglip_scan.npz"}) {
            LitException e = assertThrows(LitException.class,
                    () -> Checkpoints.load(scalar, GOLDEN.resolve(weights), new TwoTowerConfig(eight, file.text(), file.loss())));
            assertTrue(e.getMessage().contains(weights) && e.getMessage().contains("query/kernel") && e.getMessage().contains("4 attention heads")
                    && e.getMessage().contains("says 8"), e.getMessage());
        }
        TextTransformerConfig t = (TextTransformerConfig) file.text();
        TextTransformerConfig two = new TextTransformerConfig(t.vocabSize(), t.contextLength(), t.width(), t.depth(), 2, t.mlpDim(),
                t.pool(), t.lnEps(), t.gelu(), t.headDim());
        LitException e = assertThrows(LitException.class,
                () -> Checkpoints.load(scalar, GOLDEN.resolve("siglip.npz"), new TwoTowerConfig(file.image(), two, file.loss())));
        assertTrue(e.getMessage().contains("txt/Encoder_0/encoderblock_0/MultiHeadDotProductAttention_0/query/kernel")
                && e.getMessage().contains("says 2"), e.getMessage());
    }

    @Test
    void aGapPosembWithAnExtraRowLosesItAsBigVisionDoes() {
        // vit_gap's weights in big_vision naming with a random slot 0 in a [1, N+1, D] posemb
        TwoTowerConfig detected = Checkpoints.inspect(GOLDEN.resolve("vit_gap_posemb.npz")).config();
        assertEquals(ViTConfig.Pooling.GAP, detected.image().pool());
        assertEquals(32, detected.image().imageSize(), "16 + 1 position embeddings are a 4x4 grid and a dropped slot");
    }
}
