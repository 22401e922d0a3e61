package io.lit4j.study;

import io.lit4j.LitException;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;
import io.lit4j.train.TuneOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code lit4j study setups} (LiT §3, Figure 3): which tower to lock. Lu, Uu and uu with the
 * from-scratch text tower; LU, UU and LL with the pretrained text tower (MiniLM); and
 * L-frozen-random, a random text tower kept frozen with only the heads and temperature trained
 * (what a text tower that learns nothing scores). LL keeps MiniLM frozen the same way, its new head
 * trained: lit4j's L locks a tower's head too, so LL as the letters say trains only the temperature
 * and scores chance (0.0746 top-1 in the reference recipe); with the head trained it measures what
 * frozen pretrained text features give against L-frozen-random's frozen random ones. Same data,
 * steps and seed for every setup; zero-shot top-1/5 and retrieval R@1/5/10 both ways, and the
 * tuning time of each (Lu reads the locked tower's embeddings from the cache after its first
 * epoch of them).
 */
public final class SetupsStudy {
    /** Every setup, in the order of the table. */
    public static final List<String> ALL = List.of("Lu", "Uu", "uu", "LU", "UU", "LL", "L-frozen-random");

    private SetupsStudy() {
    }

    public static StudyReport run(StudyContext c, List<String> setups) {
        for (String s : setups) {
            if (!ALL.contains(s)) {
                throw new LitException("--setups: unknown setup '" + s + "' (have " + ALL + ")");
            }
        }
        StudyReport report = new StudyReport("setups", c.options());
        report.keepEarlierArms(); // this run's arms join (and replace, per setup and seed) those already in the folder's table
        Path data = c.trainData();
        List<EvalSet> evals = List.of(c.mainEval());
        for (long seed : c.options().seeds()) {
            for (String s : setups) {
                TuneOptions.Builder b = c.arm("setups", s, seed, data);
                if (s.equals("L-frozen-random")) {
                    b.setup("Lu").freeze(List.of("^txt\\.")).unfreeze(List.of("^txt\\.head\\."));
                } else {
                    b.setup(s);
                    if (s.charAt(1) != 'u') {
                        b.textTower(c.pretrainedText());
                        if (c.pretrainedText().equals(StudyOptions.PRETRAINED_TEXT)) { // MiniLM pads every text to 128 tokens; the recipe's 16 hold every caption
                            b.textContext(StudyContext.RECIPE_CONTEXT);
                        }
                    }
                    if (s.equals("LL")) { // as L-frozen-random: with its head locked too, only t would train (chance)
                        b.unfreeze(List.of("^txt\\.head\\."));
                    }
                }
                c.tune(report, s, b.build(), evals);
            }
        }
        // the table: every arm, this run's and the earlier ones kept, by seed and then in the order of ALL
        List<ArmResult> arms = new ArrayList<>(report.arms());
        arms.sort(Comparator.comparingLong(ArmResult::seed).thenComparingInt(r -> ALL.indexOf(r.arm())));
        Map<String, List<ArmResult>> bySetup = new TreeMap<>(Comparator.comparingInt(ALL::indexOf));
        arms.forEach(r -> bySetup.computeIfAbsent(r.arm(), k -> new ArrayList<>()).add(r));
        List<Long> seeds = arms.stream().map(ArmResult::seed).distinct().toList();
        Table t = new Table("setup", "seed", "image tower", "text tower", "top-1", "top-5", "I→T R@1", "I→T R@5", "I→T R@10", "T→I R@1",
                "T→I R@5", "T→I R@10", "tuning s");
        for (ArmResult r : arms) {
            t.row(r.arm(), r.seed(), describe(r.arm(), 0), describe(r.arm(), 1), f(r.metric("top1")), f(r.metric("top5")), f(r.metric("i2t_r1")),
                    f(r.metric("i2t_r5")), f(r.metric("i2t_r10")), f(r.metric("t2i_r1")), f(r.metric("t2i_r5")), f(r.metric("t2i_r10")),
                    String.format(Locale.ROOT, "%.0f", r.seconds()));
        }
        report.table(t);
        List<String> names = List.copyOf(bySetup.keySet());
        double chance = c.chance();
        String on = c.reference() ? "Fashion-MNIST test (10 classes, reference templates)" : c.options().evalData().toString();
        report.chart("setups.png", png -> {
            BarPlot p = new BarPlot("LiT setups: zero-shot top-1, same data, steps and seed", "setup (image tower letter, text tower letter)",
                    "zero-shot top-1 on " + on, names)
                    .subtitle("L: pretrained, locked   U: pretrained, tuned   u: random init, tuned   LL, L-frozen-random: text tower frozen, its head tuned");
            for (long seed : seeds) {
                double[] v = new double[names.size()];
                for (int i = 0; i < names.size(); i++) {
                    v[i] = bySetup.get(names.get(i)).stream().filter(r -> r.seed() == seed).mapToDouble(r -> r.metric("top1")).findFirst()
                            .orElse(Double.NaN);
                }
                p.series("seed " + seed, v);
            }
            p.line(String.format(Locale.ROOT, "chance (1 of %d classes)", Math.round(1 / chance)), chance).save(png);
        });
        Map<String, Double> mean = new LinkedHashMap<>();
        bySetup.forEach((s, rs) -> mean.put(s, rs.stream().mapToDouble(r -> r.metric("top1")).average().orElse(Double.NaN)));
        String best = mean.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("?");
        report.finding(String.format(Locale.ROOT, "best zero-shot top-1 (mean over %s): %s at %.4f; %s",
                bySetup.values().stream().allMatch(rs -> rs.size() == seeds.size()) ? seeds.size() + " seed(s)" : "the seeds each setup ran", best,
                mean.get(best), order(mean)));
        if (bySetup.containsKey("Lu") && bySetup.containsKey("Uu")) {
            double lu = bySetup.get("Lu").stream().mapToDouble(ArmResult::seconds).average().orElse(Double.NaN);
            double uu = bySetup.get("Uu").stream().mapToDouble(ArmResult::seconds).average().orElse(Double.NaN);
            report.finding(String.format(Locale.ROOT, "tuning time: Lu %.0f s, Uu %.0f s (Uu/Lu = %.1fx; Lu embeds the locked tower once, into the cache)",
                    lu, uu, uu / lu));
        }
        return report;
    }

    static String order(Map<String, Double> mean) {
        List<Map.Entry<String, Double>> e = new ArrayList<>(mean.entrySet());
        e.sort(Map.Entry.<String, Double>comparingByValue().reversed());
        StringBuilder sb = new StringBuilder("order: ");
        for (int i = 0; i < e.size(); i++) {
            sb.append(i == 0 ? "" : " > ").append(e.get(i).getKey()).append(String.format(Locale.ROOT, " %.3f", e.get(i).getValue()));
        }
        return sb.toString();
    }

    static String f(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String describe(String setup, int tower) {
        if (setup.equals("L-frozen-random")) {
            return tower == 0 ? "pretrained, locked" : "random, frozen";
        }
        if (setup.equals("LL")) {
            return tower == 0 ? "pretrained, locked" : "pretrained, frozen";
        }
        return switch (setup.charAt(tower)) {
            case 'L' -> "pretrained, locked";
            case 'U' -> "pretrained, tuned";
            default -> "random init, tuned";
        };
    }
}
