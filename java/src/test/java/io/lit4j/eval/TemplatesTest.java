package io.lit4j.eval;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TemplatesTest {
    @Test
    void clip80HasEightyDistinctTemplates() {
        List<String> t = Templates.load(Templates.CLIP_80);
        assertEquals(80, t.size());
        assertEquals(80, new HashSet<>(t).size());
        assertEquals("a bad photo of a {}.", t.get(0));
        assertEquals("a tattoo of the {}.", t.get(79));
        assertTrue(t.contains("a origami {}."), "CLIP's typos are kept");
        for (String s : t) {
            assertTrue(s.contains("{}") && s.endsWith("."), s);
        }
    }

    @Test
    void clipBestIsBigVisionsSevenAndASubsetOfClip80() {
        List<String> best = Templates.load(Templates.CLIP_BEST);
        assertEquals(List.of("itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
                "a {} in a video game.", "art of the {}.", "a photo of the small {}."), best);
        assertTrue(Templates.load(Templates.CLIP_80).containsAll(best));
    }

    @Test
    void loadsAFile(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("t.txt");
        Files.writeString(f, "# mine\n a picture of a {}. \n\nan {} icon\n");
        assertEquals(List.of("a picture of a {}.", "an {} icon"), Templates.load(f.toString()));
        Files.writeString(f, "a picture\n");
        LitException e = assertThrows(LitException.class, () -> Templates.load(f.toString()));
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
        LitException missing = assertThrows(LitException.class, () -> Templates.load("clip_81"));
        assertTrue(missing.getMessage().contains("clip_80"), missing.getMessage());
        assertEquals("a photo of a dog.", Templates.fill("a photo of a {}.", "dog"));
    }
}
