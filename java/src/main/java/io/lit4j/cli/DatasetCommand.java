package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.datasets.FashionMnist;
import io.lit4j.datasets.Scenes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code lit4j dataset}: writes lit4j's offline datasets as image-caption folders. */
@Command(name = "dataset", description = {"Write an offline dataset as image-caption folders (captions.jsonl + PNGs, with labels).",
        "scenes: procedural shapes with held-out colour-shape pairs; fashion-mnist: Debian's dataset-fashion-mnist with generated captions."})
final class DatasetCommand implements Callable<Integer> {
    @Mixin
    Main.Output output;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DATASET", description = "scenes or fashion-mnist")
    String which;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
    Path out;

    @Option(names = "--seed", description = "random seed (scenes: what is drawn; fashion-mnist: which captions)", defaultValue = "0")
    long seed;

    @Option(names = "--json", description = "machine-readable summary on stdout")
    boolean json;

    @Option(names = "--train", description = "training images (scenes) or the train-split limit (fashion-mnist, 0 = all)", defaultValue = "10000")
    int train;

    @Option(names = "--test", description = "test images (scenes) or the test-split limit (fashion-mnist, 0 = all)", defaultValue = "1280")
    int test;

    @Option(names = "--size", description = "scene image size in pixels", defaultValue = "64")
    int size;

    @Option(names = "--scenes-version", description = "scenes generator version: 1 (as first written) or 2 (train/val objects also in unnamed colours, named by shape alone)", defaultValue = "1")
    int version;

    @Option(names = "--replace", description = "overwrite an existing output folder")
    boolean replace;

    @Override
    public Integer call() {
        if (train < 0 || test < 0) {
            throw new LitException("--train " + train + " --test " + test + ": counts must be 0 or more");
        }
        if (size < 8 || size > 1024) {
            throw new LitException("--size " + size + ": scene images are 8 to 1024 pixels wide");
        }
        JsonObject o = new JsonObject();
        o.addProperty("dataset", which);
        o.addProperty("out", out.toString());
        String said;
        switch (which.toLowerCase(Locale.ROOT)) {
            case "scenes" -> {
                Scenes.Config c = Scenes.Config.defaults().withSeed(seed).withImageSize(size).withCounts(train, 0, test).withVersion(version);
                Scenes.generate(c, out, replace);
                said = "wrote " + train + " training and " + test + " test scenes to " + out
                        + " (held out from training: " + Scenes.heldOutClasses(c) + ")";
                o.addProperty("train", train);
                o.addProperty("test", test);
                JsonArray held = new JsonArray();
                Scenes.heldOutClasses(c).forEach(held::add);
                o.add("held_out", held);
            }
            case "fashion-mnist", "fashion" -> {
                FashionMnist.ExportOptions eo = new FashionMnist.ExportOptions(1, replace);
                FashionMnist.export(out.resolve("train"), FashionMnist.Split.TRAIN, train, seed, eo);
                FashionMnist.export(out.resolve("test"), FashionMnist.Split.TEST, test, seed + 1, eo);
                said = "wrote Fashion-MNIST train and test folders with captions to " + out;
                o.addProperty("train_folder", out.resolve("train").toString());
                o.addProperty("test_folder", out.resolve("test").toString());
            }
            default -> throw new LitException("unknown dataset '" + which + "' (scenes or fashion-mnist)");
        }
        spec.commandLine().getOut().println(json ? o.toString() : said);
        return 0;
    }
}
