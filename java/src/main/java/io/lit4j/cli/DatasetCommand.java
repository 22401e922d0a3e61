package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.datasets.FashionMnist;
import io.lit4j.datasets.Scenes;
import picocli.CommandLine.Command;
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
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", description = "scenes or fashion-mnist")
    String which;

    @Option(names = "--out", required = true, description = "output folder")
    Path out;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--train", description = "training images (scenes) or the train-split limit (fashion-mnist, 0 = all)", defaultValue = "10000")
    int train;

    @Option(names = "--test", description = "test images (scenes) or the test-split limit (fashion-mnist, 0 = all)", defaultValue = "1280")
    int test;

    @Option(names = "--size", description = "scene image size in pixels", defaultValue = "64")
    int size;

    @Option(names = "--replace", description = "overwrite an existing output folder")
    boolean replace;

    @Override
    public Integer call() {
        switch (which.toLowerCase(Locale.ROOT)) {
            case "scenes" -> {
                Scenes.Config c = Scenes.Config.defaults().withSeed(seed).withImageSize(size).withCounts(train, 0, test);
                Scenes.generate(c, out, replace);
                spec.commandLine().getOut().println("wrote " + train + " training and " + test + " test scenes to " + out
                        + " (held out from training: " + Scenes.heldOutClasses(c) + ")");
            }
            case "fashion-mnist", "fashion" -> {
                FashionMnist.ExportOptions eo = new FashionMnist.ExportOptions(1, replace);
                FashionMnist.export(out.resolve("train"), FashionMnist.Split.TRAIN, train, seed, eo);
                FashionMnist.export(out.resolve("test"), FashionMnist.Split.TEST, test, seed + 1, eo);
                spec.commandLine().getOut().println("wrote Fashion-MNIST train and test folders with captions to " + out);
            }
            default -> throw new LitException("unknown dataset '" + which + "' (scenes or fashion-mnist)");
        }
        return 0;
    }
}
