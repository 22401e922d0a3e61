package io.lit4j.datasets;

import io.lit4j.CacheDir;
import io.lit4j.LitException;
import io.lit4j.data.CaptionDataset;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToIntFunction;

/**
 * The evaluation datasets lit4j knows by name, materialised once as image-caption folders under
 * the cache ({@code ~/.cache/lit4j/datasets}): {@code fashion-mnist} (Debian's package) and
 * {@code scenes} (generated with the default recipe's settings).
 */
public final class Builtin {
    /** Scenes as the default model's recipe makes them: 32 px, seed 0. */
    public static final int SCENES_SIZE = 32;
    public static final int SCENES_TEST = 1280;

    private Builtin() {
    }

    /** A dataset's folder for a split, its class specs (name + aliases) and how its labels map to classes. */
    public record Resolved(String name, Path folder, List<String> classSpecs, ToIntFunction<String> labelToClass,
                           List<String> heldOut) {
    }

    public static boolean isBuiltin(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.equals("fashion-mnist") || n.equals("fashion") || n.equals("scenes");
    }

    /** The test split of a built-in dataset (or, with {@code train}, its training split). */
    public static Resolved resolve(String name, boolean train) {
        Path root = CacheDir.root().resolve("datasets");
        switch (name.toLowerCase(Locale.ROOT)) {
            case "fashion-mnist", "fashion" -> {
                if (!FashionMnist.isAvailable()) {
                    throw new LitException("Fashion-MNIST is not installed (sudo apt install dataset-fashion-mnist, or set "
                            + FashionMnist.ENV + ")");
                }
                FashionMnist.Split split = train ? FashionMnist.Split.TRAIN : FashionMnist.Split.TEST;
                Path dir = root.resolve("fashion-mnist-" + split.name().toLowerCase(Locale.ROOT));
                if (!Files.isRegularFile(dir.resolve(CaptionDataset.JSONL))) {
                    FashionMnist.export(dir, split, 0, train ? 0 : 1, new FashionMnist.ExportOptions(1, true));
                }
                List<String> specs = FashionMnist.aliases();
                return new Resolved("fashion-mnist", dir, specs, FashionMnist::classIndex, List.of());
            }
            case "scenes" -> {
                Scenes.Config c = Scenes.Config.defaults().withImageSize(SCENES_SIZE).withCounts(train ? 12000 : 0, 0, SCENES_TEST);
                Path dir = root.resolve("scenes-" + SCENES_SIZE + "px-seed" + c.seed() + (train ? "-train" : "-test"));
                Path split = dir.resolve(train ? Scenes.Split.TRAIN.folder() : Scenes.Split.TEST.folder());
                if (!Files.isRegularFile(split.resolve(CaptionDataset.JSONL))) {
                    Scenes.generate(c, dir, true);
                }
                return new Resolved("scenes", split, Scenes.classNames(c), null, Scenes.heldOutClasses(c));
            }
            default -> throw new LitException("unknown dataset '" + name + "' (fashion-mnist, scenes, or a folder)");
        }
    }
}
