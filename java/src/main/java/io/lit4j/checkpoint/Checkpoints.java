package io.lit4j.checkpoint;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.data.PreprocessorConfig;
import io.lit4j.data.TextTokenizer;
import io.lit4j.io.ArrayInfo;
import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.TextTransformerConfig;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.tensor.Shapes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads a model from whatever the user points at: a lit4j folder, a big_vision LiT or SigLIP
 * {@code .npz}, a HuggingFace {@code ViTModel}/{@code BertModel}/{@code SiglipModel}/CLIP
 * safetensors file or folder, a BERT exported to ONNX ({@code .onnx}, or a folder with
 * {@code model.onnx}), or a model lit4j knows by name ({@link KnownModels}: {@code minilm}). The format is
 * detected; the config comes from the folder, or is inferred from the arrays' shapes, unless
 * the caller passes one (which the shapes must then match).
 */
public final class Checkpoints {
    private Checkpoints() {
    }

    /** The formats lit4j reads. */
    public enum Format {
        LIT4J, BIG_VISION_NPZ, HUGGINGFACE,
        /** HuggingFace CLIP ({@code model_type: clip}), both towers or one. */
        HUGGINGFACE_CLIP,
        /** A BERT encoder exported to ONNX, read under HF BertModel names. */
        ONNX
    }

    /** What a path holds: its format, the weights file, and the model's config. */
    public record Detected(Format format, Path weights, TwoTowerConfig config) {
    }

    /**
     * Works out the format and config of {@code path} without loading weights. An error names the
     * file: one from a config's own checks (a size inferred from the arrays) gets the file put in front.
     */
    public static Detected inspect(Path path) {
        try {
            return detect(path);
        } catch (LitException e) {
            if (e.getMessage().contains(path.getFileName().toString())) {
                throw e;
            }
            throw new CheckpointException(path, null, e.getMessage(), e);
        }
    }

