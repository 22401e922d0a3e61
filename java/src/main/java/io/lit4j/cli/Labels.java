package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.eval.ZeroShotClassifier;

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
    private Labels() {
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
