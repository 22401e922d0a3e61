package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.eval.LabelCheck;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Class lists from the command line: "a,b,c", repeated --label "name,alias", or a file of one class
 * per line; {@link #classes} turns each "name,alias,..." into the API's class with its aliases.
 */
final class Labels {
    /** Warnings shown before "and N more". */
    private static final int MAX_WARNINGS = 8;

    private Labels() {
    }

    /** The options that name classes. */
    static final class Options {
        @Option(names = "--labels", paramLabel = "A,B,C", description = "classes, comma-separated: \"cat,dog,car\"")
        String labels;

        @Option(names = "--label", paramLabel = "NAME[,ALIAS...]", description = "one class with aliases, \"sneaker,trainer,running shoe\" (repeatable)")
        List<String> label;

        @Option(names = "--labels-file", paramLabel = "FILE", description = "one class per line, aliases comma-separated; # starts a comment")
        Path labelsFile;

        List<String> parse() {
            return Labels.parse(labels, label, labelsFile);
        }
    }

    static List<String> parse(String labels, List<String> each, Path file) {
        List<String> out = new ArrayList<>();
        if (labels != null) {
            for (String l : labels.split(",")) {
                if (!l.isBlank()) {
                    out.add(l.strip());
                }
            }
        }
        if (each != null) {
            each.stream().filter(l -> !l.isBlank()).forEach(out::add);
        }
        if (file != null) {
            if (Files.isDirectory(file)) {
                throw new LitException(file + ": is a folder; --labels-file wants a text file of one class per line");
            }
            try {
                Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).forEach(out::add);
            } catch (IOException e) {
                throw new LitException(file + ": cannot read the labels file: " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new LitException("no labels: give --labels \"cat,dog\", --label \"sneaker,trainer\" (one class with aliases, repeatable) or --labels-file FILE");
        }
        return out;
    }

    /** Says on stderr which classes the model cannot read well (unknown tokens, prompts cut at the context). */
    static void warn(Main.Common common, LitModel m, List<String> classes, String templates) {
        if (common.quiet || m.tokenizer() == null) {
            return;
        }
        List<String> w = LabelCheck.warnings(m.tokenizer(), m.config().text().contextLength(), m.config().text().tokenPolicy(),
                classes(classes), Templates.load(templates));
        w.stream().limit(MAX_WARNINGS).forEach(line -> common.note("warning: " + line));
        if (w.size() > MAX_WARNINGS) {
            common.note("warning: and " + (w.size() - MAX_WARNINGS) + " more like these");
        }
    }

    /** Each spec "sneaker,trainer,running shoe" as a class named "sneaker" prompted as all three. */
    static List<ZeroShotClassifier.Label> classes(List<String> specs) {
        List<ZeroShotClassifier.Label> out = new ArrayList<>();
        for (String spec : specs) {
            List<String> names = Arrays.stream(spec.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList();
            if (names.isEmpty()) {
                throw new LitException("empty label '" + spec + "': give a class name, e.g. --label \"sneaker,trainer\"");
            }
            out.add(new ZeroShotClassifier.Label(names.get(0), names));
        }
        return out;
    }
}