    private static Detected detect(Path path) {
        if (!Files.exists(path) && KnownModels.isName(path.toString())) {
            path = KnownModels.resolve(path.toString());
        }
        if (!Files.exists(path)) {
            throw new LitException(path + ": no such file or folder (expected a lit4j model folder, a big_vision .npz or HuggingFace safetensors)");
        }
        if (Files.isDirectory(path)) {
            if (LitFormat.isLitFolder(path)) {
                return new Detected(Format.LIT4J, path.resolve(LitFormat.WEIGHTS), LitFormat.readConfig(path));
            }
            Path st = path.resolve("model.safetensors");
            if (Files.isRegularFile(st)) {
                return detect(st);
            }
            Path onnx = path.resolve("model.onnx");
            if (Files.isRegularFile(onnx)) {
                return detect(onnx);
            }
            List<Path> npz = list(path, ".npz");
            if (npz.size() == 1) {
                return detect(npz.get(0));
            }
            refusePickles(list(path, ".bin"));
            throw new LitException(path + ": not a model folder (expected config.json + model.safetensors, model.onnx, or one big_vision .npz"
                    + (npz.size() > 1 ? "; found several .npz files: pass one" : "") + ")");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".ckpt")) {
            refusePickles(List.of(path));
        }
        if (name.endsWith(".npz")) {
            try (ArraySource file = ArraySource.open(path)) {
                ArraySource src = BigVisionFormat.view(file);
                if (!BigVisionFormat.looksLike(src)) {
                    throw new CheckpointException(path, "no img/ or txt/ arrays (nor params/img/, params/txt/): not a big_vision"
                            + " LiT or SigLIP checkpoint");
                }
                return new Detected(Format.BIG_VISION_NPZ, path, BigVisionFormat.inferConfig(src));
            }
        }
        if (name.endsWith(".safetensors")) {
            try (SafetensorsReader src = SafetensorsReader.open(path)) {
                String json = src.metadata().get(LitFormat.METADATA_KEY);
                if (json != null) {
                    return new Detected(Format.LIT4J, path, TwoTowerConfig.parse(json, path + " metadata"));
                }
                Path parent = path.toAbsolutePath().getParent();
                if (LitFormat.isLitFolder(parent) && parent.resolve(LitFormat.WEIGHTS).equals(path.toAbsolutePath())) {
                    return new Detected(Format.LIT4J, path, LitFormat.readConfig(parent));
                }
                if (HfClipFormat.looksLike(src)) {
                    return new Detected(Format.HUGGINGFACE_CLIP, path, HfClipFormat.inferConfig(src));
                }
                if (HuggingFaceFormat.looksLike(src)) {
                    return new Detected(Format.HUGGINGFACE, path, HuggingFaceFormat.inferConfig(src));
                }
                throw new CheckpointException(path, "neither a lit4j model nor a HuggingFace ViT/BERT/SigLIP (its keys start with "
                        + src.keys().stream().limit(3).toList() + ")");
            }
        }
        if (name.endsWith(".onnx")) {
            try (OnnxFormat.View src = OnnxFormat.open(path)) {
                return new Detected(Format.ONNX, path, OnnxFormat.inferConfig(src));
            }
        }
        throw new LitException(path + ": not a model (lit4j reads model folders, .npz, .safetensors and .onnx)");
    }

    /**
     * How the project a checkpoint comes from frames texts, for a SentencePiece {@code .model} found
     * beside it with no {@link TextTokenizer#CONVENTIONS} (see {@link TextTokenizer#load(Path, TextTokenizer.Conventions)});
     * null where the tower's own policy applies (lit4j folders carry their conventions file; BERT,
     * CLIP and the other formats frame by the tower).
     * <ul>
     *   <li>big_vision's text transformer (LiT, SigLIP): {@code tokenize(max_len, model, eos="sticky",
     *       pad_value=1)} as its LiT and SigLIP configs and the SigLIP demo write it, with
     *       {@code get_pp_tokenize}'s default {@code lower=True} (big_vision/pp/ops_text.py).</li>
     *   <li>big_vision SigLIP 2 (the 256,000-piece Gemma vocabulary): {@code lower|tok(length=64,
     *       model='gemma', bos='no', eos='sticky')}, padded with the tokenizer's own pad id
     *       (big_vision/pp/proj/paligemma/ops.py, get_tokenize).</li>
     *   <li>HuggingFace SigLIP with {@code spiece.model}: transformers' SiglipTokenizer
     *       (models/siglip/tokenization_siglip.py): {@code do_lower_case=True} (lowercased in
     *       PreTrainedTokenizer.tokenize), canonicalize_text, EOS appended and kept when truncated,
     *       padded with {@code pad_token="</s>"}, the EOS.</li>
     * </ul>
     * The length is the text tower's context length (64 in the published SigLIPs).
     */
    public static TextTokenizer.Conventions textConventions(Path path) {
        Detected d = inspect(path);
        if (!(d.config().text() instanceof TextTransformerConfig t)) {
            return null;
        }
        return switch (d.format()) {
            case BIG_VISION_NPZ -> t.vocabSize() == GEMMA_VOCAB
                    ? new TextTokenizer.Conventions(TextTokenizer.Conventions.Eos.STICKY, TextTokenizer.Conventions.MODEL_PAD, true)
                    : new TextTokenizer.Conventions(TextTokenizer.Conventions.Eos.STICKY, 1, true);
            case HUGGINGFACE -> new TextTokenizer.Conventions(TextTokenizer.Conventions.Eos.STICKY, TextTokenizer.Conventions.EOS_PAD, true,
                    true); // only SigLIP gives an HF text transformer
            default -> null;
        };
    }

    /** SigLIP 2's text vocabulary: Gemma's SentencePiece model. */
    static final int GEMMA_VOCAB = 256_000;

    /** Loads {@code path} with the config in it or inferred from it. */
    public static TwoTower load(Backend backend, Path path) {
        return load(backend, path, null);
    }

    /**
     * Loads {@code path}; with a non-null {@code config}, that config is used (the arrays must
     * fit it) instead of the detected one: to set numerics or head counts a file cannot carry.
     */
    public static TwoTower load(Backend backend, Path path, TwoTowerConfig config) {
        Detected d = inspect(path);
        TwoTowerConfig cfg = config != null ? config : d.config();
        try (ArraySource file = d.format() == Format.ONNX ? OnnxFormat.open(d.weights()) : ArraySource.open(d.weights())) {
            ArraySource src = d.format() == Format.BIG_VISION_NPZ ? BigVisionFormat.view(file) : file;
            checkFits(cfg, d.format(), src);
            WeightMap map = weightMap(d.format(), cfg, src);
            TwoTower model = TwoTower.allocate(backend, cfg);
            try {
                map.load(src, backend, model.params());
                Path pre = d.weights().toAbsolutePath().getParent().resolve(PreprocessorConfig.FILE);
                if (cfg.hasImage() && Files.isRegularFile(pre)) {
                    model.setPreprocess(PreprocessorConfig.read(pre, cfg.image().imageSize()));
                }
                return model;
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
    }

    /** The recipe that maps {@code src}'s keys onto {@code cfg}'s parameters. */
    private static WeightMap weightMap(Format format, TwoTowerConfig cfg, ArraySource src) {
        return switch (format) {
            case LIT4J -> LitFormat.weightMap(cfg);
            case BIG_VISION_NPZ -> BigVisionFormat.weightMap(cfg, src);
            case HUGGINGFACE, ONNX -> HuggingFaceFormat.weightMap(cfg, src); // ONNX: its BERT under HF names
            case HUGGINGFACE_CLIP -> HfClipFormat.weightMap(cfg, src);
        };
    }

    /**
     * Which keys of {@code path} its loader would miss or leave unused, as lists (no values read,
     * nothing allocated): the same recipe {@link #load} follows, run dry ({@link WeightMap#check}).
     */
    public static WeightMap.Check check(Path path) {
        Detected d = inspect(path);
        try (ArraySource file = d.format() == Format.ONNX ? OnnxFormat.open(d.weights()) : ArraySource.open(d.weights())) {
            ArraySource src = d.format() == Format.BIG_VISION_NPZ ? BigVisionFormat.view(file) : file;
            return weightMap(d.format(), d.config(), src).check(src, d.config().params());
        }
    }

    /**
     * Refuses, before anything is allocated, a config the file cannot fill: in lit4j's format each
     * parameter's key must have its shape; in the others the file must hold at least as many
     * values as the model (every parameter is made from values of the file).
     */
    static void checkFits(TwoTowerConfig cfg, Format format, ArraySource src) {
        long model = cfg.numValues();
        if (format == Format.LIT4J) {
            for (ParamSpec p : cfg.params()) {
                if (!src.contains(p.name())) {
                    throw new CheckpointException(src.file(), p.name(), "missing from the checkpoint (the config has parameter "
                            + p + ")");
                }
                long[] want = Arrays.stream(p.shape()).asLongStream().toArray();
                ArrayInfo have = src.info(p.name());
                if (!Arrays.equals(want, have.shape())) {
                    throw new CheckpointException(src.file(), "parameter '" + p.name() + "' should be " + Shapes.str(p.shape())
                            + " but the checkpoint gives " + have.shapeString() + " - is the config right for this file?");
                }
            }
            return;
        }
        long file = 0;
        for (String k : src.keys()) {
            file += src.info(k).numel();
        }
        if (model > file) {
            throw new CheckpointException(src.file(), "the config asks for " + model + " parameter values but the file holds only "
                    + file + " - is the config right for this file?");
        }
    }

    /**
     * Refuses PyTorch pickles ({@code pytorch_model.bin}, {@code .pt}): unpickling runs whatever code
     * the file names, so lit4j never opens one. Says how to get the same weights as safetensors.
     */
    private static void refusePickles(List<Path> pickles) {
        if (!pickles.isEmpty()) {
            throw new LitException(pickles.get(0) + ": a PyTorch pickle, which lit4j does not load (unpickling a file can run any"
                    + " code in it). Get the model's model.safetensors instead (HuggingFace has one for most models, openai/clip-* included),"
                    + " or convert once where you trust the file: python3 -c \"import torch, safetensors.torch as s;"
                    + " s.save_file(torch.load('pytorch_model.bin'), 'model.safetensors')\"");
        }
    }

    private static List<Path> list(Path dir, String ext) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(ext)).sorted().toList();
        } catch (IOException e) {
            throw new LitException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }
}
