package io.lit4j.eval;

import io.lit4j.LitException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Zero-shot prompt templates, one per line with {@code {}} where the class name goes.
 * Built in: {@code clip_80} (CLIP's 80 ImageNet templates, in CLIP's order, typos such as
 * "a origami {}." kept) and {@code clip_best} (big_vision's 7 {@code clip_best} ones).
 */
public final class Templates {
    /** CLIP's 80 ImageNet prompt templates. */
    public static final String CLIP_80 = "clip_80";
    /** big_vision's 7 best of CLIP's templates. */
    public static final String CLIP_BEST = "clip_best";
    /**
     * The set every command and {@code LitModel} uses unless told otherwise: CLIP's 80, with which
     * the default model's card was measured.
     */
    public static final String DEFAULT = CLIP_80;
    /** The built-in set names. */
    public static final List<String> BUILT_IN = List.of(CLIP_80, CLIP_BEST);

    private static final String RESOURCE_DIR = "/io/lit4j/templates/";

    private Templates() {
    }

    /**
     * A built-in set by name ({@code clip_80}, {@code clip_best}) or a text file: one template per
     * line, blank lines and lines starting with {@code #} skipped, surrounding spaces stripped.
     * A file line without {@code {}} is an error (the classifier would append the class name).
     */
    public static List<String> load(String nameOrPath) {
        if (BUILT_IN.contains(nameOrPath)) {
            String res = RESOURCE_DIR + nameOrPath + ".txt";
            try (InputStream in = Templates.class.getResourceAsStream(res)) {
                if (in == null) {
                    throw new LitException("built-in template set '" + nameOrPath + "' is missing from the jar ("
                            + res + "); the build is broken");
                }
                return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), res);
            } catch (IOException e) {
                throw new LitException("cannot read " + res + ": " + e.getMessage(), e);
            }
        }
        Path p = Path.of(nameOrPath);
        if (!Files.isRegularFile(p)) {
            throw new LitException("no template set '" + nameOrPath + "': not one of " + BUILT_IN
                    + " and not a file");
        }
        try {
            return parse(Files.readString(p, StandardCharsets.UTF_8), p.toString());
        } catch (IOException e) {
            throw new LitException("cannot read templates from " + p + ": " + e.getMessage(), e);
        }
    }

    static List<String> parse(String text, String source) {
        List<String> out = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String t = lines[i].strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            if (!t.contains("{}")) {
                throw new LitException(source + " line " + (i + 1) + ": template '" + t
                        + "' has no {} where the class name goes");
            }
            out.add(t);
        }
        if (out.isEmpty()) {
            throw new LitException(source + " holds no templates");
        }
        return List.copyOf(out);
    }

    /** The template with every {@code {}} replaced by {@code className}. */
    public static String fill(String template, String className) {
        return template.replace("{}", className);
    }
}
