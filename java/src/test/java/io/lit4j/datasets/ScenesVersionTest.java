package io.lit4j.datasets;

import io.lit4j.LitException;
import io.lit4j.datasets.Scenes.Colour;
import io.lit4j.datasets.Scenes.Config;
import io.lit4j.datasets.Scenes.Item;
import io.lit4j.datasets.Scenes.Scene;
import io.lit4j.datasets.Scenes.Shape;
import io.lit4j.datasets.Scenes.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The versions of the scenes generator: version 1 keeps producing the images it always did (a
 * digest pinned from the generator before version 2 existed), and version 2's unnamed colours are
 * far from every named colour, named by shape alone, spread over every shape, and never turn a
 * held-out pair into a drawn or mentioned one.
 */
class ScenesVersionTest {
    @TempDir
    Path tmp;

    /**
     * {@code lit4j dataset scenes --out D --train 300 --test 64 --size 32 --seed 0} with the
     * generator as it was before versions (commit 6c9bf72), digested as
     * {@code cd D && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum}.
     */
    private static final String VERSION_1_DIGEST = "8aebc5f18f029a3cfd4267642aea34073052456bdf2ad475fe942452895a2582";

    @Test
    void version1IsByteIdenticalToTheGeneratorBeforeVersions() throws IOException {
        Config c = Config.defaults().withImageSize(32).withCounts(300, 0, 64);
        assertEquals(1, c.version(), "the default stays version 1");
        Scenes.generate(c, tmp.resolve("v1"));
        assertEquals(VERSION_1_DIGEST, sha256sumOfTree(tmp.resolve("v1")));
    }

    @Test
    void version2KeepsTheTestSplitAndChangesOnlyTrainingImages() throws IOException {
        Config v1 = Config.defaults().withImageSize(32).withCounts(200, 0, 64);
        Scenes.generate(v1, tmp.resolve("v1"));
        Scenes.generate(v1.withVersion(2), tmp.resolve("v2"));
        for (String f : List.of("test/captions.jsonl", "test/images/000000.png", "test/images/000063.png")) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("v1").resolve(f)), Files.readAllBytes(tmp.resolve("v2").resolve(f)), f);
        }
        assertFalse(Files.readString(tmp.resolve("v1/train/captions.jsonl")).equals(Files.readString(tmp.resolve("v2/train/captions.jsonl"))));
        String described = Files.readString(tmp.resolve("v2/scenes.json"));
        assertTrue(described.contains("\"generator\":\"lit4j scenes 2\"") && described.contains("\"version\":2"), described);
        assertThrows(LitException.class, () -> v1.withVersion(3));
        assertThrows(LitException.class, () -> v1.withVersion(0));
    }

    @Test
    void unnamedColoursAreFarFromNamedOnesNamedByShapeAloneAndOnEveryShape() {
        Config c = Config.defaults().withSeed(7).withImageSize(32).withCounts(3000, 200, 16).withVersion(2);
        Set<String> held = new HashSet<>(Scenes.heldOutClasses(c));
        Map<Shape, Set<Integer>> hueSectors = new EnumMap<>(Shape.class);
        int objects = 0;
        int unnamed = 0;
        for (Split split : List.of(Split.TRAIN, Split.VAL)) {
            for (int i = 0; i < c.count(split); i++) {
                Scene s = Scenes.scene(c, split, i);
                Set<String> drawnNamed = new HashSet<>();
                for (Item it : s.items()) {
                    objects++;
                    assertFalse(held.contains(it.className()), split + " " + i + " draws " + it.className());
                    if (it.colour() == null) {
                        unnamed++;
                        assertTrue(distanceToNamed(it.rgb()) >= 100, String.format(Locale.ROOT, "%06x is near a named colour", it.rgb()));
                        assertEquals(it.shape().word(), it.className());
                        hueSectors.computeIfAbsent(it.shape(), k -> new HashSet<>()).add(hueSector(it.rgb()));
                    } else {
                        drawnNamed.add(it.className());
                    }
                }
                assertEquals(s.items().get(0).className(), s.label());
                for (String cap : s.captions()) {
                    for (ScenesTest.Mention m : ScenesTest.mentions(cap)) {
                        assertFalse(held.contains(m.className()), "'" + cap + "' mentions held-out " + m.className());
                        assertTrue(drawnNamed.contains(m.className()), "'" + cap + "' names a colour-shape pair not drawn in that colour: " + m.className());
                        assertTrue(m.adjacent(), "colour right before the shape word in '" + cap + "'");
                    }
                    if (s.items().size() == 1 && s.items().get(0).colour() == null) {
                        assertTrue(ScenesTest.mentions(cap).isEmpty(), "'" + cap + "' names a colour of an unnamed-colour object");
                    }
                }
            }
        }
        double fraction = unnamed / (double) objects;
        assertTrue(Math.abs(fraction - Scenes.UNNAMED_FRACTION) < 0.03, "unnamed fraction " + fraction + " of " + objects);
        for (Shape sh : Shape.values()) {
            assertTrue(hueSectors.getOrDefault(sh, Set.of()).size() >= 4, sh + " in unnamed hue sectors " + hueSectors.get(sh));
        }
    }

    @Test
    void unnamedObjectsStayVisibleOnTheirBackground() {
        Config c = Config.defaults().withSeed(3).withImageSize(32).withCounts(800, 0, 16).withVersion(2);
        for (int i = 0; i < c.trainCount(); i++) {
            Scene s = Scenes.scene(c, Split.TRAIN, i);
            int bg = s.background().rgb();
            for (Item it : s.items()) {
                // independent of the generator's rule: the object differs from the background by a clear margin in some channel
                int d = 0;
                for (int shift = 0; shift <= 16; shift += 8) {
                    d = Math.max(d, Math.abs(((it.rgb() >> shift) & 0xFF) - ((bg >> shift) & 0xFF)));
                }
                assertTrue(d >= 40, String.format(Locale.ROOT, "train %d: %06x on %06x", i, it.rgb(), bg));
            }
        }
    }

    private static double distanceToNamed(int rgb) {
        double best = Double.MAX_VALUE;
        for (Colour col : Colour.values()) {
            int n = col.rgb();
            double dr = ((rgb >> 16) & 0xFF) - ((n >> 16) & 0xFF);
            double dg = ((rgb >> 8) & 0xFF) - ((n >> 8) & 0xFF);
            double db = (rgb & 0xFF) - (n & 0xFF);
            best = Math.min(best, Math.sqrt(dr * dr + dg * dg + db * db));
        }
        return best;
    }

    /** Which sixth of the hue circle (java.awt's HSB) a colour is in. */
    private static int hueSector(int rgb) {
        float[] hsb = java.awt.Color.RGBtoHSB((rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF, null);
        return Math.min(5, (int) (hsb[0] * 6));
    }

    /** What {@code find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum} prints, without the " -". */
    private static String sha256sumOfTree(Path root) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        List<String> names = files.stream().map(p -> "./" + root.relativize(p).toString().replace('\\', '/')).sorted().toList();
        StringBuilder listing = new StringBuilder();
        for (String n : names) {
            listing.append(hex(Files.readAllBytes(root.resolve(n.substring(2))))).append("  ").append(n).append('\n');
        }
        return hex(listing.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
