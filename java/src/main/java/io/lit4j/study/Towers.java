package io.lit4j.study;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.io.AtomicFile;
import io.lit4j.train.PretrainTargets;
import io.lit4j.train.Pretrainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The recipe's towers: ViTs on 28 px (patch 4, depth 4, MLP 4× width, tanh GELU, LN eps 1e-6, CLS
 * pooling) pretrained as supervised classifiers once per width and seed and cached, and
 * from-scratch text transformers (16 tokens unless said, MLP 4× width) as config files.
 */
public final class Towers {
    /** How an image tower is pretrained: epochs over the labelled data, batch, peak lr (10 % warmup, cosine to 0), weight decay. */
    public record Pretraining(double epochs, int batch, double lr, double weightDecay, long seed) {
        /** The reference recipe: 3 epochs, batch 256, lr 1e-3, weight decay 1e-4. */
        public static Pretraining reference(long seed) {
            return new Pretraining(3, 256, 1e-3, 1e-4, seed);
        }
    }

    private Towers() {
    }

    /** A ViT config on 28 px: patch 4, {@code width}, {@code depth}, width/32 heads (at least 1), MLP 4× width. */
    public static String imageConfig(int width, int depth) {
        int heads = heads(width);
        return String.format(Locale.ROOT, """
                {"format": "lit4j", "version": 1,
                 "image": {"image_size": 28, "patch_size": 4, "channels": 3, "width": %d, "depth": %d, "heads": %d, "mlp_dim": %d,
                           "pool": "tok", "ln_eps": 1e-6, "gelu": "tanh", "head_dim": 0}}
                """, width, depth, heads, 4 * width);
    }

    /** A from-scratch text transformer config: {@code context} tokens, {@code width}, {@code depth}, MLP 4× width, pooled at the last token. */
    public static String textConfig(int width, int depth, int vocab, int context) {
        return String.format(Locale.ROOT, """
                {"format": "lit4j", "version": 1,
                 "text": {"kind": "transformer", "vocab_size": %d, "context_length": %d, "width": %d, "depth": %d, "heads": %d,
                          "mlp_dim": %d, "pool": "last", "ln_eps": 1e-6, "gelu": "tanh", "head_dim": 0}}
                """, vocab, context, width, depth, heads(width), 4 * width);
    }

    /** Heads of 32 dimensions (the recipe's 96 → 3), at least one, dividing the width. */
    static int heads(int width) {
        int h = Math.max(1, width / 32);
        while (width % h != 0) {
            h--;
        }
        return h;
    }

    /** Writes a text tower config under {@code work/towers} and returns its path. */
    public static Path text(Path work, int width, int depth, int vocab, int context) {
        Path p = work.resolve("towers").resolve(String.format(Locale.ROOT, "text-w%d-d%d-v%d%s.json", width, depth, vocab,
                context == 16 ? "" : "-c" + context));
        if (!Files.isRegularFile(p)) {
            writeText(p, textConfig(width, depth, vocab, context));
        }
        return p;
    }

    /**
     * The image tower of {@code width} × {@code depth} pretrained by {@code how} on the labelled
     * folder {@code data} (evaluated on {@code evalData}), from the cache when it was made before.
     */
    public static Path image(Backend be, Path work, Path data, Path evalData, int width, int depth, Pretraining how, int rows,
                             PrintStream log) {
        String name = String.format(Locale.ROOT, "vit-w%d-d%d-e%s-b%d-s%d-%s", width, depth, trim(how.epochs()), how.batch(), how.seed(),
                data.getFileName());
        Path dir = work.resolve("towers").resolve(name);
        Path model = dir.resolve("model");
        if (Files.isRegularFile(model.resolve("config.json"))) {
            return model;
        }
        Path config = work.resolve("towers").resolve(String.format(Locale.ROOT, "vit-w%d-d%d.json", width, depth));
        writeText(config, imageConfig(width, depth));
        int steps = (int) Math.max(1, Math.round(how.epochs() * rows / how.batch()));
        if (Files.exists(dir)) {
            deleteTree(dir); // an unfinished pretraining: start it again
        }
        log.println("lit4j study: pretraining the " + width + "-wide image tower (" + steps + " steps of " + how.batch() + ") into " + dir);
        Pretrainer.Options o = new Pretrainer.Options(config.toString(), List.of(data.toString()), steps, how.batch(), how.lr(),
                Math.max(0, steps / 10), how.weightDecay(), 0, how.seed(), 2, dir.toString(), 20, evalData == null ? null : evalData.toString(),
                0, PretrainTargets.Kind.CLASSES);
        Pretrainer.Summary s = Pretrainer.run(be, o, log);
        log.println(String.format(Locale.ROOT, "lit4j study: image tower %s: held-out accuracy %.4f", name, s.evalAccuracy()));
        return s.model();
    }

    /** Writes a small text file atomically, creating its folder. */
    static void writeText(Path p, String text) {
        try {
            Files.createDirectories(p.toAbsolutePath().getParent());
            AtomicFile.writeString(p, text);
        } catch (IOException e) {
            throw new LitException("cannot write " + p + ": " + e.getMessage(), e);
        }
    }

    static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** Deletes a folder the studies made (run folders, unfinished pretrainings) under their work folder. */
    static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new LitException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
