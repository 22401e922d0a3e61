package io.lit4j.cli;

import io.lit4j.DefaultModel;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.checkpoint.KnownModels;
import io.lit4j.model.Precision;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** The options every command that runs a model takes. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "MODEL", description = "default (the shipped model), a lit4j model folder, big_vision .npz or HF safetensors", defaultValue = LitModel.DEFAULT_MODEL)
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: the one beside the model)")
    Path tokenizer;

    @Option(names = "--precision", paramLabel = "fp32|bf16", description = "fp32 or bf16 matmuls (bf16: faster on CPUs with avx512_bf16)", defaultValue = "fp32")
    String precision;

    @Option(names = "--batch-size", paramLabel = "N", description = "images per forward pass", defaultValue = "32")
    int batchSize;

    LitModel.Options options(Main.Common common) {
        if (batchSize < 1) {
            throw new LitException("--batch-size " + batchSize + ": give 1 or more images per forward pass");
        }
        return new LitModel.Options(common.backend, common.threads(), Precision.parse(precision), tokenizer, batchSize);
    }

    /**
     * "default" names the shipped model wherever a checkpoint is asked for (tune, pretrain, ablation
     * too), and "minilm" the pretrained text tower unpacked from its Maven jar ({@link KnownModels}).
     */
    static String named(String spec) {
        if (LitModel.DEFAULT_MODEL.equals(spec)) {
            return DefaultModel.path().toString();
        }
        if (spec != null && KnownModels.isName(spec) && !Files.exists(Path.of(spec))) {
            return KnownModels.resolve(spec).toString();
        }
        return spec;
    }

    LitModel open(Main.Common common) {
        return LitModel.open(model, options(common));
    }
}
