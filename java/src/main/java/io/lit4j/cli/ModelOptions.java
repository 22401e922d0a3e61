package io.lit4j.cli;

import io.lit4j.LitModel;
import io.lit4j.model.Precision;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options every command that runs a model takes. */
final class ModelOptions {
    @Option(names = "--model", description = "a lit4j model folder, big_vision .npz or HF safetensors; default: the shipped model", defaultValue = "default")
    String model;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the one beside the model)")
    Path tokenizer;

    @Option(names = "--precision", description = "fp32 (default) or bf16 matmuls", defaultValue = "fp32")
    String precision;

    @Option(names = "--batch-size", description = "images per forward pass", defaultValue = "32")
    int batchSize;

    LitModel open(Main.Common common) {
        return LitModel.open(model, new LitModel.Options(common.backend, common.threads, Precision.parse(precision), tokenizer, batchSize));
    }
}
