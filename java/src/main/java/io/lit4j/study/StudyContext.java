package io.lit4j.study;

import io.lit4j.backend.Backend;
import io.lit4j.data.CaptionDataset;
import io.lit4j.datasets.FashionMnist;
import io.lit4j.datasets.ReferenceCaptions;
import io.lit4j.train.TuneOptions;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a study run shares: the engine, the options, and the reference recipe's defaults for
 * whatever the user did not give — Fashion-MNIST with one reference caption per image, the
 * recipe's pretrained ViT and from-scratch text transformer. {@code --quick} shrinks all of it
 * (600 training pairs, 200 test images, 16-wide one-block towers, three steps of 16 pairs).
 */
public final class StudyContext {
    /** Training pairs and test images in quick mode. */
    static final int QUICK_TRAIN = 600, QUICK_TEST = 200;

    private final Backend be;
    private final StudyOptions o;
    private final PrintStream log;
    private final StudyRunner runner;
    private FashionMnist.Data train, test;

    public StudyContext(Backend be, StudyOptions o, PrintStream log) {
        this.be = be;
        this.o = o;
        this.log = log;
        this.runner = new StudyRunner(be, o.quick() ? 0 : o.evalLimit(), log);
    }

    public Backend backend() {
        return be;
    }

    public StudyOptions options() {
        return o;
    }

    public PrintStream log() {
        return log;
    }

    public StudyRunner runner() {
        return runner;
    }

    /** Where derived data, towers and runs are kept (quick runs apart from full ones). */
    public Path work() {
        return o.quick() ? o.work().resolve("quick") : o.work();
    }

    /** Whether the study runs on the built-in reference data (no --data given). */
    public boolean reference() {
        return o.data() == null;
    }

    FashionMnist.Data fashionTrain() {
        if (train == null) {
            train = FashionMnist.load(FashionMnist.Split.TRAIN);
        }
        return train;
    }

    FashionMnist.Data fashionTest() {
        if (test == null) {
            test = FashionMnist.load(FashionMnist.Split.TEST);
        }
        return test;
    }

    /** The training pairs: --data, or Fashion-MNIST train with one reference caption per image. */
    public Path trainData() {
        if (o.data() != null) {
            return o.data();
        }
        int n = o.quick() ? QUICK_TRAIN : 0;
        return StudyData.fashion(work().resolve("data").resolve("fashion-reference-train" + (n > 0 ? "-" + n : "")), fashionTrain(),
                StudyData.subset(fashionTrain().size(), n, 0), (label, i) -> ReferenceCaptions.caption(label, 0, i), 0, 0, 0, log);
    }

    /** The held-out data: --eval-data, or the Fashion-MNIST test split with reference captions. */
    public Path evalData() {
        if (o.evalData() != null) {
            return o.evalData();
        }
        int n = o.quick() ? QUICK_TEST : 0;
        return StudyData.fashion(work().resolve("data").resolve("fashion-reference-test" + (n > 0 ? "-" + n : "")), fashionTest(),
                StudyData.subset(fashionTest().size(), n, 0), (label, i) -> ReferenceCaptions.caption(label, 1, i), 0, 0, 0, log);
    }

    /** The main evaluation: the reference templates over the canonical names, or --eval-data's own labels. */
    public EvalSet mainEval() {
        return o.evalData() == null ? EvalSet.fashion("", evalData(), ReferenceCaptions.CANONICAL, ReferenceCaptions.TEMPLATES, true)
                : EvalSet.of("", o.evalData(), ReferenceCaptions.TEMPLATES);
    }

    /** The chance level of zero-shot top-1 on the main evaluation. */
    public double chance() {
        return 1.0 / Math.max(1, mainEval().classes().size());
    }

    /** Rows in a caption folder. */
    public static int rows(Path data) {
        try (CaptionDataset ds = CaptionDataset.open(data)) {
            return ds.size();
        }
    }

    /** The recipe's image width (96; 16 in quick mode). */
    public int imageWidth() {
        return o.quick() ? 16 : 96;
    }

    /** The pretrained image tower: --image-tower, or the recipe's ViT of {@code width}, pretrained once on the training images. */
    public String imageTower() {
        return o.imageTower() != null ? o.imageTower() : imageTower(imageWidth(), Towers.Pretraining.reference(0));
    }

    /** The recipe's ViT of {@code width} (depth 4; 1 in quick mode) pretrained by {@code how} on the reference training images. */
    public String imageTower(int width, Towers.Pretraining how) {
        Path data = o.data() != null ? o.data() : trainData();
        Towers.Pretraining h = o.quick() ? new Towers.Pretraining(0.05, 32, how.lr(), how.weightDecay(), how.seed()) : how;
        return Towers.image(be, work(), data, o.evalData() != null ? o.evalData() : evalData(), width, o.quick() ? 1 : 4, h, rows(data), log)
                .toString();
    }

    /** The from-scratch text tower: --text-tower, or the recipe's (width 96, depth 2; 16 × 1 in quick mode). */
    public String textTower() {
        return o.textTower() != null ? o.textTower() : textTower(o.quick() ? 16 : 96, 1024);
    }

    /** The recipe's text length in tokens: every reference caption fits. */
    public static final int RECIPE_CONTEXT = 16;

    /** The recipe's text transformer of {@code width} (depth 2; 1 in quick mode) over a vocabulary of {@code vocab}. */
    public String textTower(int width, int vocab) {
        return textTower(width, vocab, RECIPE_CONTEXT);
    }

    /** As {@link #textTower(int, int)} with {@code context} tokens. */
    public String textTower(int width, int vocab, int context) {
        return Towers.text(work(), width, o.quick() ? 1 : 2, vocab, context).toString();
    }

    /** The pretrained text tower for LU, UU and LL (minilm unless given). */
    public String pretrainedText() {
        return o.pretrainedText() != null ? o.pretrainedText() : StudyOptions.PRETRAINED_TEXT;
    }

    /** The shared embedding width: 64 (16 in quick mode). */
    public int embedDim() {
        return o.quick() ? 16 : 64;
    }

    /** Tuning options for one arm of {@code study} on {@code data}, with the study's budget; callers adjust and build. */
    public TuneOptions.Builder arm(String study, String arm, long seed, Path data) {
        int rows = rows(data);
        int batch = o.quick() ? Math.min(16, o.batch()) : o.batch();
        int steps = o.quick() ? 3 : o.stepsFor(rows);
        Path run = work().resolve("runs").resolve(study).resolve(arm.replaceAll("[^A-Za-z0-9._-]", "_") + "-s" + seed);
        return TuneOptions.builder().imageTower(imageTower()).textTower(textTower()).embedDim(embedDim()).data(data.toString())
                .steps(steps).batch(batch).lr(o.lr()).warmup(Math.max(0, steps / 10)).weightDecay(1e-4).clipNorm(0).temperature(10).seed(seed)
                .out(run.toString()).saveEvery(0).logEvery(Math.max(1, steps / 20)).evalEvery(0).workers(2)
                .cache(work().resolve("embedding-cache").toString()).loss("softmax");
    }

    /** Runs a built arm and adds it to the report. */
    public ArmResult tune(StudyReport report, String arm, TuneOptions t, List<EvalSet> evals) {
        ArmResult r = runner.run(arm, t, evals);
        report.add(r);
        log.println(String.format(Locale.ROOT, "lit4j study: %s seed %d: %s in %.0f s", arm, r.seed(), r.metrics(), r.seconds()));
        return r;
    }
}
