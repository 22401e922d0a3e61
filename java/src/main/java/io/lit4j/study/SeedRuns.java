package io.lit4j.study;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * One arm's runs in a study report, over every seed it has (this run's and the earlier ones kept),
 * as the size and lock-regime tables show them: a metric's mean, and a cell with the mean and half
 * the seeds' range.
 */
record SeedRuns(List<ArmResult> runs) {
    static SeedRuns of(StudyReport report, String arm) {
        return new SeedRuns(report.arms().stream().filter(r -> r.arm().equals(arm)).toList());
    }

    TreeSet<Long> seeds() {
        return runs.stream().map(ArmResult::seed).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The mean of {@code metric} over the seeds (NaN without runs, or where a run lacks it). */
    double mean(String metric) {
        return Arrays.stream(values(metric)).average().orElse(Double.NaN);
    }

    /** A table cell: the mean of {@code metric} over the seeds that have it, with half their range ({@code ±}) when there are several. */
    String cell(String metric) {
        double[] v = Arrays.stream(values(metric)).filter(x -> !Double.isNaN(x)).toArray(); // an arm without this metric (no such evaluation)
        if (v.length <= 1) {
            return SetupsStudy.f(v.length == 0 ? Double.NaN : v[0]);
        }
        double lo = Arrays.stream(v).min().orElseThrow(), hi = Arrays.stream(v).max().orElseThrow();
        return SetupsStudy.f(Arrays.stream(v).average().orElseThrow()) + String.format(Locale.ROOT, " ±%.4f", (hi - lo) / 2);
    }

    /** Seeds as a table's "seeds" column lists them: "0,1". */
    static String list(Collection<Long> seeds) {
        return seeds.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private double[] values(String metric) {
        return runs.stream().mapToDouble(r -> r.metric(metric)).toArray();
    }
}
