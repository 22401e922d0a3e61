package io.lit4j.datasets;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.datasets.Scenes.Colour;
import io.lit4j.datasets.Scenes.Config;
import io.lit4j.datasets.Scenes.Item;
import io.lit4j.datasets.Scenes.Position;
import io.lit4j.datasets.Scenes.Scene;
import io.lit4j.datasets.Scenes.Shape;
import io.lit4j.datasets.Scenes.Size;
import io.lit4j.datasets.Scenes.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScenesTest {
    @TempDir
    Path tmp;

    // ---- a parser of the captions, independent of the grammar's code --------------------------

    /** A "colour shape" mention: the colour word, then the first shape word after it. */
    record Mention(Colour colour, Shape shape, boolean plural, boolean adjacent, int start, int end) {
        String className() {
            return Scenes.className(colour, shape);
        }
    }

    private static final Pattern COLOUR;
    private static final List<Object[]> SHAPE_WORDS = new ArrayList<>(); // {Pattern, Shape, plural}

    static {
        List<String> cs = new ArrayList<>();
        for (Colour c : Colour.values()) {
            cs.add(c.word());
        }
        COLOUR = Pattern.compile("(?<![\\w-])(" + String.join("|", cs) + ")(?![\\w-])");
        for (Shape s : Shape.values()) {
            for (Scenes.Noun n : s.synonyms()) {
                SHAPE_WORDS.add(new Object[] {word(n.plural()), s, true});
                SHAPE_WORDS.add(new Object[] {word(n.singular()), s, false});
            }
        }
    }

    private static Pattern word(String w) {
        return Pattern.compile("(?<![\\w-])" + Pattern.quote(w) + "(?![\\w-])");
    }

    static List<Mention> mentions(String caption) {
        List<int[]> colours = new ArrayList<>();
        List<Colour> which = new ArrayList<>();
        Matcher m = COLOUR.matcher(caption);
        while (m.find()) {
            colours.add(new int[] {m.start(), m.end()});
            which.add(Colour.valueOf(m.group(1).toUpperCase()));
        }
        List<Mention> out = new ArrayList<>();
        for (int i = 0; i < colours.size(); i++) {
            int from = colours.get(i)[1];
            int to = i + 1 < colours.size() ? colours.get(i + 1)[0] : caption.length();
            String tail = caption.substring(from, to);
            int bestStart = Integer.MAX_VALUE;
            int bestEnd = -1;
            Shape best = null;
            boolean plural = false;
            for (Object[] sw : SHAPE_WORDS) {
                Matcher sm = ((Pattern) sw[0]).matcher(tail);
                if (sm.find() && (sm.start() < bestStart || (sm.start() == bestStart && sm.end() > bestEnd))) {
                    bestStart = sm.start();
                    bestEnd = sm.end();
                    best = (Shape) sw[1];
                    plural = (Boolean) sw[2];
                }
            }
            assertNotNull(best, "colour word without a shape after it in '" + caption + "'");
            out.add(new Mention(which.get(i), best, plural, bestStart == 1, colours.get(i)[0], from + bestEnd));
        }
        return out;
    }

    private static Set<Size> sizeWords(String caption) {
        Set<Size> out = new HashSet<>();
        for (Size s : Size.values()) {
            for (String w : s.words()) {
                if (word(w).matcher(caption).find()) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    private static Set<Position> positionPhrases(String caption) {
        Set<Position> out = new HashSet<>();
        for (Position p : Position.values()) {
            for (String ph : p.phrases()) {
                if (word(ph).matcher(caption).find()) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static Config small() {
        return Config.defaults().withSeed(42).withCounts(3000, 300, 256);
    }

    // ---- classes and config -------------------------------------------------------------------

    @Test
    void classesAndHeldOut() {
        Config c = Config.defaults();
        List<String> classes = Scenes.classNames(c);
        assertEquals(64, classes.size());
        assertEquals(64, new HashSet<>(classes).size());
        assertEquals("red circle", classes.get(0));
        assertEquals("white diamond", classes.get(63));
        assertEquals(8, Scenes.heldOutClasses(c).size());
        assertTrue(classes.containsAll(Scenes.heldOutClasses(c)));
        Config mine = c.withHeldOut(List.of(" Blue  STAR", "red triangle", "red triangle"));
        assertEquals(List.of("red triangle", "blue star"), Scenes.heldOutClasses(mine), "canonical and in class order");
        LitException e = assertThrows(LitException.class, () -> c.withHeldOut(List.of("red box")));
        assertTrue(e.getMessage().contains("red box") && e.getMessage().contains("triangle"), e.getMessage());
        List<String> allRed = new ArrayList<>();
        for (Shape s : Shape.values()) {
            allRed.add("red " + s.word());
        }
        assertThrows(LitException.class, () -> c.withHeldOut(allRed));
        assertThrows(LitException.class, () -> c.withImageSize(8));
        assertThrows(LitException.class, () -> c.withMaxObjects(4));
        assertThrows(LitException.class, () -> Scenes.scene(c.withCounts(5, 0, 5), Split.VAL, 0));
    }

    // ---- held-out pairs -----------------------------------------------------------------------

    @Test
    void heldOutPairsAreNeverDrawnNorMentionedInTrainOrVal() {
        Config c = small();
        Set<String> held = new HashSet<>(Scenes.heldOutClasses(c));
        int[] objects = new int[4];
        for (Split split : List.of(Split.TRAIN, Split.VAL)) {
            for (int i = 0; i < c.count(split); i++) {
                Scene s = Scenes.scene(c, split, i);
                objects[s.items().size()]++;
                Set<String> drawn = new HashSet<>();
                for (Item it : s.items()) {
                    assertFalse(held.contains(it.className()), split + " " + i + " draws " + it.className());
                    drawn.add(it.className());
                }
                assertEquals(c.captionsPerImage(), s.captions().size());
                for (String cap : s.captions()) {
                    boolean main = false;
                    for (Mention m : mentions(cap)) {
                        assertFalse(held.contains(m.className()), "'" + cap + "' mentions held-out " + m.className());
                        assertTrue(drawn.contains(m.className()), "'" + cap + "' mentions undrawn " + m.className());
                        assertTrue(m.adjacent(), "colour right before the shape word in '" + cap + "'");
                        main |= m.className().equals(s.label());
                    }
                    assertTrue(main, "'" + cap + "' does not mention the main object " + s.label());
                }
            }
        }
        assertTrue(objects[1] > 500 && objects[2] > 500 && objects[3] > 500, "1-3 objects: " + List.of(objects[1], objects[2], objects[3]));
    }

    @Test
    void testSplitHasSingleObjectsOfEveryClassHeldOutIncluded() {
        Config c = small().withCounts(10, 0, 128);
        Map<String, Integer> perClass = new TreeMap<>();
        for (int i = 0; i < c.testCount(); i++) {
            Scene s = Scenes.scene(c, Split.TEST, i);
            assertEquals(1, s.items().size());
            assertNotNull(s.position());
            perClass.merge(s.label(), 1, Integer::sum);
        }
        assertEquals(64, perClass.size());
        for (int n : perClass.values()) {
            assertEquals(2, n);
        }
        for (int i = 0; i < Scenes.heldOutClasses(c).size(); i++) {
            assertEquals(Scenes.heldOutClasses(c).get(i), Scenes.scene(c, Split.TEST, i).label(), "held-out classes come first");
        }
    }

    // ---- captions say what is drawn -----------------------------------------------------------

    @Test
    void singleObjectCaptionsParseBack() {
        Config c = small();
        int checked = 0;
        Set<Position> positionsSeen = new HashSet<>();
        Set<Size> sizesSeen = new HashSet<>();
        for (Split split : List.of(Split.TRAIN, Split.TEST)) {
            for (int i = 0; i < c.count(split); i++) {
                Scene s = Scenes.scene(c, split, i);
                if (s.items().size() != 1) {
                    assertNull(s.position());
                    continue;
                }
                Item it = s.items().get(0);
                for (String cap : s.captions()) {
                    List<Mention> ms = mentions(cap);
                    assertEquals(1, ms.size(), cap);
                    assertEquals(it.colour(), ms.get(0).colour(), cap);
                    assertEquals(it.shape(), ms.get(0).shape(), cap);
                    assertFalse(ms.get(0).plural(), cap);
                    Set<Size> sizes = sizeWords(cap);
                    assertTrue(sizes.isEmpty() || sizes.equals(Set.of(it.size())), cap + " for a " + it.size() + " object");
                    Set<Position> pos = positionPhrases(cap);
                    assertTrue(pos.isEmpty() || pos.equals(Set.of(s.position())), cap + " for an object at " + s.position());
                    positionsSeen.addAll(pos);
                    sizesSeen.addAll(sizes);
                    checked++;
                }
                // and the position is where the caption says
                double n = s.size();
                switch (s.position()) {
                    case TOP -> assertTrue(it.cy() < 0.4 * n, s.toString());
                    case BOTTOM -> assertTrue(it.cy() > 0.6 * n, s.toString());
                    case LEFT -> assertTrue(it.cx() < 0.4 * n, s.toString());
                    case RIGHT -> assertTrue(it.cx() > 0.6 * n, s.toString());
                    case CENTER -> assertTrue(Math.abs(it.cx() - n / 2) < 0.1 * n && Math.abs(it.cy() - n / 2) < 0.1 * n, s.toString());
                }
            }
        }
        assertTrue(checked > 3000, checked + " captions checked");
        assertEquals(Set.of(Position.values()), positionsSeen);
        assertEquals(Set.of(Size.values()), sizesSeen);
    }

    @Test
    void relationsAndCountsMatchTheLayout() {
        Config c = small();
        int relations = 0;
        int counts = 0;
        for (int i = 0; i < c.trainCount(); i++) {
            Scene s = Scenes.scene(c, Split.TRAIN, i);
            List<Item> items = s.items();
            if (items.size() < 2) {
                continue;
            }
            for (int a = 0; a < items.size(); a++) {
                for (int b = a + 1; b < items.size(); b++) {
                    Item p = items.get(a);
                    Item q = items.get(b);
                    double dist = Math.hypot(p.cx() - q.cx(), p.cy() - q.cy());
                    assertTrue(dist >= (p.diameter() + q.diameter()) / 2, "objects overlap in train " + i);
                }
            }
            Map<String, Integer> drawn = new HashMap<>();
            for (Item it : items) {
                drawn.merge(it.className(), 1, Integer::sum);
            }
            for (String cap : s.captions()) {
                for (Mention m : mentions(cap)) {
                    if (m.plural()) {
                        String number = cap.substring(0, m.start()).trim();
                        int said = number.endsWith("three") ? 3 : 2;
                        assertEquals(said, drawn.get(m.className()), "'" + cap + "' miscounts");
                        counts++;
                    }
                }
                if (items.size() == 2 && drawn.size() == 2) {
                    List<Mention> ms = mentions(cap);
                    assertEquals(2, ms.size(), cap);
                    String between = cap.substring(ms.get(0).end(), ms.get(1).start());
                    Item first = items.get(0).className().equals(ms.get(0).className()) ? items.get(0) : items.get(1);
                    Item second = first == items.get(0) ? items.get(1) : items.get(0);
                    double dx = first.cx() - second.cx();
                    double dy = first.cy() - second.cy();
                    if (between.contains("left of")) {
                        assertTrue(dx < 0 && Math.abs(dx) > Math.abs(dy), cap + " " + items);
                        relations++;
                    } else if (between.contains("right of")) {
                        assertTrue(dx > 0 && Math.abs(dx) > Math.abs(dy), cap + " " + items);
                        relations++;
                    } else if (between.matches(" (above|over) an? ")) {
                        assertTrue(dy < 0 && Math.abs(dy) > Math.abs(dx), cap + " " + items);
                        relations++;
                    } else if (between.matches(" (below|under|beneath) an? ")) {
                        assertTrue(dy > 0 && Math.abs(dy) > Math.abs(dx), cap + " " + items);
                        relations++;
                    }
                }
            }
        }
        assertTrue(relations > 300, relations + " relations checked");
        assertTrue(counts > 200, counts + " counts checked");
    }

    // ---- pixels -------------------------------------------------------------------------------

    private static boolean near(int rgb, int target, int tol) {
        int dr = ((rgb >> 16) & 0xFF) - ((target >> 16) & 0xFF);
        int dg = ((rgb >> 8) & 0xFF) - ((target >> 8) & 0xFF);
        int db = (rgb & 0xFF) - (target & 0xFF);
        return dr * dr + dg * dg + db * db <= tol * tol;
    }

    private static void checkColours(Scene s, BufferedImage img) {
        int n = s.size();
        assertEquals(n, img.getWidth());
        Item main = s.items().get(0);
        int inside = 0;
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int px = img.getRGB(x, y);
                boolean inAnyBox = false;
                for (Item it : s.items()) {
                    double r = it.diameter() * 0.56 + 1;
                    inAnyBox |= Math.abs(x + 0.5 - it.cx()) <= r && Math.abs(y + 0.5 - it.cy()) <= r;
                }
                for (Item it : s.items()) {
                    Colour c = it.colour();
                    if (near(px, c.rgb(), 40)) {
                        assertTrue(inAnyBox, "the background at (" + x + "," + y + ") looks " + c.word() + " in " + s);
                    }
                }
                double r = main.diameter() * 0.56 + 1;
                if (Math.abs(x + 0.5 - main.cx()) <= r && Math.abs(y + 0.5 - main.cy()) <= r
                        && near(px, main.colour().rgb(), 40)) {
                    inside++;
                }
            }
        }
        double d = main.diameter();
        assertTrue(inside >= 0.2 * d * d, inside + " " + main.colour().word() + " pixels for a " + main + " in " + s);
    }

    @Test
    void theMainObjectsColourIsInTheImage() {
        Config c = small().withCounts(400, 0, 256);
        for (Split split : List.of(Split.TRAIN, Split.TEST)) {
            for (int i = 0; i < c.count(split); i++) {
                Scene s = Scenes.scene(c, split, i);
                checkColours(s, Scenes.render(s));
            }
        }
    }

    @Test
    void otherImageSizes() {
        for (int px : new int[] {32, 128}) {
            Config c = small().withImageSize(px).withCounts(60, 0, 64);
            for (Split split : List.of(Split.TRAIN, Split.TEST)) {
                for (int i = 0; i < c.count(split); i++) {
                    Scene s = Scenes.scene(c, split, i);
                    for (Item it : s.items()) {
                        assertTrue(it.cx() - it.diameter() / 2 >= 0 && it.cx() + it.diameter() / 2 <= px, s.toString());
                        assertTrue(it.cy() - it.diameter() / 2 >= 0 && it.cy() + it.diameter() / 2 <= px, s.toString());
                    }
                    checkColours(s, Scenes.render(s));
                }
            }
        }
    }

    // ---- files --------------------------------------------------------------------------------

    private static Map<String, byte[]> tree(Path root) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    @Test
    void sameConfigGivesByteIdenticalFolders() throws IOException {
        Config c = small().withCounts(40, 10, 64);
        Scenes.generate(c, tmp.resolve("a"));
        Scenes.generate(c, tmp.resolve("b"));
        Map<String, byte[]> a = tree(tmp.resolve("a"));
        Map<String, byte[]> b = tree(tmp.resolve("b"));
        assertEquals(a.keySet(), b.keySet());
        assertEquals(40 + 10 + 64 + 3 + 1, a.size());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), k);
        }
        Scenes.generate(c.withSeed(43), tmp.resolve("c"));
        Map<String, byte[]> other = tree(tmp.resolve("c"));
        assertFalse(java.util.Arrays.equals(a.get("train/captions.jsonl"), other.get("train/captions.jsonl")));
        assertFalse(java.util.Arrays.equals(a.get("train/images/000000.png"), other.get("train/images/000000.png")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("a", "b", "c"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no temp folders left");
        }
    }

    @Test
    void generatedFolderHasTheCommonFormat() throws IOException {
        Config c = small().withCounts(300, 0, 128);
        Path out = tmp.resolve("scenes");
        Scenes.generate(c, out);
        assertFalse(Files.exists(out.resolve("val")), "no val folder when valCount is 0");
        Set<String> held = new HashSet<>(Scenes.heldOutClasses(c));
        Set<String> heldInTest = new HashSet<>();
        for (Split split : List.of(Split.TRAIN, Split.TEST)) {
            List<String> lines = Files.readAllLines(out.resolve(split.folder()).resolve("captions.jsonl"));
            assertEquals(c.count(split), lines.size());
            for (int i = 0; i < lines.size(); i++) {
                JsonObject o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
                assertEquals(List.of("image", "captions", "label"), new ArrayList<>(o.keySet()));
                Path img = out.resolve(split.folder()).resolve(o.get("image").getAsString());
                BufferedImage bi = ImageIO.read(img.toFile());
                assertEquals(64, bi.getWidth());
                Scene s = Scenes.scene(c, split, i);
                assertEquals(s.label(), o.get("label").getAsString());
                assertTrue(Scenes.classNames(c).contains(s.label()));
                JsonArray caps = o.getAsJsonArray("captions");
                List<String> capList = new ArrayList<>();
                for (JsonElement e : caps) {
                    capList.add(e.getAsString());
                }
                assertEquals(s.captions(), capList);
                if (split == Split.TRAIN) {
                    for (String cap : capList) {
                        for (Mention m : mentions(cap)) {
                            assertFalse(held.contains(m.className()), cap);
                        }
                    }
                    assertFalse(held.contains(s.label()));
                } else {
                    assertEquals(1, s.items().size());
                    if (held.contains(s.label())) {
                        heldInTest.add(s.label());
                    }
                    checkColours(s, bi);
                }
            }
        }
        assertEquals(held, heldInTest, "every held-out pair is in the test split");
        JsonObject meta = JsonParser.parseString(Files.readString(out.resolve("scenes.json"))).getAsJsonObject();
        assertEquals(64, meta.getAsJsonArray("classes").size());
        assertEquals(Scenes.heldOutClasses(c).size(), meta.getAsJsonArray("held_out_classes").size());
        assertEquals(42, meta.getAsJsonObject("config").get("seed").getAsLong());
    }

    @Test
    void generateNeverClobbers() throws IOException {
        Path out = tmp.resolve("existing");
        Files.createDirectories(out);
        Files.writeString(out.resolve("mine.txt"), "keep");
        Config c = small().withCounts(3, 0, 3);
        assertThrows(LitException.class, () -> Scenes.generate(c, out));
        assertEquals("keep", Files.readString(out.resolve("mine.txt")));
        Scenes.generate(c, out, true);
        assertFalse(Files.exists(out.resolve("mine.txt")));
        assertTrue(Files.exists(out.resolve("test/captions.jsonl")));
        assertNotEquals(0, Files.size(out.resolve("train/images/000002.png")));
    }
}
