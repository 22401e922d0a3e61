package io.lit4j.study;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.lit4j.LitException;

import java.nio.file.Path;
import java.util.List;

/**
 * What every study takes: the user's pairs and towers (null: the reference recipe's Fashion-MNIST
 * data and towers, made and cached under {@code work}), the budget, where results go, and the
 * exact command line for the report.
 *
 * @param data           training pairs (null: the reference Fashion-MNIST captions)
 * @param evalData       held-out data (null: the Fashion-MNIST test split with reference captions)
 * @param imageTower     a pretrained image tower checkpoint (null: pretrained by the recipe and cached)
 * @param textTower      the from-scratch text tower's config.json (null: the recipe's)
 * @param pretrainedText the pretrained text tower for LU/UU/LL (null: minilm)
 * @param quick          tiny data, towers and steps: checks the plumbing in seconds, finds nothing
 * @param out            results folder; each study writes {@code out/<study>/}
 * @param work           cache for derived data sets, pretrained towers and run folders
 * @param seeds          one run per arm and seed
 * @param batch          pairs per step
 * @param epochs         passes over the training pairs per arm (used when {@code steps} is 0)
 * @param steps          optimizer steps per arm (0: from {@code epochs})
 * @param lr             peak learning rate
 * @param evalLimit      evaluate on at most this many images (0: all)
 * @param replace        start the study's table afresh instead of adding to the {@code results.json} in {@code out}
 * @param command        the command line as typed, for the report
 */
public record StudyOptions(Path data, Path evalData, String imageTower, String textTower, String pretrainedText, boolean quick,
                           Path out, Path work, List<Long> seeds, int batch, double epochs, int steps, double lr, int evalLimit,
                           boolean replace, String command) {
    /** The command line's defaults (picocli reads them from here, and a results.json that lacks a field was run with them). */
    public static final String BATCH = "256", EPOCHS = "2", STEPS = "0", LR = "1e-3", EVAL_LIMIT = "0", PRETRAINED_TEXT = "minilm";

    public StudyOptions {
        seeds = List.copyOf(seeds);
        if (seeds.isEmpty()) {
            throw new LitException("--seeds is empty: give at least one seed");
        }
        if (batch < 2) {
            throw new LitException("--batch " + batch + ": a contrastive batch needs at least 2 pairs");
        }
        if (steps < 0 || !(epochs > 0) || Double.isInfinite(epochs)) {
            throw new LitException("--steps " + steps + " (0 or more) and --epochs " + epochs + " (a positive number)");
        }
        if (!(lr > 0) || evalLimit < 0) {
            throw new LitException("--lr " + lr + " must be positive and --eval-limit " + evalLimit + " 0 or more");
        }
    }

    /** The steps an arm takes over {@code rows} training pairs. */
    public int stepsFor(int rows) {
        return steps > 0 ? steps : (int) Math.max(1, Math.round(epochs * rows / batch));
    }

    /**
     * The options that decide an arm's numbers, as results.json records them ({@code null}: the
     * reference recipe's data or tower): a table may only merge arms whose recipes are equal.
     */
    public JsonObject recipe() {
        JsonObject o = new JsonObject();
        o.add("data", text(data));
        o.add("eval_data", text(evalData));
        o.add("image_tower", text(imageTower));
        o.add("text_tower", text(textTower));
        if (pretrainedText != null) {
            o.addProperty("pretrained_text_tower", pretrainedText);
        }
        o.addProperty("steps", steps);
        o.addProperty("batch", batch);
        o.addProperty("lr", lr);
        o.addProperty("epochs", epochs);
        o.addProperty("eval_limit", evalLimit);
        o.addProperty("quick", quick);
        return o;
    }

    /** What a results.json written before the options were recorded was run with: the command line's defaults. */
    public static JsonObject defaultRecipe() {
        return new StudyOptions(null, null, null, null, PRETRAINED_TEXT, false, Path.of("."), Path.of("."), List.of(0L), Integer.parseInt(BATCH),
                Double.parseDouble(EPOCHS), Integer.parseInt(STEPS), Double.parseDouble(LR), Integer.parseInt(EVAL_LIMIT), false, "").recipe();
    }

    private static JsonElement text(Object v) {
        return v == null ? JsonNull.INSTANCE : new JsonPrimitive(v.toString());
    }
}
