package io.lit4j.train;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.KnownModels;
import io.lit4j.model.BertConfig;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.Presets;
import io.lit4j.model.TextConfig;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.model.ViTConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Assembles the model tuning starts from: a checkpoint, a preset, or a config.json (random
 * weights), optionally with the image or text tower taken from another checkpoint or preset,
 * heads added where the towers' output widths differ from the shared dimension, and towers
 * re-initialised at random where the setup says {@code u}.
 */
public final class ModelBuilder {
    private ModelBuilder() {
    }

    /** A source of towers: its config and, when it came from a checkpoint, the loaded weights. */
    private record Source(TwoTowerConfig config, TwoTower weights, String name) implements AutoCloseable {
        @Override
        public void close() {
            if (weights != null) {
                weights.close();
            }
        }
    }

    private static Source open(Backend be, String spec) {
        if (KnownModels.isName(spec) && !Files.exists(Path.of(spec))) {
            Path dir = KnownModels.resolve(spec);
            return new Source(Checkpoints.inspect(dir).config(), Checkpoints.load(be, dir), spec + " (" + dir + ")");
        }
        if (Presets.isPair(spec)) {
            return new Source(Presets.pair(spec), null, "preset " + spec);
        }
        Path p = Path.of(spec);
        if (spec.endsWith(".json") && Files.isRegularFile(p)) {
            try {
                return new Source(TwoTowerConfig.parse(Files.readString(p), spec), null, spec + " (config, random weights)");
            } catch (IOException e) {
                throw new LitException("cannot read " + spec + ": " + e.getMessage(), e);
            }
        }
        if (!Files.exists(p)) {
            try { // a single-tower preset name ("B/16", "bert-base") for --image-tower / --text-tower
                return new Source(new TwoTowerConfig(Presets.image(spec), null, null), null, "preset " + spec);
            } catch (LitException notImage) {
                try {
                    return new Source(new TwoTowerConfig(null, Presets.text(spec), null), null, "preset " + spec);
                } catch (LitException notText) {
                    throw new LitException(spec + ": neither a model file or folder nor a preset (" + Presets.names() + ")");
                }
            }
        }
        return new Source(Checkpoints.inspect(p).config(), Checkpoints.load(be, p), spec);
    }

    /** Whether {@code spec} names trained weights (a checkpoint file or folder), not a preset or a config.json. */
    public static boolean hasWeights(String spec) {
        return spec != null && !spec.endsWith(".json") && !Presets.isPair(spec) && (Files.exists(Path.of(spec)) || KnownModels.isName(spec));
    }

