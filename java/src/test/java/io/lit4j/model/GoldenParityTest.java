package io.lit4j.model;

import com.google.gson.JsonParser;
import io.lit4j.backend.Backend;
import io.lit4j.backend.UnderTest;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsReader;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.lit4j.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity with the independent PyTorch reference (src/test/reference/make_golden.py): tiny towers
 * with random weights, loaded through the real loaders from each checkpoint format, must
 * reproduce every block's output, the pooled features, the head output and the embedding to
 * 1e-5 relative error, on both backends.
 */
class GoldenParityTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final double RTOL = 1e-5;

    @AutoClose
    static final Backend scalar = new ScalarBackend();
    @AutoClose
    static final Backend fast = UnderTest.open();

    @BeforeAll
    static void theBackendUnderTestCanRun() {
        UnderTest.assumeAvailable();
    }

    /** Expected tensors and the config of one golden case. */
    record Golden(String name, TwoTowerConfig config, Map<String, float[]> expected, float[] images, TokenBatch tokens) {
        static Golden read(String name) {
            Path file = GOLDEN.resolve(name + ".safetensors");
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                var meta = JsonParser.parseString(r.metadata().get("config"));
                boolean image = r.metadata().get("tower").equals("image");
                TwoTowerConfig cfg = image ? new TwoTowerConfig(ViTConfig.fromJson(meta, name), null, null)
                        : new TwoTowerConfig(null, TextConfig.fromJson(meta, name), null);
                Map<String, float[]> exp = new HashMap<>();
                for (String k : r.keys()) {
                    if (!k.equals("input")) {
                        exp.put(k, r.read(k).toFloatArray());
                    }
                }
                HostArray in = r.read("input");
                float[] images = image ? in.toFloatArray() : null;
                TokenBatch tokens = image ? null : new TokenBatch(in.toIntArray(), (int) in.shape()[0], (int) in.shape()[1]);
                return new Golden(name, cfg, exp, images, tokens);
            }
        }

        int batch() {
            return images != null ? (int) (expected.get("embedding").length / config.embedDim()) : tokens.batch();
        }
    }

    /** (golden name, weights path relative to the golden folder, use the golden's config or infer one). */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("vit", "vit", false),
                Arguments.of("vit", "vit_old.npz", true),
                Arguments.of("vit", "vit_scan.npz", true),
                Arguments.of("vit", "vit_old.npz", false),
                Arguments.of("vit_f16", "vit_f16.npz", true),
                Arguments.of("vit_gap", "vit_gap", false),
                Arguments.of("vit_gap", "vit_gap_posemb.npz", true), // an N+1 posemb without CLS: slot 0 dropped
                Arguments.of("vit_hf", "vit_hf_lit4j", false),
                Arguments.of("vit_hf", "vit_hf", false),
                Arguments.of("vit_hf", "vit_hf/model.safetensors", false),
                Arguments.of("txt", "txt", false),
                Arguments.of("txt", "txt.npz", false),
                Arguments.of("bert", "bert", false),
                Arguments.of("bert", "bert.npz", true),
                Arguments.of("bert_bv", "bert.npz", true),
                Arguments.of("bert_hf", "bert_hf_lit4j", false),
                Arguments.of("bert_hf", "bert_hf", false),
                Arguments.of("bert_hf", "bert_hf/model.safetensors", false));
    }

    @ParameterizedTest(name = "{0} from {1} (golden config: {2})")
    @MethodSource("cases")
    void matchesPyTorchOnBothBackends(String golden, String weights, boolean useGoldenConfig) {
        Golden g = Golden.read(golden);
        Path path = GOLDEN.resolve(weights);
        if (!useGoldenConfig) { // the loader must work the config out by itself
            Checkpoints.Detected d = Checkpoints.inspect(path);
            TwoTowerConfig detected = d.config();
            if (d.format() != Checkpoints.Format.LIT4J && detected.text() instanceof BertConfig b) { // BERT files do not carry the tokenized length (LiT: 16)
                assertEquals(16, b.contextLength());
                detected = new TwoTowerConfig(null, b.withContextLength(g.config().text().contextLength()), detected.loss());
            }
            assertEquals(g.config(), detected, "config detected from " + weights);
        }
        for (Backend be : new Backend[] {scalar, fast}) {
            try (TwoTower m = Checkpoints.load(be, path, useGoldenConfig ? g.config() : null)) {
                Map<String, float[]> seen = new HashMap<>();
                ForwardObserver obs = (name, t) -> seen.put(name, be.download(t));
                float[] emb = g.images() != null ? m.embedImages(g.images(), g.batch(), obs) : m.embedTexts(g.tokens(), obs);
                assertClose(golden + "/" + weights + " on " + be.name() + ": embedding", g.expected().get("embedding"), emb, RTOL);
                List<String> compared = new ArrayList<>();
                for (var e : g.expected().entrySet()) {
                    assertTrue(seen.containsKey(e.getKey()), "the forward pass never produced '" + e.getKey() + "'");
                    assertClose(golden + "/" + weights + " on " + be.name() + ": " + e.getKey(), e.getValue(), seen.get(e.getKey()), RTOL);
                    compared.add(e.getKey());
                }
                assertTrue(compared.contains("block.0") && compared.contains("pooled"), "golden file lacks intermediate tensors: " + compared);
            }
        }
    }

    @Test
    void twoTowerLitNpzGivesTheReferenceLogits() {
        Path file = GOLDEN.resolve("lit_tiny.npz");
        try (SafetensorsReader r = SafetensorsReader.open(GOLDEN.resolve("lit_tiny.safetensors"))) {
            HostArray img = r.read("img_input");
            HostArray txt = r.read("txt_input");
            float[] expImg = r.read("img_embedding").toFloatArray();
            float[] expTxt = r.read("txt_embedding").toFloatArray();
            float[] expLogits = r.read("logits").toFloatArray();
            TwoTowerConfig cfg = Checkpoints.inspect(file).config();
            assertTrue(cfg.hasImage() && cfg.hasText(), "a LiT npz holds both towers");
            for (Backend be : new Backend[] {scalar, fast}) {
                try (TwoTower m = Checkpoints.load(be, file)) {
                    int b = (int) img.shape()[0];
                    float[] zi = m.embedImages(img.toFloatArray(), b);
                    float[] zt = m.embedTexts(new TokenBatch(txt.toIntArray(), (int) txt.shape()[0], (int) txt.shape()[1]));
                    assertClose("lit_tiny image embedding on " + be.name(), expImg, zi, RTOL);
                    assertClose("lit_tiny text embedding on " + be.name(), expTxt, zt, RTOL);
                    assertEquals(10.0, m.temperature(), 1e-5);
                    int e = cfg.embedDim(), nt = (int) txt.shape()[0];
                    float[] logits = new float[b * nt];
                    for (int i = 0; i < b; i++) {
                        for (int j = 0; j < nt; j++) {
                            double dot = 0;
                            for (int k = 0; k < e; k++) {
                                dot += (double) zi[i * e + k] * zt[j * e + k];
                            }
                            logits[i * nt + j] = (float) (m.temperature() * dot);
                        }
                    }
                    assertClose("lit_tiny logits on " + be.name(), expLogits, logits, RTOL);
                }
            }
        }
    }

    @Test
    void theToleranceSeesTheGeluVariant() {
        // bert and bert_bv share weights and differ only in tanh vs erf GELU: loading with the
        // wrong variant must be far outside the tolerance, or the parity checks prove nothing.
        Golden tanh = Golden.read("bert_bv");
        Golden erf = Golden.read("bert");
        try (TwoTower m = Checkpoints.load(fast, GOLDEN.resolve("bert.npz"), erf.config())) {
            float[] emb = m.embedTexts(tanh.tokens());
            double err = io.lit4j.Assertions2.relativeError(tanh.expected().get("embedding"), emb);
            assertTrue(err > 10 * RTOL, "erf vs tanh GELU differ by only " + err);
        }
    }

    @Test
    void goldenFilesAreThere() {
        assertTrue(Files.isDirectory(GOLDEN), "run src/test/reference/make_golden.py to create " + GOLDEN);
    }
}
