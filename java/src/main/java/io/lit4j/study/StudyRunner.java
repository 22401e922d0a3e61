package io.lit4j.study;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.backend.Backend;
import io.lit4j.data.CaptionDataset;
import io.lit4j.eval.Evaluator;
import io.lit4j.report.ProgressBar;
import io.lit4j.train.TuneOptions;
import io.lit4j.train.Tuner;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tunes one arm of a study with {@link Tuner} and evaluates its checkpoint through
 * {@link LitModel} on each {@link EvalSet}. An arm whose run folder already holds a result made
 * with the same options is not tuned again (a long study interrupted halfway resumes at the next
 * arm); a run folder with other options or no result is started over.
 */
public final class StudyRunner {
    static final String RESULT = "study-result.json";

    private final Backend be;
    private final int evalLimit;
    private final PrintStream log;

    public StudyRunner(Backend be, int evalLimit, PrintStream log) {
        this.be = be;
        this.evalLimit = evalLimit;
        this.log = log;
    }

    /** Tunes {@code o} (its {@code out} is the run folder) as arm {@code arm} and evaluates it on {@code evals}. */
    public ArmResult run(String arm, TuneOptions o, List<EvalSet> evals) {
        Path dir = Path.of(o.out());
        String planned = o.withThreads(be.threads()).toJson();
        Path result = dir.resolve(RESULT);
        if (Files.isRegularFile(result)) {
            try {
                JsonObject saved = JsonParser.parseString(Files.readString(result)).getAsJsonObject();
                if (saved.has("options") && saved.get("options").getAsString().equals(planned)) {
                    log.println("lit4j study: " + arm + " (seed " + o.seed() + ") was tuned before with the same options: " + dir);
                    return ArmResult.fromJson(saved.getAsJsonObject("result"));
                }
            } catch (IOException | RuntimeException e) {
                log.println("lit4j study: " + result + " is unreadable (" + e.getMessage() + "): tuning " + arm + " again");
            }
        }
        if (Files.exists(dir)) {
            Towers.deleteTree(dir);
        }
        log.println("lit4j study: tuning " + arm + " (seed " + o.seed() + ", " + o.steps() + " steps of " + o.batch() + ")");
        long t0 = System.nanoTime();
        Tuner.Summary s = Tuner.run(be, o, log);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (s.stoppedEarly()) {
            throw new LitException("tuning " + arm + " was stopped at step " + s.stepsDone() + " of " + o.steps() + "; its run is in " + dir);
        }
        Map<String, Double> metrics = evaluate(s.checkpoint(), evals);
        metrics.put("skipped", (double) s.badRows().total()); // pairs the tuner skipped (a caption past the context, an unreadable image)
        ArmResult r = new ArmResult(arm, o.seed(), metrics, s.lastLoss(), s.stepsDone(), seconds);
        JsonObject saved = new JsonObject();
        saved.addProperty("options", planned);
        saved.add("result", r.toJson());
        Towers.writeText(result, new GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting().create().toJson(saved));
        return r;
    }

    /** Zero-shot top-1/5 and retrieval R@1/5/10 both ways of the checkpoint at {@code model}, per evaluation. */
    public Map<String, Double> evaluate(Path model, List<EvalSet> evals) {
        Map<String, Double> out = new LinkedHashMap<>();
        try (LitModel m = LitModel.load(model, LitModel.Options.defaults().withThreads(be.threads()))) {
            for (EvalSet e : evals) {
                try (CaptionDataset ds = CaptionDataset.open(e.data())) {
                    if (!e.classes().isEmpty()) {
                        Evaluator.ZeroShot z = Evaluator.zeroShot(m, ds, e.data().toString(), e.classes(), e.templates(), e.labelToClass(),
                                evalLimit, ProgressBar.silent());
                        out.put(e.key("top1"), z.top1());
                        out.put(e.key("top5"), z.top5());
                    }
                    if (e.retrieval()) {
                        Evaluator.Retrieval r = Evaluator.retrieval(m, ds, e.data().toString(), evalLimit, ProgressBar.silent());
                        for (int k : new int[] {1, 5, 10}) {
                            out.put(e.key("i2t_r" + k), r.recall().imageToText(k));
                            out.put(e.key("t2i_r" + k), r.recall().textToImage(k));
                        }
                    }
                }
            }
        }
        return out;
    }
}
