package io.lit4j.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import io.lit4j.LitException;
import io.lit4j.model.Precision;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a tuning run is made of, saved as the run folder's {@code run.json} so that
 * {@code --resume} continues it with nothing repeated: the starting towers, the data, the setup,
 * the optimizer and schedule, evaluation, and how it ran ({@code precision}, and {@code threads},
 * which a bit-exact resume needs too). Built with {@link #builder()}; the defaults are the
 * command line's.
 *
 * @param model      starting model: a checkpoint, a config.json (random weights) or a preset
 * @param imageTower optional: the image tower from this checkpoint or image preset instead
 * @param textTower  optional: the text tower from this checkpoint or text preset instead
 * @param embedDim   the shared embedding width (0: keep the towers')
 * @param loss       "softmax" or "sigmoid" (null: the model's)
 * @param setup      two letters, image tower first: L locked, U pretrained and unlocked, u random init
 * @param freeze     regexes over parameter names to lock; {@code unfreeze} to unlock again
 * @param clipNorm   global gradient-norm clip (0: off)
 * @param textContext tokens per text for the text tower (0: the tower's own context length; a pretrained
 *                   BERT padded to 128 runs 8 times the tokens of a 16-token caption)
 * @param cache      folder for the locked image tower's embeddings ("off": none; null: the default)
 * @param precision  how the trainable towers multiply (see {@link Precision}); null only in a run.json
 *                   written before lit4j recorded it (a resume then takes it from the command line)
 * @param threads    the engine's threads; 0 until the run starts, when the backend's count is recorded
 */
public record TuneOptions(String model, String imageTower, String textTower, int embedDim, String loss,
                          String data, String setup, List<String> freeze, List<String> unfreeze,
                          int steps, int batch, double lr, int warmup, double minLr, double weightDecay, double clipNorm,
                          double temperature, double bias, boolean clampTemperature,
                          long seed, int workers, String out, int saveEvery, int logEvery,
                          String evalData, int evalEvery, int evalLimit, String templates,
                          String tokenizer, int vocabSize, int textContext, String cache, Precision precision, int threads) {
    public TuneOptions {
        freeze = freeze == null ? List.of() : List.copyOf(freeze);
        unfreeze = unfreeze == null ? List.of() : List.copyOf(unfreeze);
        if (steps < 1 || batch < 2) {
            throw new LitException("--steps must be at least 1 and --batch at least 2 (a contrastive batch needs negatives)");
        }
        positive("--lr", lr);
        atLeastZero("--min-lr", minLr);
        atLeastZero("--weight-decay", weightDecay);
        atLeastZero("--clip", clipNorm);
        atLeastZero("--warmup", warmup);
        atLeastZero("--embed-dim", embedDim);
        atLeastZero("--workers", workers);
        atLeastZero("--save-every", saveEvery);
        atLeastZero("--log-every", logEvery);
        atLeastZero("--eval-every", evalEvery);
        atLeastZero("--eval-limit", evalLimit);
        atLeastZero("--vocab-size", vocabSize);
        atLeastZero("--text-context", textContext);
        atLeastZero("--threads", threads);
        if (minLr > lr) {
            throw new LitException("--min-lr " + minLr + " is above --lr " + lr + ": the cosine decays from --lr down to --min-lr");
        }
    }

    private static void positive(String option, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new LitException(option + " " + v + ": must be a positive number");
        }
    }

    private static void atLeastZero(String option, int v) {
        if (v < 0) {
            throw new LitException(option + " " + v + ": must be 0 or more");
        }
    }

    private static void atLeastZero(String option, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new LitException(option + " " + v + ": must be 0 or a positive number");
        }
    }

    /** Things that are allowed but probably not meant, one line each (the CLI prints them as warnings). */
    public List<String> doubts() {
        List<String> out = new ArrayList<>();
        if (warmup >= steps) {
            out.add("--warmup " + warmup + " is not shorter than --steps " + steps + ": the learning rate never reaches --lr " + lr
                    + " and the cosine decay never starts");
        }
        if (evalData != null && evalEvery > steps) {
            out.add("--eval-every " + evalEvery + " is longer than the run (" + steps + " steps): the only evaluation is at the end");
        }
        if (evalData == null && evalEvery > 0) {
            out.add("--eval-every " + evalEvery + " without --eval-data: nothing is evaluated");
        }
        if ("LL".equals(setup) && unfreeze.isEmpty()) {
            out.add("--setup LL locks both towers and their heads: only the temperature trains, so the towers stay as unaligned as they"
                    + " start (lit4j study setups measured chance); --unfreeze '^txt\\.head\\.' trains the text head over the frozen features");
        }
        return out;
    }

    /** The same run at precision {@code p} (for a run.json that did not record one). */
    public TuneOptions withPrecision(Precision p) {
        return new TuneOptions(model, imageTower, textTower, embedDim, loss, data, setup, freeze, unfreeze, steps, batch, lr, warmup, minLr,
                weightDecay, clipNorm, temperature, bias, clampTemperature, seed, workers, out, saveEvery, logEvery, evalData, evalEvery,
                evalLimit, templates, tokenizer, vocabSize, textContext, cache, p, threads);
    }

    /** The same run on {@code n} threads. */
    public TuneOptions withThreads(int n) {
        return new TuneOptions(model, imageTower, textTower, embedDim, loss, data, setup, freeze, unfreeze, steps, batch, lr, warmup, minLr,
                weightDecay, clipNorm, temperature, bias, clampTemperature, seed, workers, out, saveEvery, logEvery, evalData, evalEvery,
                evalLimit, templates, tokenizer, vocabSize, textContext, cache, precision, n);
    }

    /** Precision as run.json spells it ("fp32", "bf16"); anything else is an error, not a silent fp32. */
    private static final TypeAdapter<Precision> PRECISION = new TypeAdapter<>() {
        @Override
        public void write(JsonWriter out, Precision p) throws IOException {
            if (p == null) {
                out.nullValue();
            } else {
                out.value(p.label());
            }
        }

        @Override
        public Precision read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return null;
            }
            return Precision.parse(in.nextString());
        }
    };

    private static Gson gson() {
        return new GsonBuilder().setPrettyPrinting().registerTypeAdapter(Precision.class, PRECISION).create();
    }

    public String toJson() {
        return gson().toJson(this);
    }

    static TuneOptions fromJson(String json, String where) {
        TuneOptions o;
        try {
            o = gson().fromJson(json, TuneOptions.class);
        } catch (JsonParseException e) {
            throw new LitException(where + ": not valid run options: " + e.getMessage(), e);
        } catch (RuntimeException e) { // Gson wraps what the record's constructor or the precision refuses
            Throwable c = e instanceof LitException ? e : e.getCause() instanceof LitException le ? le : e;
            throw new LitException(where + ": not valid run options: " + c.getMessage(), e);
        }
        if (o == null) {
            throw new LitException(where + " is empty");
        }
        return o;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent setters, one per field, starting from the command line's defaults. */
    public static final class Builder {
        private String model, imageTower, textTower, loss, data, out, evalData, tokenizer, cache;
        private String setup = "Lu", templates = "clip_best";
        private Precision precision = Precision.FP32;
        private int embedDim, steps = 1000, batch = 64, warmup = 100, workers = 2, saveEvery = 500, logEvery = 10;
        private int evalEvery, evalLimit = 1000, vocabSize, textContext, threads;
        private double lr = 1e-3, minLr, weightDecay = 1e-4, clipNorm = 1.0, temperature = 10, bias = -10;
        private boolean clampTemperature;
        private long seed;
        private List<String> freeze = List.of(), unfreeze = List.of();

        private Builder() {
        }

        public Builder model(String v) {
            model = v;
            return this;
        }

        public Builder imageTower(String v) {
            imageTower = v;
            return this;
        }

        public Builder textTower(String v) {
            textTower = v;
            return this;
        }

        public Builder embedDim(int v) {
            embedDim = v;
            return this;
        }

        public Builder loss(String v) {
            loss = v;
            return this;
        }

        public Builder data(String v) {
            data = v;
            return this;
        }

        public Builder setup(String v) {
            setup = v;
            return this;
        }

        public Builder freeze(List<String> v) {
            freeze = v;
            return this;
        }

        public Builder unfreeze(List<String> v) {
            unfreeze = v;
            return this;
        }

        public Builder steps(int v) {
            steps = v;
            return this;
        }

        public Builder batch(int v) {
            batch = v;
            return this;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder warmup(int v) {
            warmup = v;
            return this;
        }

        public Builder minLr(double v) {
            minLr = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder clipNorm(double v) {
            clipNorm = v;
            return this;
        }

        public Builder temperature(double v) {
            temperature = v;
            return this;
        }

        public Builder bias(double v) {
            bias = v;
            return this;
        }

        public Builder clampTemperature(boolean v) {
            clampTemperature = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder workers(int v) {
            workers = v;
            return this;
        }

        public Builder out(String v) {
            out = v;
            return this;
        }

        public Builder saveEvery(int v) {
            saveEvery = v;
            return this;
        }

        public Builder logEvery(int v) {
            logEvery = v;
            return this;
        }

        public Builder evalData(String v) {
            evalData = v;
            return this;
        }

        public Builder evalEvery(int v) {
            evalEvery = v;
            return this;
        }

        public Builder evalLimit(int v) {
            evalLimit = v;
            return this;
        }

        public Builder templates(String v) {
            templates = v;
            return this;
        }

        public Builder tokenizer(String v) {
            tokenizer = v;
            return this;
        }

        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        public Builder textContext(int v) {
            textContext = v;
            return this;
        }

        public Builder cache(String v) {
            cache = v;
            return this;
        }

        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        public Builder threads(int v) {
            threads = v;
            return this;
        }

        public TuneOptions build() {
            positive("--temperature", temperature); // the initial value: a run.json's is only history (the checkpoint holds t)
            return new TuneOptions(model, imageTower, textTower, embedDim, loss, data, setup, freeze, unfreeze, steps, batch, lr, warmup,
                    minLr, weightDecay, clipNorm, temperature, bias, clampTemperature, seed, workers, out, saveEvery, logEvery, evalData,
                    evalEvery, evalLimit, templates, tokenizer, vocabSize, textContext, cache, precision, threads);
        }
    }
}
