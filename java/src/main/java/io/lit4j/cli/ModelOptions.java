package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.tensor.DType;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;

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
        return LitModel.open(model, new LitModel.Options(common.backend, common.threads, parsePrecision(precision), tokenizer, batchSize));
    }

    /** A {@code --precision} value: fp32 or bf16. */
    static DType parsePrecision(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "fp32", "f32", "float32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new LitException("--precision must be fp32 or bf16, got " + value);
        };
    }
}
