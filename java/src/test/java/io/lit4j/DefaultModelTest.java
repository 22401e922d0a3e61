package io.lit4j;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** files.txt parsing and the cache key that keeps a rebuilt default model from reusing a stale unpacked copy. */
class DefaultModelTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void sha256sumLinesAndBareNamesParse() {
        String a = "a".repeat(64);
        List<DefaultModel.Entry> e = DefaultModel.parse(utf8(a + "  model.safetensors\n" + a + " *samples/x.png\nconfig.json\n\n"));
        assertEquals(List.of(new DefaultModel.Entry(a, "model.safetensors"), new DefaultModel.Entry(a, "samples/x.png")), e.subList(0, 2));
        assertNull(e.get(2).sha256());
        assertEquals("config.json", e.get(2).name());
    }

    @Test
    void newWeightsUnderTheSameNamesGetANewCacheFolder() {
        String before = "a".repeat(64) + "  model.safetensors\n";
        String after = "b".repeat(64) + "  model.safetensors\n";
        assertNotEquals(DefaultModel.cacheKey(utf8(before)), DefaultModel.cacheKey(utf8(after)));
        assertEquals(DefaultModel.cacheKey(utf8(before)), DefaultModel.cacheKey(utf8(before)));
        assertEquals(12, DefaultModel.cacheKey(utf8(before)).length());
    }

    @Test
    void pathsOutsideTheModelFolderAreRefused() {
        for (String bad : List.of("../etc/passwd", "/etc/passwd", "samples\\..\\x")) {
            LitException e = assertThrows(LitException.class, () -> DefaultModel.parse(utf8("c".repeat(64) + "  " + bad + "\n")));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void theShippedListHasADigestForEveryFile() {
        List<DefaultModel.Entry> shipped = DefaultModel.parse(utf8(readShipped()));
        assertTrue(shipped.stream().anyMatch(x -> x.name().equals("model.safetensors")), shipped.toString());
        shipped.forEach(x -> assertTrue(x.sha256() != null, "no digest for " + x.name() + " in models/default/files.txt"));
    }

    private static String readShipped() {
        try (var in = DefaultModel.class.getClassLoader().getResourceAsStream("io/lit4j/models/default/files.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
