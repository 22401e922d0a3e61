package io.lit4j.train;

import io.lit4j.LitException;
import io.lit4j.model.ParamSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which parameters train. The setup's two letters, image tower first, follow the LiT paper:
 * {@code L} pretrained and locked, {@code U} pretrained and unlocked, {@code u} randomly
 * initialised and unlocked ({@code Lu} is LiT). Then {@code --freeze} patterns lock matching
 * parameter names and {@code --unfreeze} patterns unlock them again (e.g. {@code Lu} with
 * {@code --unfreeze 'img\.blocks\.(10|11)\.'} tunes the last two image blocks too). The
 * temperature {@code t} and sigmoid bias {@code b} always train unless frozen by a pattern.
 */
public record LockSpec(char image, char text, List<Pattern> freeze, List<Pattern> unfreeze) {

    public LockSpec {
        check(image, "image");
        check(text, "text");
        freeze = List.copyOf(freeze);
        unfreeze = List.copyOf(unfreeze);
    }

    private static void check(char c, String tower) {
        if (c != 'L' && c != 'U' && c != 'u') {
            throw new LitException("setup letter '" + c + "' for the " + tower + " tower: use L (locked), U (pretrained, unlocked) or u (random init)");
        }
    }

    /** Parses "Lu", "LU", "Uu", "UU", "uu" (or "LL") plus freeze/unfreeze regexes over parameter names. */
    public static LockSpec parse(String setup, List<String> freeze, List<String> unfreeze) {
        if (setup == null || setup.length() != 2) {
            throw new LitException("--setup takes two letters, image tower first: Lu (LiT), LU, Uu, UU, uu; got '" + setup + "'");
        }
        return new LockSpec(setup.charAt(0), setup.charAt(1), compile(freeze, "--freeze"), compile(unfreeze, "--unfreeze"));
    }

    private static List<Pattern> compile(List<String> regexes, String option) {
        List<Pattern> out = new ArrayList<>();
        for (String r : regexes == null ? List.<String>of() : regexes) {
            try {
                out.add(Pattern.compile(r));
            } catch (PatternSyntaxException e) {
                throw new LitException(option + " '" + r + "' is not a valid regular expression: " + e.getDescription());
            }
        }
        return out;
    }

    public String setup() {
        return "" + image + text;
    }

    /** Whether the tower is re-initialised at random before tuning. */
    public boolean randomImage() {
        return image == 'u';
    }

    public boolean randomText() {
        return text == 'u';
    }

    public boolean trainable(String name) {
        boolean on;
        if (name.startsWith("img.")) {
            on = image != 'L';
        } else if (name.startsWith("txt.")) {
            on = text != 'L';
        } else {
            on = true;
        }
        for (Pattern p : freeze) {
            if (p.matcher(name).find()) {
                on = false;
            }
        }
        for (Pattern p : unfreeze) {
            if (p.matcher(name).find()) {
                on = true;
            }
        }
        return on;
    }

    /** The trainable subset of {@code all}, in order. */
    public List<ParamSpec> trainable(List<ParamSpec> all) {
        return all.stream().filter(s -> trainable(s.name())).toList();
    }

    /** True when no image parameter trains: its embeddings can then be computed once and cached. */
    public boolean imageLocked(List<ParamSpec> all) {
        return all.stream().filter(s -> s.name().startsWith("img.")).noneMatch(s -> trainable(s.name()));
    }

    public boolean textLocked(List<ParamSpec> all) {
        return all.stream().filter(s -> s.name().startsWith("txt.")).noneMatch(s -> trainable(s.name()));
    }
}
