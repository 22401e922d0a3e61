package io.lit4j.datasets;

import io.lit4j.eval.Templates;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fashion-MNIST captions never coincide with the zero-shot prompt templates: no caption equals or
 * contains a template filled with any class name or alias, and no caption (nor frame) is a
 * template with a word changed, added or removed.
 */
class FashionCaptionsTest {
    private static final int IMAGES = 20_000;

    private static List<String> templates() {
        Set<String> all = new LinkedHashSet<>(Templates.load(Templates.CLIP_80));
        all.addAll(Templates.load(Templates.CLIP_BEST));
        return List.copyOf(all);
    }

    /** Every name a class goes by: the official names and all aliases, lower case. */
    private static List<String> allNames() {
        Set<String> names = new LinkedHashSet<>();
        for (String n : FashionMnist.classNames()) {
            names.add(n.toLowerCase(Locale.ROOT));
        }
        for (String a : FashionMnist.aliases()) {
            for (String s : a.split(",")) {
                names.add(s.strip());
            }
        }
        return List.copyOf(names);
    }

    private static Pattern word(String w) {
        return Pattern.compile("(?<![\\w-])" + Pattern.quote(w) + "(?![\\w-])");
    }

    /** Words of a sentence, lower case, punctuation other than hyphens and apostrophes dropped. */
    static List<String> tokens(String s) {
        List<String> out = new ArrayList<>();
        for (String t : s.toLowerCase(Locale.ROOT).replaceAll("[.,:;!?\"]", " ").trim().split("\\s+")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    static int wordDistance(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int j = 0; j <= b.size(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.size(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.size(); j++) {
                int sub = prev[j - 1] + (a.get(i - 1).equals(b.get(j - 1)) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    /** The caption with every name of its class replaced by {}, longest names first. */
    private static String skeleton(String caption, int label) {
        List<String> nouns = new ArrayList<>(FashionCaptions.CLASSES.get(label).nouns());
        nouns.sort(Comparator.comparingInt(String::length).reversed());
        String s = caption;
        for (String n : nouns) {
            s = word(n).matcher(s).replaceAll("{}");
        }
        return s;
    }

    private record Sample(int label, String caption) {
    }

    private static List<Sample> sample() {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            int label = i % 10;
            List<String> caps = FashionMnist.captions(label, 1234, FashionMnist.Split.TRAIN, i);
            assertTrue(caps.size() >= 2 && caps.size() <= 3, caps.toString());
            assertEquals(caps.size(), new HashSet<>(caps).size(), "distinct captions per image: " + caps);
            for (String c : caps) {
                out.add(new Sample(label, c));
            }
        }
        return out;
    }

    @Test
    void everyCaptionNamesItsClassAndNoOther() {
        List<String> names = allNames();
        for (Sample s : sample()) {
            boolean own = false;
            for (String n : FashionCaptions.CLASSES.get(s.label()).nouns()) {
                own |= word(n).matcher(s.caption()).find();
            }
            assertTrue(own, "caption does not name its class " + s.label() + ": " + s.caption());
            for (String n : names) {
                if (word(n).matcher(s.caption()).find()) {
                    int c = FashionMnist.classIndex(n);
                    assertEquals(s.label(), c, "'" + s.caption() + "' names another class: " + n);
                }
            }
        }
    }

    @Test
    void noCaptionIsOrContainsAFilledTemplate() {
        Set<String> captions = new HashSet<>();
        for (Sample s : sample()) {
            captions.add(s.caption().toLowerCase(Locale.ROOT));
        }
        List<String> filled = new ArrayList<>();
        for (String t : templates()) {
            for (String n : allNames()) {
                String f = Templates.fill(t, n).toLowerCase(Locale.ROOT);
                filled.add(f.endsWith(".") ? f.substring(0, f.length() - 1) : f);
            }
        }
        for (String c : captions) {
            for (String f : filled) {
                if (c.contains(f)) {
                    fail("caption '" + c + "' contains the prompt '" + f + "'");
                }
            }
        }
    }

    @Test
    void noCaptionIsATemplateWithAWordChanged() {
        List<List<String>> tpl = new ArrayList<>();
        for (String t : templates()) {
            tpl.add(tokens(t));
        }
        Set<String> seen = new HashSet<>();
        for (Sample s : sample()) {
            String sk = skeleton(s.caption(), s.label());
            if (!seen.add(sk)) {
                continue;
            }
            List<String> words = tokens(sk);
            for (int i = 0; i < tpl.size(); i++) {
                int d = wordDistance(words, tpl.get(i));
                if (d < 2) {
                    fail("caption '" + s.caption() + "' is " + d + " word(s) from the template '" + templates().get(i) + "'");
                }
            }
        }
        assertTrue(seen.size() > 2000, "varied captions: " + seen.size() + " distinct skeletons");
    }

    @Test
    void framesAreManyDistinctAndNotTemplates() {
        List<String> frames = FashionCaptions.FRAMES;
        assertTrue(frames.size() >= 25, frames.size() + " frames");
        assertEquals(frames.size(), new HashSet<>(frames).size(), "no duplicate frame");
        List<String> tpl = templates();
        for (String f : frames) {
            for (String np : List.of("a {}", "the {}", "a pair of {}", "some {}", "{}")) {
                List<String> words = tokens(f.replace("{np}", np).replace("{n}", "{}").replace("{cat}", "clothing"));
                for (String t : tpl) {
                    assertTrue(wordDistance(words, tokens(t)) >= 2, "frame '" + f + "' is close to the template '" + t + "'");
                }
            }
        }
        for (String adj : FashionCaptions.GENERIC_ADJECTIVES) {
            for (String t : tpl) {
                assertFalse(tokens(t).contains(adj), "adjective '" + adj + "' is a template word in '" + t + "'");
            }
        }
        for (FashionCaptions.Words w : FashionCaptions.CLASSES) {
            for (String adj : w.adjectives()) {
                for (String t : tpl) {
                    assertFalse(tokens(t).contains(adj), "adjective '" + adj + "' is a template word in '" + t + "'");
                }
            }
        }
    }

    @Test
    void captionsAreSeededAndVaried() {
        assertEquals(FashionMnist.captions(3, 9, FashionMnist.Split.TEST, 17),
                FashionMnist.captions(3, 9, FashionMnist.Split.TEST, 17));
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            distinct.addAll(FashionMnist.captions(2, new SplittableRandom(i)));
        }
        assertTrue(distinct.size() > 300, distinct.size() + " distinct pullover captions in 200 images");
    }
}