    /**
     * {@code tc} tokenizing to {@code length} tokens. A BERT tower's positions come from its
     * {@code max_position} table and its padding is masked, so a caption that fits gets the same
     * embedding at any length; a tower whose position table is its context length cannot change it.
     */
    static TextConfig withContextLength(TextConfig tc, int length, String name) {
        TextConfig resized = tc.withContextLength(length);
        List<ParamSpec> a = tc.params(), b = resized.params();
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i).shape(), b.get(i).shape())) {
                throw new LitException("--text-context " + length + ": the text tower of " + name + " sizes " + a.get(i).name() + " "
                        + Arrays.toString(a.get(i).shape()) + " by its context length " + tc.contextLength() + ", so it runs at that length only");
            }
        }
        return resized;
    }

    /** What was built, and which towers came with trained weights. */
    public record Built(TwoTower model, boolean imagePretrained, boolean textPretrained, String description) {
    }

    /**
     * @param model     a model path, config.json or preset
     * @param imageFrom optional: where the image tower comes from instead (path or image preset)
     * @param textFrom  optional: where the text tower comes from instead (path or text preset)
     * @param embedDim  the shared dimension (0: keep the towers' common output width)
     * @param textContext tokens per text (0: the text tower's own); only where no weight's shape depends on it
     */
    public static Built build(Backend be, String model, String imageFrom, String textFrom, int embedDim, int textContext,
                              TwoTowerConfig.Loss loss, LockSpec lock, long seed, double temperature, double bias, PrintStream log) {
        try (Source base = model == null ? null : open(be, model);
             Source img = imageFrom == null ? null : open(be, imageFrom);
             Source txt = textFrom == null ? null : open(be, textFrom)) {
            Source imgSrc = img != null ? img : base;
            Source txtSrc = txt != null ? txt : base;
            if (imgSrc == null || !imgSrc.config().hasImage()) {
                throw new LitException("no image tower: give --model with one, or --image-tower");
            }
            if (txtSrc == null || !txtSrc.config().hasText()) {
                throw new LitException("no text tower: give --model with one, or --text-tower");
            }
            ViTConfig ic = imgSrc.config().image();
            TextConfig tc = txtSrc.config().text();
            int dim = embedDim > 0 ? embedDim : ic.outDim() == tc.outDim() ? ic.outDim() : Math.min(ic.width(), tc.width());
            // a tower whose width is the shared dim needs no head (its pooled features are the embedding)
            if (ic.outDim() != dim) {
                ic = ic.withHeadDim(ic.width() == dim ? 0 : dim);
            }
            if (tc.outDim() != dim) {
                tc = tc.withHeadDim(tc.width() == dim ? 0 : dim);
            }
            if (textContext > 0 && textContext != tc.contextLength()) {
                tc = withContextLength(tc, textContext, txtSrc.name());
            }
            // the loss the model was trained with: --model's, else a pretrained image tower's (SigLIP's sigmoid)
            TwoTowerConfig.Loss l = loss != null ? loss : base != null ? base.config().loss()
                    : img != null && img.weights() != null ? img.config().loss() : TwoTowerConfig.Loss.SOFTMAX;
            TwoTowerConfig cfg = new TwoTowerConfig(ic, tc, l);
            TwoTower out = TwoTower.allocate(be, cfg);
            try {
                boolean imgPre = imgSrc.weights() != null, txtPre = txtSrc.weights() != null;
                if (!imgPre && lock.image() != 'u') {
                    throw new LitException("setup " + lock.setup() + " starts from a pretrained image tower, but " + imgSrc.name()
                            + " has no weights: give --model or --image-tower a checkpoint, or use 'u' for the image tower");
                }
                if (!txtPre && lock.text() != 'u') {
                    throw new LitException("setup " + lock.setup() + " starts from a pretrained text tower, but " + txtSrc.name()
                            + " has no weights: give a checkpoint, or use 'u' for the text tower");
                }
                Init.tower(be, out.params(), "img.", false, seed);
                Init.tower(be, out.params(), "txt.", tc instanceof BertConfig, seed + 1);
                Init.temperature(be, out.params(), temperature, bias);
                int fresh = 0;
                for (ParamSpec s : cfg.params()) {
                    String n = s.name();
                    Source from = n.startsWith("img.") ? (lock.randomImage() ? null : imgSrc)
                            : n.startsWith("txt.") ? (lock.randomText() ? null : txtSrc) : base;
                    if (from != null && from.weights() != null && from.weights().params().has(n)
                            && Arrays.equals(from.weights().params().get(n).shape(), s.shape())) {
                        be.copy(from.weights().params().get(n), out.params().get(n));
                    } else if ((n.startsWith("img.") && !lock.randomImage()) || (n.startsWith("txt.") && !lock.randomText())) {
                        fresh++;
                        log.println("lit4j: " + n + " " + Arrays.toString(s.shape()) + " is new (random init)");
                    }
                }
                if (imgPre && !lock.randomImage()) { // a pretrained image tower keeps the preprocessing it was trained with
                    out.setPreprocess(imgSrc.weights().preprocess());
                }
                String desc = "image tower from " + imgSrc.name() + (lock.randomImage() ? " (re-initialised)" : "") + ", text tower from "
                        + txtSrc.name() + (lock.randomText() ? " (re-initialised)" : "") + ", shared dim " + dim
                        + (fresh > 0 ? ", " + fresh + " new parameters" : "");
                return new Built(out, imgPre && !lock.randomImage(), txtPre && !lock.randomText(), desc);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }
    }
}
