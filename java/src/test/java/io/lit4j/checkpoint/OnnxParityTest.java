package io.lit4j.checkpoint;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Gelu;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.model.BertConfig;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real pretrained BERT read from ONNX: sentence-transformers' all-MiniLM-L6-v2 as shipped in
 * langchain4j's jar, loaded through {@link Checkpoints} (anonymous MatMul weights named by following
 * the graph), must give what ONNX Runtime gives on the same file and the same ids: the last hidden
 * state at every real token (absolute) and the sentence embedding (sentence-transformers' mean over real
 * tokens, then L2 normalisation, computed here from ONNX Runtime's output), to 1e-5 on both backends.
 */
class OnnxParityTest {
    static final double TOL = 1e-5;
    static final int CONTEXT = 24; // the texts are short; a smaller context keeps the scalar backend quick
    static final List<String> TEXTS = List.of("A photo of a cat sitting on a red sofa.", "two dogs",
            "Locked-image text tuning teaches a text model to read a frozen image model's embeddings.");

    @AutoClose
    static final Backend scalar = new ScalarBackend();
    @AutoClose
    static final Backend onednn = new OneDnnBackend(2);
    static Path dir;
    static TokenBatch tokens;
    static float[][][] hidden; // ONNX Runtime's last_hidden_state

    @BeforeAll
    static void runOnnxRuntime() throws Exception {
        dir = MiniLm.folder();
        try (TextTokenizer tok = TextTokenizer.load(dir.resolve("tokenizer.json"))) {
            tokens = tok.encode(TEXTS, CONTEXT, TextTokenizer.Policy.BERT_SEP);
        }
        int b = tokens.batch(), t = tokens.length();
        long[][] ids = new long[b][t], mask = new long[b][t], types = new long[b][t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                ids[i][j] = tokens.ids()[i * t + j];
                mask[i][j] = ids[i][j] != 0 ? 1 : 0;
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "lit4j-test");
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(2);
            so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            try (OrtSession s = env.createSession(dir.resolve("model.onnx").toString(), so);
                 OnnxTensor a = OnnxTensor.createTensor(env, ids);
                 OnnxTensor m = OnnxTensor.createTensor(env, mask);
                 OnnxTensor y = OnnxTensor.createTensor(env, types);
                 OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", y))) {
                hidden = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
            }
        }
    }

    @Test
    void theConfigComesFromTheFileAndItsGraph() {
        Checkpoints.Detected d = Checkpoints.inspect(dir);
        assertEquals(Checkpoints.Format.ONNX, d.format());
        BertConfig c = (BertConfig) d.config().text();
        // all-MiniLM-L6-v2's config.json: 6 layers, 384 wide, 12 heads, 1536 MLP, eps 1e-12, gelu (erf), 30522 x 512 x 2
        assertEquals(new BertConfig(30_522, 512, 2, 128, 384, 6, 12, 1536, 1e-12f, Gelu.ERF, 0, BertConfig.Pooling.MEAN, true), c);
        assertEquals(TextTokenizer.Policy.BERT_SEP, c.tokenPolicy());
    }

    @Test
    void matchesOnnxRuntimeOnBothBackends() {
        int b = tokens.batch(), t = tokens.length(), d = 384;
        float[] expected = sentenceEmbeddings(b, t, d);
        for (Backend be : new Backend[] {scalar, onednn}) {
            BertConfig c = (BertConfig) Checkpoints.inspect(dir).config().text();
            var cfg = new TwoTowerConfig(null, c.withContextLength(CONTEXT), null);
            try (TwoTower m = Checkpoints.load(be, dir, cfg)) {
                Map<String, float[]> seen = new HashMap<>();
                float[] z = m.embedTexts(tokens, (name, x) -> seen.put(name, be.download(x)));
                float[] enc = seen.get("encoded");
                double worst = 0;
                for (int i = 0; i < b; i++) {
                    for (int j = 0; j < t; j++) {
                        if (tokens.ids()[i * t + j] == 0) {
                            continue;
                        }
                        for (int k = 0; k < d; k++) {
                            worst = Math.max(worst, Math.abs(enc[(i * t + j) * d + k] - hidden[i][j][k]));
                        }
                    }
                }
                assertTrue(worst <= TOL, be.name() + ": last hidden state differs from ONNX Runtime's by " + worst);
                double worstZ = 0;
                for (int i = 0; i < z.length; i++) {
                    worstZ = Math.max(worstZ, Math.abs(z[i] - expected[i]));
                }
                assertTrue(worstZ <= TOL, be.name() + ": sentence embedding differs from ONNX Runtime's by " + worstZ);
            }
        }
    }

    /** sentence-transformers' Pooling (mean over tokens whose attention mask is 1) then Normalize, on ONNX Runtime's output. */
    private static float[] sentenceEmbeddings(int b, int t, int d) {
        float[] out = new float[b * d];
        for (int i = 0; i < b; i++) {
            double[] sum = new double[d];
            int n = 0;
            for (int j = 0; j < t; j++) {
                if (tokens.ids()[i * t + j] != 0) {
                    n++;
                    for (int k = 0; k < d; k++) {
                        sum[k] += hidden[i][j][k];
                    }
                }
            }
            double norm = 0;
            for (int k = 0; k < d; k++) {
                sum[k] /= Math.max(n, 1e-9);
                norm += sum[k] * sum[k];
            }
            norm = Math.max(Math.sqrt(norm), 1e-12); // torch.nn.functional.normalize's eps
            for (int k = 0; k < d; k++) {
                out[i * d + k] = (float) (sum[k] / norm);
            }
        }
        return out;
    }

    @Test
    void textsAreFramedAsTheTokenizerFileSays() throws Exception {
        // tokenizers' own post-processor (the file's TemplateProcessing: [CLS] $A [SEP]) must give lit4j's BERT_SEP ids
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of("padding", "false",
                "truncation", "false"))) {
            int t = tokens.length();
            for (int i = 0; i < TEXTS.size(); i++) {
                long[] want = hf.encode(TEXTS.get(i)).getIds();
                int[] have = new int[want.length];
                System.arraycopy(tokens.ids(), i * t, have, 0, want.length);
                assertArrayEquals(Arrays.stream(want).mapToInt(Math::toIntExact).toArray(), have, TEXTS.get(i));
                assertTrue(want.length == t || tokens.ids()[i * t + want.length] == 0, "padded with 0 after [SEP]");
            }
        }
    }

    @Test
    void theVersionLit4jLooksForIsTheOneTheBuildUses() {
        assertTrue(MiniLm.jar().getFileName().toString().endsWith("-" + KnownModels.MINILM_VERSION + ".jar"),
                MiniLm.jar() + " is not version " + KnownModels.MINILM_VERSION + ": keep KnownModels and the POM's minilm.version together");
    }
}
