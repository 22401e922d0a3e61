package io.lit4j.cli;

import io.lit4j.LitModel;
import io.lit4j.dedup.DedupRule;
import io.lit4j.study.Deduplicator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code lit4j dedup}: exact and near duplicates out of a caption data set, within it and against
 * evaluation sets, by lit4j's one rule ({@link DedupRule}); see {@link Deduplicator}.
 */
@Command(name = "dedup", description = {"Remove exact and near-duplicate images from image-caption pairs (within them and against --against sets).",
        "Near: perceptual hashes within --max-hamming bits, confirmed by the image tower's embedding cosine."})
final class DedupCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "image-caption pairs to clean")
    Path data;

    @Option(names = "--against", paramLabel = "DIR", description = "evaluation set whose images must not be in the pairs (repeatable)")
    List<Path> against = List.of();

    @Option(names = {"--image-tower", "--model"}, required = true, description = "checkpoint whose image tower confirms near duplicates")
    String tower;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "DIR/cleaned (the pairs kept) and DIR/report (dedup.json, borderline.png)")
    Path out;

    @Mixin
    DedupRuleOptions thresholds;

    @Override
    public Integer call() {
        DedupRule rule = thresholds.rule();
        Deduplicator.Result r;
        try (LitModel m = LitModel.open(tower, LitModel.Options.defaults().withBackend(common.backend).withThreads(common.threads()))) {
            r = Deduplicator.run(m, data, against, out, rule, common.log());
        }
        PrintWriter pw = spec.commandLine().getOut();
        pw.println(String.format(Locale.ROOT, "%d rows: %d kept; removed %d exact and %d near duplicates within the set, %d exact and %d near "
                        + "duplicates of --against images; %d repeated captions (counted, not removed)", r.rows(), r.kept(), r.exactPixels(),
                r.nearInSet(), r.exactAgainstEval(), r.nearAgainstEval(), r.repeatedCaptions()));
        pw.println("cleaned: " + r.cleaned() + ", report: " + r.report() + ", borderline pairs: " + r.sheet());
        return 0;
    }
}
