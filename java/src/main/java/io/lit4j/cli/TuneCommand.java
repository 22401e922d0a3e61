package io.lit4j.cli;

import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.Backends;
import io.lit4j.eval.Templates;
import io.lit4j.model.Precision;
import io.lit4j.train.TuneOptions;
import io.lit4j.train.Tuner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code lit4j tune}: contrastive LiT tuning of a two-tower model on an image-caption folder. */
@Command(name = "tune", sortOptions = false,
        description = {"Contrastive tuning (LiT): lock a pretrained image tower and tune a text tower on image-caption pairs.",
                "Data: a folder, .tar or .zip with captions.jsonl ({\"image\": ..., \"caption(s)\": ...}) or captions.tsv at its root."})
final class TuneCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", description = "starting model: default (the shipped one), a lit4j folder, big_vision .npz, HF safetensors, "
            + "a config.json (random weights) or a preset")
    String model;

    @Option(names = "--image-tower", description = "take the image tower from this checkpoint or image preset instead")
    String imageTower;

    @Option(names = "--text-tower", description = "take the text tower from this checkpoint or text preset (e.g. bert-base) instead; minilm: the pretrained all-MiniLM-L6-v2 from its Maven jar")
    String textTower;

    @Option(names = "--embed-dim", description = "shared embedding width; towers of another width get a head (0: keep the towers' widths)", defaultValue = "0")
    int embedDim;

    @Option(names = "--loss", description = "softmax (InfoNCE) or sigmoid (SigLIP); default: the model's")
    String loss;

    @Option(names = "--data", description = "training image-caption folder, .tar or .zip")
    Path data;

    @Option(names = "--setup", description = "image letter, text letter: L locked, U pretrained+unlocked, u random+unlocked", defaultValue = "Lu")
    String setup;

    @Option(names = "--freeze", description = "regex over parameter names to lock (repeatable)")
    List<String> freeze = new ArrayList<>();

    @Option(names = "--unfreeze", description = "regex over parameter names to unlock (repeatable), e.g. 'img\\.blocks\\.(10|11)\\.'")
    List<String> unfreeze = new ArrayList<>();

    @Option(names = "--steps", description = "optimizer steps", defaultValue = "1000")
    int steps;

    @Option(names = "--batch", description = "image-text pairs per step", defaultValue = "64")
    int batch;

    @Option(names = "--lr", description = "peak learning rate", defaultValue = "1e-3")
    double lr;

    @Option(names = "--warmup", description = "linear warmup steps, then cosine decay", defaultValue = "100")
    int warmup;

    @Option(names = "--min-lr", description = "learning rate at the end of the cosine", defaultValue = "0")
    double minLr;

    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay (dense kernels only)", defaultValue = "1e-4")
    double weightDecay;

    @Option(names = "--clip", description = "global gradient-norm clip (0: off)", defaultValue = "1.0")
    double clip;

    @Option(names = "--temperature", description = "initial temperature t (big_vision 10, open_clip 1/0.07)", defaultValue = "10")
    double temperature;

    @Option(names = "--bias", description = "initial sigmoid-loss bias", defaultValue = "-10")
    double bias;

    @Option(names = "--clamp-temperature", description = "keep t <= 100, as open_clip does")
    boolean clampTemperature;

    @Option(names = "--seed", description = "seed for initialisation, shuffling and augmentation", defaultValue = "0")
    long seed;

    @Option(names = "--workers", description = "image decoding threads", defaultValue = "2")
    int workers;

    @Option(names = "--out", description = "run folder: metrics.jsonl, curves.png, checkpoint/")
    Path out;

    @Option(names = "--resume", description = "continue the run in this folder from its last checkpoint")
    Path resume;

    @Option(names = "--save-every", description = "checkpoint every K steps (and at the end)", defaultValue = "500")
    int saveEvery;

    @Option(names = "--log-every", description = "write metrics.jsonl every K steps", defaultValue = "10")
    int logEvery;

    @Option(names = "--eval-data", description = "folder evaluated every --eval-every steps: zero-shot if it has labels, else retrieval")
    Path evalData;

    @Option(names = "--eval-every", description = "evaluate on --eval-data every K steps and at the end (0: never)", defaultValue = "0")
    int evalEvery;

    @Option(names = "--eval-limit", description = "evaluate on at most N images (0: all)", defaultValue = "1000")
    int evalLimit;

    @Option(names = "--templates", description = "zero-shot prompts for eval: clip_80, clip_best or a file", defaultValue = Templates.DEFAULT)
    String templates;

    @Option(names = "--tokenizer", description = "tokenizer.json for the text tower (default: beside the model, or built from the captions for a random tower)")
    Path tokenizer;

    @Option(names = "--vocab-size", description = "size of the tokenizer built for a random text tower (0: the tower's vocab_size)", defaultValue = "0")
    int vocabSize;

    @Option(names = "--text-context", paramLabel = "TOKENS", description = "tokens per text for the text tower (0: its own; a pretrained BERT's 128 can be cut to what the captions need)", defaultValue = "0")
    int textContext;

    @Option(names = "--cache", description = "folder for locked image-tower embeddings (default ~/.cache/lit4j/embeddings; 'off' disables)")
    String cache;

    @Option(names = "--precision", description = "fp32 (default) or bf16: bf16 multiplies the encoder blocks' linears in bf16 with "
            + "fp32 accumulation; master weights, gradients and optimizer stay fp32 (~1.5x faster on CPUs with avx512_bf16). "
            + "Recorded in run.json, as are the threads: --resume continues with both.")
    String precision;

    @Option(names = "--json", description = "a machine-readable summary on stdout at the end")
    boolean json;

    /** Options a resumed run may take: how to run it, not what to train (that is in run.json). */
    private static final Set<String> RESUME_OPTIONS = Set.of("--resume", "--backend", "--threads", "--precision", "--quiet", "-q",
            "--verbose", "--json");

    @Override
    public Integer call() {
        PrintStream log = common.log();
        Tuner.Summary summary;
        if (resume != null) {
            List<String> extra = spec.commandLine().getParseResult().matchedOptions().stream().map(o -> o.longestName())
                    .filter(n -> !RESUME_OPTIONS.contains(n)).toList();
            if (!extra.isEmpty()) {
                throw new LitException(String.join(", ", extra) + " with --resume: a resumed run keeps the options recorded in " + resume
                        + "/run.json; to train on with other ones (e.g. more --steps) start a new run from its weights: lit4j tune --model "
                        + resume.resolve("checkpoint") + " --out NEW_RUN ...");
            }
            TuneOptions recorded = Tuner.recorded(resume);
            Precision given = precision == null ? null : Precision.parse(precision);
            if (given != null && recorded.precision() != null && given != recorded.precision()) {
                throw new LitException(resume + " was trained at " + recorded.precision().label() + "; --resume continues it so (drop --precision)");
            }
            // the recorded threads, unless asked otherwise: a resumed run is bit-identical only on the same number
            int asked = common.threads();
            int threads = asked > 0 ? asked : recorded.threads();
            try (Backends.Choice engine = Backends.open(common.backend, threads)) {
                summary = Tuner.resume(engine.backend(), resume, given, log); // given: for a run.json from before lit4j recorded it
            }
        } else {
            if (data == null || out == null) {
                throw new LitException("tune needs --data DIR and --out RUN_DIR (or --resume RUN_DIR)");
            }
            if (model == null && (imageTower == null || textTower == null)) {
                throw new LitException("tune needs --model (or both --image-tower and --text-tower)");
            }
            TuneOptions o = TuneOptions.builder().model(ModelOptions.named(model)).imageTower(ModelOptions.named(imageTower)).textTower(ModelOptions.named(textTower))
                    .embedDim(embedDim).loss(loss)
                    .data(data.toString()).setup(setup).freeze(freeze).unfreeze(unfreeze).steps(steps).batch(batch).lr(lr).warmup(warmup)
                    .minLr(minLr).weightDecay(weightDecay).clipNorm(clip).temperature(temperature).bias(bias).clampTemperature(clampTemperature)
                    .seed(seed).workers(workers).out(out.toString()).saveEvery(saveEvery).logEvery(logEvery)
                    .evalData(evalData == null ? null : evalData.toString()).evalEvery(evalEvery).evalLimit(evalLimit).templates(templates)
                    .tokenizer(tokenizer == null ? null : tokenizer.toString()).vocabSize(vocabSize).textContext(textContext).cache(cache)
                    .precision(precision == null ? Precision.FP32 : Precision.parse(precision)).build();
            o.doubts().forEach(d -> common.note("warning: " + d));
            try (Backends.Choice engine = Backends.open(common.backend, common.threads())) {
                summary = Tuner.run(engine.backend(), o, log);
            }
        }
        if (json) {
            JsonObject j = new JsonObject();
            j.addProperty("steps", summary.stepsDone());
            j.addProperty("first_loss", summary.firstLoss());
            j.addProperty("last_loss", summary.lastLoss());
            j.addProperty("stopped_early", summary.stoppedEarly());
            j.addProperty("checkpoint", summary.checkpoint().toString());
            j.addProperty("bad_rows", summary.badRows().total());
            JsonObject ev = new JsonObject();
            summary.lastEval().forEach(ev::addProperty);
            j.add("last_eval", ev);
            spec.commandLine().getOut().println(j);
        }
        return 0;
    }
}
