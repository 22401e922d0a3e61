package io.lit4j.study;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.dedup.DedupRule;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code lit4j study duplicates} (LiT §5.4): does de-duplicating the tuning pairs matter? Tunes Lu
 * with the same steps on the pairs as they are, on the pairs {@link Deduplicator} cleaned (within
 * the set and against the evaluation set), and on the pairs with extra exact duplicates injected
 * (a share of the rows repeated several times), and reports the difference.
 */
public final class DuplicatesStudy {
    private DuplicatesStudy() {
    }

    /** Runs the study with {@code rule}'s thresholds (recorded in the report; the cleaned set's folder names them unless they are the defaults). */
    public static StudyReport run(StudyContext c, double injectShare, int injectCopies, DedupRule rule) {
        StudyReport report = new StudyReport("duplicates", c.options());
        report.option("max_hamming", rule.maxHamming()).option("cosine", rule.cosine()).option("eval_cosine", rule.evalCosine())
                .option("inject_share", injectShare).option("inject_copies", injectCopies);
        Path data = c.trainData();
        Path eval = c.evalData();
        String tower = c.imageTower();
        // the folder names the thresholds, so an arm cached on one rule's cleaned set is never reused for another's
        Path dedupOut = c.work().resolve("data").resolve(data.getFileName() + "-dedup" + (rule.equals(DedupRule.DEFAULT) ? ""
                : String.format(Locale.ROOT, "-h%d-c%s-e%s", rule.maxHamming(), rule.cosine(), rule.evalCosine())));
        Deduplicator.Result d;
        try (LitModel m = LitModel.load(Path.of(tower), LitModel.Options.defaults().withThreads(c.backend().threads()))) {
            d = Deduplicator.run(m, data, List.of(eval), dedupOut, rule, c.log());
        }
        int rows = StudyContext.rows(data);
        Path injected = c.work().resolve("data").resolve(String.format(Locale.ROOT, "%s-inject%02.0fx%d", data.getFileName(), injectShare * 100,
                injectCopies));
        if (!Files.isRegularFile(injected.resolve("captions.jsonl"))) {
            boolean[] keep = new boolean[rows];
            int[] repeat = new int[rows];
            Arrays.fill(keep, true);
            SplittableRandom rng = new SplittableRandom(17);
            for (int i = 0; i < rows; i++) {
                repeat[i] = rng.nextDouble() < injectShare ? injectCopies : 0;
            }
            StudyData.copy(data, injected, keep, repeat, c.log());
        }
        int steps = c.options().quick() ? 3 : c.options().stepsFor(rows);
        List<EvalSet> evals = List.of(c.mainEval());
        long seed = c.options().seeds().getFirst();
        String[] arms = {"as is", "deduplicated", "duplicates injected"};
        Path[] sets = {data, d.cleaned(), injected};
        Table t = new Table("tuning pairs", "rows", "top-1", "top-5", "I→T R@1", "T→I R@1", "tuning s");
        double[] top1 = new double[arms.length];
        for (int i = 0; i < arms.length; i++) {
            ArmResult r = c.tune(report, arms[i], c.arm("duplicates", arms[i], seed, sets[i]).setup("Lu").imageTower(tower).steps(steps)
                    .warmup(steps / 10).build(), evals);
            top1[i] = r.metric("top1");
            t.row(arms[i], StudyContext.rows(sets[i]), SetupsStudy.f(r.metric("top1")), SetupsStudy.f(r.metric("top5")),
                    SetupsStudy.f(r.metric("i2t_r1")), SetupsStudy.f(r.metric("t2i_r1")), String.format(Locale.ROOT, "%.0f", r.seconds()));
        }
        report.table(t);
        report.finding(String.format(Locale.ROOT, "dedup of %d rows: %d exact pixel duplicates and %d near duplicates within the set, %d exact "
                        + "and %d near duplicates of evaluation images removed (%d kept); %d repeated captions counted, not removed",
                d.rows(), d.exactPixels(), d.nearInSet(), d.exactAgainstEval(), d.nearAgainstEval(), d.kept(), d.repeatedCaptions()));
        report.finding(describe(rule));
        report.finding(String.format(Locale.ROOT, "top-1: as is %.4f, deduplicated %.4f (%+.4f), duplicates injected %.4f (%+.4f)", top1[0], top1[1],
                top1[1] - top1[0], top1[2], top1[2] - top1[0]));
        report.note(String.format(Locale.ROOT, "injected: %.0f%% of the rows repeated %d more times as byte-identical images; every arm tunes %d "
                + "steps; dedup report and contact sheet: %s", injectShare * 100, injectCopies, steps, d.report().getParent()));
        double chance = c.chance();
        report.chart("duplicates.png", png -> new BarPlot("Duplicates in the tuning pairs: zero-shot top-1 (Lu, same steps)",
                "tuning pairs", "zero-shot top-1 on " + (c.reference() ? "Fashion-MNIST test" : eval.toString()), List.of(arms))
                .series("zero-shot top-1", top1).line("chance", chance).save(png));
        report.chart("borderline.png", png -> {
            try {
                Files.copy(d.sheet(), png);
            } catch (IOException e) {
                throw new LitException("cannot copy " + d.sheet() + ": " + e.getMessage(), e);
            }
        });
        return report;
    }

    /** The rule's thresholds in words, saying whether they are the defaults. */
    static String describe(DedupRule rule) {
        return String.format(Locale.ROOT, "dedup rule%s: perceptual hashes within Hamming %d, confirmed by embedding cosine >= %s (>= %s against "
                + "the evaluation set)", rule.equals(DedupRule.DEFAULT) ? " (the defaults)" : "", rule.maxHamming(), rule.cosine(), rule.evalCosine());
    }
}
