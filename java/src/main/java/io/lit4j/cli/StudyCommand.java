package io.lit4j.cli;

import io.lit4j.CacheDir;
import io.lit4j.backend.Backends;
import io.lit4j.study.DuplicatesStudy;
import io.lit4j.study.LockRegimeStudy;
import io.lit4j.study.MultilingualStudy;
import io.lit4j.study.SetupsStudy;
import io.lit4j.study.SizeStudy;
import io.lit4j.study.StudyContext;
import io.lit4j.study.StudyOptions;
import io.lit4j.study.StudyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code lit4j study ...}: the LiT paper's studies, each one command that tunes its arms, prints
 * the paper-style table and writes {@code table.md}, {@code results.json}, a PNG and the command
 * into {@code --out/<study>/} (see {@link io.lit4j.study}). Without {@code --data} and friends a
 * study runs the reference recipe on Fashion-MNIST; {@code --quick} checks the plumbing in seconds.
 */
@Command(name = "study", description = {"The LiT paper's studies as commands: a table, a PNG and a JSON each, into --out/<study>/.",
        "Without --data/--eval-data/--image-tower/--text-tower: the reference recipe on Fashion-MNIST (dataset-fashion-mnist)."},
        subcommands = {StudyCommand.Setups.class, StudyCommand.LockRegime.class, StudyCommand.Size.class, StudyCommand.Duplicates.class,
                StudyCommand.Multilingual.class})
final class StudyCommand {
    /** The options every study takes. */
    static final class Shared {
        @Option(names = "--data", paramLabel = "DIR", description = "training image-caption pairs (default: Fashion-MNIST train, reference captions)")
        Path data;

        @Option(names = "--eval-data", paramLabel = "DIR", description = "held-out data, labelled for zero-shot (default: Fashion-MNIST test)")
        Path evalData;

        @Option(names = "--image-tower", description = "pretrained image tower checkpoint (default: the recipe's ViT, pretrained once and cached)")
        String imageTower;

        @Option(names = "--text-tower", description = "from-scratch text tower config.json (default: the recipe's transformer)")
        String textTower;

        @Option(names = "--quick", description = "tiny data, towers and steps: checks the plumbing in seconds, finds nothing")
        boolean quick;

        @Option(names = "--seeds", split = ",", description = "seeds (one run per arm and seed)", defaultValue = "0")
        List<Long> seeds;

        @Option(names = "--batch", description = "pairs per step", defaultValue = StudyOptions.BATCH)
        int batch;

        @Option(names = "--epochs", description = "passes over the tuning pairs per arm", defaultValue = StudyOptions.EPOCHS)
        double epochs;

        @Option(names = "--steps", description = "steps per arm (0: from --epochs)", defaultValue = StudyOptions.STEPS)
        int steps;

        @Option(names = "--lr", description = "peak learning rate (10%% warmup, cosine to 0)", defaultValue = StudyOptions.LR)
        double lr;

        @Option(names = "--eval-limit", description = "evaluate on at most N images (0: all)", defaultValue = StudyOptions.EVAL_LIMIT)
        int evalLimit;

        @Option(names = "--out", paramLabel = "DIR", description = "results: DIR/<study>/", defaultValue = "models/studies")
        Path out;

        @Option(names = "--replace", description = "start the study's table afresh (default: add this run's arms to DIR/<study>/results.json, "
                + "replacing those of the same arm and seed; setups)")
        boolean replace;

        @Option(names = "--work", paramLabel = "DIR", description = "cache of derived data, pretrained towers and run folders (default: ~/.cache/lit4j/studies)")
        Path work;

        StudyOptions options(CommandSpec spec, String pretrainedText) {
            List<String> args = spec.root().commandLine().getParseResult().originalArgs();
            String command = "lit4j " + args.stream().map(a -> a.matches("[A-Za-z0-9_./=:,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'")
                    .collect(Collectors.joining(" "));
            return new StudyOptions(data, evalData, imageTower, textTower, pretrainedText, quick, out,
                    work != null ? work : CacheDir.root().resolve("studies"), seeds, batch, epochs, steps, lr, evalLimit, replace, command);
        }

        /** Opens the engine, runs the study, writes and prints its report. */
        int run(Main.Common common, CommandSpec spec, String pretrainedText, Function<StudyContext, StudyReport> study) {
            StudyOptions o = options(spec, pretrainedText);
            try (Backends.Choice engine = Backends.open(common.backend, common.threads())) {
                StudyReport r = study.apply(new StudyContext(engine.backend(), o, common.log()));
                Path dir = r.write(o.out());
                spec.commandLine().getOut().print(r.summary());
                spec.commandLine().getOut().println("results: " + dir);
                spec.commandLine().getOut().flush();
            }
            return 0;
        }
    }

