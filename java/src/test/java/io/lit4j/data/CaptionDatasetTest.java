package io.lit4j.data;

import io.lit4j.LitException;
import io.lit4j.data.BadRows.Reason;
import io.lit4j.data.CaptionDataset.Row;
import io.lit4j.data.Fixtures.TarStyle;
import io.lit4j.data.Fixtures.TarWriter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CaptionDatasetTest {
    @TempDir
    Path tmp;

    static final String LONG_DIR = "d".repeat(70) + "/" + "e".repeat(70);
    static final String LONG_FILE = "long/" + "x".repeat(120) + ".png";

    /** Images of the standard tree. */
    static Map<String, byte[]> images() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a.png", Fixtures.png(Fixtures.pattern(10, 8, 1)));
        m.put("sub/b.png", Fixtures.png(Fixtures.pattern(7, 9, 2)));
        m.put("c.jpg", Fixtures.jpeg(Fixtures.pattern(12, 12, 3), 0.9f));
        m.put(LONG_DIR + "/f.png", Fixtures.png(Fixtures.pattern(5, 5, 4)));
        m.put(LONG_FILE, Fixtures.png(Fixtures.pattern(6, 6, 5)));
        m.put("broken.png", "not really a png".getBytes(StandardCharsets.UTF_8));
        return m;
    }

    static byte[] jsonl() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        String[] lines = {
            "{\"image\": \"a.png\", \"caption\": \"a red square\"}",                  // 1 ok
            "{\"image\": \"sub/b.png\", \"captions\": [\"blue\", \"a blue square\"]}",  // 2 ok
            "{\"image\": \"a.png\", \"caption\": }",                                  // 3 malformed
            "{\"image\": \"nope.png\", \"caption\": \"x\"}",                           // 4 missing image
            "{\"image\": \"a.png\", \"caption\": \"   \"}",                            // 5 no caption
            "{\"image\": \"../etc/passwd\", \"caption\": \"x\"}",                      // 6 unsafe
            "{\"image\": \"/etc/passwd\", \"caption\": \"x\"}",                        // 7 unsafe
            "{\"image\": \"a.png\", \"caption\": \"square, red\"}",                    // 8 merged into a.png
            "   ",                                                                     // 9 blank: ignored
            "[1, 2]",                                                                  // 10 malformed
            "{\"image\": 5, \"caption\": \"x\"}",                                      // 11 malformed
            null,                                                                      // 12 invalid UTF-8
            "{\"image\": \"c.jpg\", \"caption\": \"a gradient\", \"id\": 7}",          // 13 ok
            "{\"image\": \"./sub//b.png\", \"caption\": \"third\"}",                   // 14 merged into sub/b.png
            "{'image': 'a.png', 'caption': 'lenient'}",                                // 15 malformed (strict JSON)
            "{\"image\": \"" + LONG_DIR + "/f.png\", \"caption\": \"deep\"}",          // 16 ok
            "{\"image\": \"" + LONG_FILE + "\", \"caption\": \"long name\"}",          // 17 ok
            "{\"image\": \"broken.png\", \"caption\": \"a broken file\"}",             // 18 ok here (decoding is later)
            "{\"image\": \"a.png\", \"captions\": [\"x\", 3]}",                        // 19 malformed
            "{\"image\": \"c.jpg\", \"caption\": \"x\"} trailing",                     // 20 malformed
        };
        for (String l : lines) {
            if (l == null) {
                b.writeBytes(new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', '}'});
            } else {
                b.writeBytes(l.getBytes(StandardCharsets.UTF_8));
            }
            b.write('\r'); // CRLF endings are fine
            b.write('\n');
        }
        return b.toByteArray();
    }

    static Map<String, byte[]> tree() {
        Map<String, byte[]> m = images();
        m.put("captions.jsonl", jsonl());
        return m;
    }

    static void checkStandard(CaptionDataset ds, Map<String, byte[]> files) {
        List<Row> rows = ds.rows();
        assertEquals(List.of(
                new Row(0, "a.png", List.of("a red square", "square, red")),
                new Row(1, "sub/b.png", List.of("blue", "a blue square", "third")),
                new Row(2, "c.jpg", List.of("a gradient")),
                new Row(3, LONG_DIR + "/f.png", List.of("deep")),
                new Row(4, LONG_FILE, List.of("long name")),
                new Row(5, "broken.png", List.of("a broken file"))), rows);
        BadRows bad = ds.badRows();
        assertEquals(Map.of(Reason.MALFORMED_LINE, 7L, Reason.MISSING_IMAGE, 1L, Reason.NO_CAPTION, 1L,
                Reason.UNSAFE_PATH, 2L), bad.counts(), bad.toString());
        List<Integer> malformedLines = bad.examples().stream()
                .filter(e -> e.reason() == Reason.MALFORMED_LINE).map(BadRows.Example::line).toList();
        assertEquals(List.of(3, 10, 11, 12, 15), malformedLines);
        BadRows.Example missing = bad.examples().stream().filter(e -> e.reason() == Reason.MISSING_IMAGE).findFirst().orElseThrow();
        assertEquals(4, missing.line());
        assertTrue(missing.detail().contains("nope.png"));
        assertTrue(missing.where().endsWith("captions.jsonl"));
        for (Row r : rows) {
            assertArrayEquals(files.get(r.image()), ds.readImage(r.image()), r.image());
        }
        assertThrows(LitException.class, () -> ds.readImage("../a.png"));
        assertThrows(LitException.class, () -> ds.readImage("nope.png"));
    }

    @Test
    void folderJsonl() throws IOException {
        Map<String, byte[]> files = tree();
        try (CaptionDataset ds = CaptionDataset.open(Fixtures.folder(tmp.resolve("ds"), files))) {
            checkStandard(ds, files);
            assertEquals(CaptionDataset.JSONL, ds.captionsFile());
            assertTrue(ds.describe().contains("6 rows"), ds.describe());
            assertTrue(ds.badRows().summary().startsWith("11 bad rows: "), ds.badRows().summary());
        }
    }

    @Test
    void tarInEveryHeaderStyle() throws IOException {
        Map<String, byte[]> files = tree();
        for (TarStyle style : TarStyle.values()) {
            TarWriter w = new TarWriter(style).dir("sub");
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                String name = e.getKey();
                if (style == TarStyle.USTAR && name.equals(LONG_FILE)) {
                    continue; // a 124-byte file name does not fit ustar: appended below with a GNU header
                }
                w.file(name.equals("captions.jsonl") ? "./captions.jsonl" : name, e.getValue());
            }
            byte[] bytes = w.finish();
            if (style == TarStyle.USTAR) {
                bytes = concatWithoutEnd(bytes, new TarWriter(TarStyle.GNU).file(LONG_FILE, files.get(LONG_FILE)).finish());
            }
            Path f = Files.write(tmp.resolve(style + ".tar"), bytes);
            try (CaptionDataset ds = CaptionDataset.open(f)) {
                checkStandard(ds, files);
                assertTrue(ds.describe().contains("tar"), ds.describe());
            }
        }
    }

    /** {@code a} without its two zero end blocks, then {@code b}. */
    private static byte[] concatWithoutEnd(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(a, 0, a.length - 1024);
        out.writeBytes(b);
        return out.toByteArray();
    }

    @Test
    void tarLinksBase256AndTopFolder() throws IOException {
        byte[] png = Fixtures.png(Fixtures.pattern(4, 4, 7));
        String tsv = "image\tcaption\nimg/real.png\treal\nimg/hard.png\thard link\nimg/soft.png\tsymbolic link\nimg/big.png\tbase-256 size\n";
        TarWriter w = new TarWriter(TarStyle.GNU)
                .dir("top")
                .file("top/captions.tsv", tsv.getBytes(StandardCharsets.UTF_8))
                .file("top/img/real.png", png)
                .hardLink("top/img/hard.png", "top/img/real.png")
                .symLink("top/img/soft.png", "real.png")
                .fileBase256Size("top/img/big.png", png);
        try (CaptionDataset ds = CaptionDataset.open(w.finish(tmp.resolve("t.tar")))) {
            assertEquals(4, ds.size(), ds.badRows().toString());
            for (Row r : ds.rows()) {
                assertArrayEquals(png, ds.readImage(r.image()), r.image());
            }
            assertEquals(List.of("symbolic link"), ds.row(2).captions());
        }
    }

    @Test
    void systemTarCrossCheck() throws Exception {
        Path tar = Path.of("/usr/bin/tar");
        Assumptions.assumeTrue(Files.isExecutable(tar), "no /usr/bin/tar to cross-check with");
        Map<String, byte[]> files = tree();
        Path dir = Fixtures.folder(tmp.resolve("src"), files);
        for (String format : List.of("gnu", "pax")) {
            Path out = tmp.resolve("sys-" + format + ".tar");
            List<String> cmd = new ArrayList<>(List.of(tar.toString(), "--format=" + format, "-cf", out.toString(), "-C", dir.toString()));
            cmd.add(".");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), log);
            try (CaptionDataset ds = CaptionDataset.open(out)) {
                checkStandard(ds, files);
            }
        }
    }

    @Test
    void zipAndZipWithTopFolder() throws IOException {
        Map<String, byte[]> files = tree();
        try (CaptionDataset ds = CaptionDataset.open(Fixtures.zip(tmp.resolve("d.zip"), files))) {
            checkStandard(ds, files);
        }
        Map<String, byte[]> nested = new LinkedHashMap<>();
        files.forEach((k, v) -> nested.put("mydata/" + k, v));
        try (CaptionDataset ds = CaptionDataset.open(Fixtures.zip(tmp.resolve("n.zip"), nested))) {
            checkStandard(ds, files);
            assertTrue(ds.describe().contains("mydata/captions.jsonl"), ds.describe());
        }
    }

    @Test
    void tsvMergesAndCountsBadRows() throws IOException {
        Map<String, byte[]> files = images();
        String tsv = String.join("\n",
                "image\tcaption",              // 1 header
                "a.png\ta red square",         // 2
                "a.png\tred\twith a tab",      // 3 merged; the caption keeps the tab
                "sub/b.png\tblue",             // 4
                "no tab on this line",         // 5 malformed
                "missing.png\tx",              // 6 missing
                "c.jpg\t",                     // 7 no caption
                "..\\x.png\tx",                // 8 unsafe
                "C:\\x.png\tx",                // 9 unsafe
                "\tno image",                  // 10 malformed
                "c.jpg\t  a gradient  ",       // 11 ok, stripped
                "");
        files.put("captions.tsv", tsv.getBytes(StandardCharsets.UTF_8));
        try (CaptionDataset ds = CaptionDataset.open(Fixtures.folder(tmp.resolve("tsv"), files))) {
            assertEquals(List.of(
                    new Row(0, "a.png", List.of("a red square", "red\twith a tab")),
                    new Row(1, "sub/b.png", List.of("blue")),
                    new Row(2, "c.jpg", List.of("a gradient"))), ds.rows());
            assertEquals(Map.of(Reason.MALFORMED_LINE, 2L, Reason.MISSING_IMAGE, 1L, Reason.NO_CAPTION, 1L,
                    Reason.UNSAFE_PATH, 2L), ds.badRows().counts(), ds.badRows().toString());
            assertEquals(CaptionDataset.TSV, ds.captionsFile());
        }
    }

    @Test
    void imagesOnlyListsSortedAndReportsUnsupported() throws IOException {
        byte[] png = Fixtures.png(Fixtures.pattern(3, 3, 1));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("x.png", png);
        files.put("sub/y.JPG", png);
        files.put("sub/deeper/z.gif", png);
        files.put(".hidden/h.png", png);
        files.put("sub/.h.png", png);
        files.put("notes.txt", new byte[3]);
        files.put("w.webp", new byte[3]);
        Path dir = Fixtures.folder(tmp.resolve("imgs"), files);
        try (CaptionDataset ds = CaptionDataset.ofImagesOnly(dir)) {
            assertEquals(List.of("sub/deeper/z.gif", "sub/y.JPG", "x.png"), ds.rows().stream().map(Row::image).toList());
            assertEquals(List.of(), ds.row(0).captions());
            assertEquals(Map.of(Reason.UNSUPPORTED_FORMAT, 1L), ds.badRows().counts());
            assertNull(ds.captionsFile());
            assertArrayEquals(png, ds.readImage("sub/y.JPG"));
        }
        try (CaptionDataset ds = CaptionDataset.ofImagesOnly(Fixtures.zip(tmp.resolve("imgs.zip"), files))) {
            assertEquals(List.of("sub/deeper/z.gif", "sub/y.JPG", "x.png"), ds.rows().stream().map(Row::image).toList());
        }
    }

    @Test
    void writeJsonlRoundTrips() throws IOException {
        Path dir = Fixtures.folder(tmp.resolve("gen"), images());
        List<Row> rows = List.of(
                new Row(0, "a.png", List.of("one \"quoted\" <caption> & more")),
                new Row(1, "sub/b.png", List.of("two", "captions")),
                new Row(2, LONG_FILE, List.of("üñíçødé")));
        Path out = CaptionDataset.writeJsonl(dir, rows);
        assertEquals(dir.resolve("captions.jsonl"), out);
        try (CaptionDataset ds = CaptionDataset.open(dir)) {
            assertEquals(rows, ds.rows());
            assertTrue(ds.badRows().isEmpty());
        }
        String text = Files.readString(out);
        assertTrue(text.contains("<caption> & more"), "no HTML escaping: " + text);
        assertThrows(LitException.class, () -> CaptionDataset.writeJsonl(dir, List.of(new Row(0, "../x.png", List.of("x")))));
        assertThrows(LitException.class, () -> CaptionDataset.writeJsonl(dir, List.of(new Row(0, "x.png", List.of(" ")))));
        assertEquals(text, Files.readString(out), "a failed write leaves the old file");
    }

    @Test
    void clearErrorsForWhatIsNotADataset() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        String m = assertThrows(LitException.class, () -> CaptionDataset.open(empty)).getMessage();
        assertTrue(m.contains("captions.jsonl") && m.contains("lit4j embed --images"), m);

        assertThrows(LitException.class, () -> CaptionDataset.open(tmp.resolve("missing")));

        Path both = Fixtures.folder(tmp.resolve("both"), Map.of("captions.jsonl", new byte[0], "captions.tsv", new byte[0]));
        assertTrue(assertThrows(LitException.class, () -> CaptionDataset.open(both)).getMessage().contains("both"));

        byte[] tar = new TarWriter(TarStyle.PAX).file("captions.tsv", "a.png\tx\n".getBytes(StandardCharsets.UTF_8)).finish();
        Path gz = tmp.resolve("d.tar.gz");
        try (GZIPOutputStream z = new GZIPOutputStream(Files.newOutputStream(gz))) {
            z.write(tar);
        }
        assertTrue(assertThrows(LitException.class, () -> CaptionDataset.open(gz)).getMessage().contains("decompress"));

        byte[] corrupt = tar.clone();
        corrupt[10] ^= 0x55; // name byte: checksum no longer matches
        Path c = Files.write(tmp.resolve("c.tar"), corrupt);
        String cm = assertThrows(LitException.class, () -> CaptionDataset.open(c)).getMessage();
        assertTrue(cm.contains("checksum") && cm.contains("byte 0"), cm);

        byte[] big = new TarWriter(TarStyle.GNU).file("captions.tsv", new byte[2000]).finish();
        Path t = Files.write(tmp.resolve("t.tar"), java.util.Arrays.copyOf(big, 1024));
        assertTrue(assertThrows(LitException.class, () -> CaptionDataset.open(t)).getMessage().contains("truncated"));

        Path txt = Files.writeString(tmp.resolve("x.txt"), "hello");
        assertThrows(LitException.class, () -> CaptionDataset.open(txt));
    }

    @Test
    void pathSafety() {
        assertEquals("a/b.png", CaptionDataset.safePath("./a//b.png"));
        assertEquals("a/b.png", CaptionDataset.safePath("a/./b.png"));
        assertNull(CaptionDataset.safePath("/a.png"));
        assertNull(CaptionDataset.safePath("\\a.png"));
        assertNull(CaptionDataset.safePath("a/../../b.png"));
        assertNull(CaptionDataset.safePath("a\\..\\b.png"));
        assertNull(CaptionDataset.safePath("C:/x.png"));
        assertNull(CaptionDataset.safePath("a\0.png"));
        assertNull(CaptionDataset.safePath("dir/"));
        assertEquals("..a/b..png", CaptionDataset.safePath("..a/b..png"));
    }

    @Test
    void captionLinesHaveTheCommonFormat() {
        assertEquals("{\"image\":\"images/000001.png\",\"captions\":[\"a red circle\",\"someone's \\\"big\\\" <box>\"],"
                        + "\"label\":\"red circle\"}",
                CaptionDataset.captionLine("images/000001.png", List.of("a red circle", "someone's \"big\" <box>"),
                        "red circle"));
        assertEquals("{\"image\":\"a.png\",\"captions\":[\"x\"]}", CaptionDataset.captionLine("a.png", List.of("x"), null));
        assertThrows(LitException.class, () -> CaptionDataset.captionLine("a.png", List.of(), null));
    }
}
