package io.lit4j.datasets;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The studies' caption recipes: the reference recipe word for word, and six real languages. */
class StudyCaptionsTest {
    @Test
    void theArticleRuleIsTheRecipes() {
        assertEquals("a pair of", ReferenceCaptions.article("trousers"));
        assertEquals("a pair of", ReferenceCaptions.article("sandals"));
        assertEquals("a", ReferenceCaptions.article("trouser"));
        assertEquals("a", ReferenceCaptions.article("sandal"));
        assertEquals("an", ReferenceCaptions.article("ankle boot"));
        assertEquals("an", ReferenceCaptions.article("overcoat"));
        assertEquals("a", ReferenceCaptions.article("t-shirt"));
    }

    @Test
    void referenceCaptionsUseEveryFrameAndNameAndNothingElse() {
        assertEquals(20, ReferenceCaptions.FRAMES.size());
        assertEquals(10, ReferenceCaptions.TEMPLATES.size());
        Set<String> frames = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < 20000; i++) {
            int label = i % 10;
            String c = ReferenceCaptions.caption(label, 3, i);
            assertEquals(c, ReferenceCaptions.caption(label, 3, i), "the caption of an image is fixed");
            boolean matched = false;
            for (String f : ReferenceCaptions.FRAMES) {
                for (String n : ReferenceCaptions.NAMES.get(label)) {
                    if (c.equals(f.replace("{a}", ReferenceCaptions.article(n)).replace("{n}", n))) {
                        frames.add(f);
                        names.add(n);
                        matched = true;
                    }
                }
            }
            assertTrue(matched, "not a recipe caption: " + c);
            assertFalse(c.contains("{"), c);
        }
        assertEquals(20, frames.size());
        assertEquals(ReferenceCaptions.NAMES.stream().mapToInt(List::size).sum(), names.size());
    }

    @Test
    void sixLanguagesThreeOfThemNotLatin() {
        assertEquals(6, MultilingualCaptions.ALL.size());
        Set<Character.UnicodeScript> scripts = new HashSet<>();
        for (MultilingualCaptions.Language l : MultilingualCaptions.ALL) {
            Character.UnicodeScript script = null;
            for (List<String> names : l.names()) {
                for (String n : names) {
                    for (int cp : n.codePoints().toArray()) {
                        if (Character.isLetter(cp) && Character.UnicodeScript.of(cp) != Character.UnicodeScript.LATIN) {
                            script = Character.UnicodeScript.of(cp);
                        }
                    }
                }
            }
            if (script != null) {
                scripts.add(script == Character.UnicodeScript.KATAKANA || script == Character.UnicodeScript.HIRAGANA
                        ? Character.UnicodeScript.KATAKANA : script);
            }
            Set<String> all = new HashSet<>();
            l.names().forEach(ns -> ns.forEach(n -> assertTrue(all.add(n), l.code() + ": '" + n + "' names two classes")));
            for (String t : l.templates()) {
                assertTrue(t.contains("{}"), l.code() + " template " + t);
                assertFalse(l.frames().contains(t.replace("{}", "{n}")), l.code() + ": a template is also a caption frame: " + t);
            }
        }
        assertTrue(scripts.containsAll(Set.of(Character.UnicodeScript.CYRILLIC, Character.UnicodeScript.HAN, Character.UnicodeScript.KATAKANA)),
                scripts.toString());
    }

    @Test
    void aMixDrawsEveryLanguageAndTheEnglishOnlyMixIsTheReference() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 600; i++) {
            String c = MultilingualCaptions.caption(MultilingualCaptions.ALL, i % 10, 0, i);
            for (MultilingualCaptions.Language l : MultilingualCaptions.ALL) {
                for (String n : l.names().get(i % 10)) {
                    if (c.contains(n)) {
                        seen.add(l.code());
                    }
                }
            }
        }
        assertEquals(6, seen.size(), seen.toString());
        String en = MultilingualCaptions.caption(List.of(MultilingualCaptions.EN), 4, 0, 9);
        assertTrue(ReferenceCaptions.NAMES.get(4).stream().anyMatch(en::contains), en);
        assertEquals(MultilingualCaptions.EN, MultilingualCaptions.of("en"));
        SplittableRandom rng = new SplittableRandom(1);
        assertTrue(MultilingualCaptions.RU.caption(1, rng).codePoints().anyMatch(cp -> Character.UnicodeScript.of(cp) == Character.UnicodeScript.CYRILLIC));
    }
}