    @Command(name = "setups", description = "Lu, Uu, uu; LU, UU, LL with a pretrained text tower; L-frozen-random: same data, steps, seed.")
    static final class Setups implements Callable<Integer> {
        @Mixin
        Main.Common common;

        @Mixin
        Shared shared;

        @Spec
        CommandSpec spec;

        @Option(names = "--setups", split = ",", description = "which setups", defaultValue = "Lu,Uu,uu,LU,UU,LL,L-frozen-random")
        List<String> setups;

        @Option(names = "--pretrained-text-tower", description = "the pretrained text tower of LU, UU and LL", defaultValue = StudyOptions.PRETRAINED_TEXT)
        String pretrainedText;

        @Override
        public Integer call() {
            return shared.run(common, spec, pretrainedText, c -> SetupsStudy.run(c, setups));
        }
    }

    @Command(name = "lock-regime", description = "Lu vs Uu vs uu over few/many and clean/noisy tuning pairs: where does locking win?")
    static final class LockRegime implements Callable<Integer> {
        @Mixin
        Main.Common common;

        @Mixin
        Shared shared;

        @Spec
        CommandSpec spec;

        @Option(names = "--pairs", split = ",", description = "tuning pair counts", defaultValue = "1000,5000,60000")
        List<Integer> pairs;

        @Option(names = "--wrong", split = ",", description = "shares of wrong captions", defaultValue = "0,0.2,0.5")
        List<Double> wrong;

        @Override
        public Integer call() {
            return shared.run(common, spec, null, c -> LockRegimeStudy.run(c, c.options().quick() ? List.of(200, 600) : pairs,
                    c.options().quick() ? List.of(0.0, 0.5) : wrong));
        }
    }

    @Command(name = "size", description = "image-tower widths x text-tower widths, setup Lu: which tower's size matters?")
    static final class Size implements Callable<Integer> {
        @Mixin
        Main.Common common;

        @Mixin
        Shared shared;

        @Spec
        CommandSpec spec;

        @Option(names = "--image-widths", split = ",", description = "image tower widths (depth 4)", defaultValue = "48,96,192")
        List<Integer> imageWidths;

        @Option(names = "--text-widths", split = ",", description = "text tower widths (depth 2)", defaultValue = "48,96,192")
        List<Integer> textWidths;

        @Option(names = "--pretrain-epochs", description = "the short pretraining recipe of every image tower", defaultValue = "1")
        double pretrainEpochs;

        @Override
        public Integer call() {
            return shared.run(common, spec, null, c -> SizeStudy.run(c, c.options().quick() ? List.of(8, 16) : imageWidths,
                    c.options().quick() ? List.of(8, 16) : textWidths, pretrainEpochs));
        }
    }

    @Command(name = "duplicates", description = "Lu on the pairs as they are, de-duplicated, and with duplicates injected.")
    static final class Duplicates implements Callable<Integer> {
        @Mixin
        Main.Common common;

        @Mixin
        Shared shared;

        @Spec
        CommandSpec spec;

        @Option(names = "--inject-share", description = "share of rows to repeat", defaultValue = "0.1")
        double share;

        @Option(names = "--inject-copies", description = "extra copies of each repeated row", defaultValue = "4")
        int copies;

        @Mixin
        DedupRuleOptions thresholds;

        @Override
        public Integer call() {
            return shared.run(common, spec, null, c -> DuplicatesStudy.run(c, share, copies, thresholds.rule()));
        }
    }

    @Command(name = "multilingual", description = "Lu tuned on English only vs six languages; zero-shot per evaluation language.")
    static final class Multilingual implements Callable<Integer> {
        @Mixin
        Main.Common common;

        @Mixin
        Shared shared;

        @Spec
        CommandSpec spec;

        @Option(names = "--tokenizer", description = "the multilingual SentencePiece model", defaultValue = "models/studies/tokenizer/lit4j-6lang.model")
        Path tokenizer;

        @Option(names = "--all-languages-data", paramLabel = "DIR", description = "multilingual tuning pairs (default: Fashion-MNIST, six languages)")
        Path allData;

        @Option(names = "--write-corpus", paramLabel = "FILE", description = "only write the tokenizer's training text to FILE (for make-tokenizer.sh)")
        Path corpus;

        @Override
        public Integer call() {
            if (corpus != null) {
                StudyOptions o = shared.options(spec, null);
                MultilingualStudy.writeCorpus(new StudyContext(null, o, common.log()), corpus);
                spec.commandLine().getOut().println("corpus: " + corpus);
                return 0;
            }
            return shared.run(common, spec, null, c -> MultilingualStudy.run(c, tokenizer, allData));
        }
    }
}
