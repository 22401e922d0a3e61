package io.lit4j.cli;

import io.lit4j.backend.Backends;
import io.lit4j.train.PretrainTargets;
import io.lit4j.train.Pretrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lit4j pretrain}: supervised pretraining of a ViT image tower on labelled images. */
@Command(name = "pretrain", sortOptions = false,
        description = "Pretrain a ViT image tower as a classifier on labelled images (captions.jsonl rows with \"label\"), to lock it for LiT.")
final class PretrainCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Option(names = "--model", required = true, description = "a config.json with an image tower, an image preset, or a checkpoint such as default (its config)")
    String model;

    @Option(names = "--data", required = true, description = "labelled image folder (repeatable: classes are the union)")
    List<Path> data;

    @Option(names = "--steps", description = "optimizer steps", defaultValue = "2000")
    int steps;

    @Option(names = "--batch", description = "images per step", defaultValue = "128")
    int batch;

    @Option(names = "--lr", description = "peak learning rate", defaultValue = "1e-3")
    double lr;

    @Option(names = "--warmup", description = "linear warmup steps, then cosine decay", defaultValue = "200")
    int warmup;

    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay", defaultValue = "0.05")
    double weightDecay;

    @Option(names = "--clip", description = "global gradient-norm clip (0: off)", defaultValue = "1.0")
    double clip;

    @Option(names = "--seed", description = "seed for initialisation and shuffling", defaultValue = "0")
    long seed;

    @Option(names = "--workers", description = "image decoding threads", defaultValue = "2")
    int workers;

    @Option(names = "--log-every", description = "write metrics.jsonl every K steps", defaultValue = "20")
    int logEvery;

    @Option(names = "--eval-data", description = "labelled folder for the held-out accuracy at the end")
    Path evalData;

    @Option(names = "--eval-limit", description = "evaluate on at most N images (0: all)", defaultValue = "0")
    int evalLimit;

    @Option(names = "--targets", description = "what the head predicts: classes (one per label, softmax) or words (one per word of "
            + "the labels, sigmoid: 'red triangle' -> red + triangle, so colour and shape become separate features)", defaultValue = "classes")
    String targets;

    @Option(names = "--out", required = true, description = "run folder: metrics.jsonl and model/")
    Path out;

    @Override
    public Integer call() {
        try (Backends.Choice engine = Backends.open(common.backend, common.threads())) {
            Pretrainer.run(engine.backend(), new Pretrainer.Options(ModelOptions.named(model), data.stream().map(Path::toString).toList(), steps, batch, lr,
                    warmup, weightDecay, clip, seed, workers, out.toString(), logEvery, evalData == null ? null : evalData.toString(),
                    evalLimit, PretrainTargets.Kind.parse(targets)), common.log());
            return 0;
        }
    }
}
