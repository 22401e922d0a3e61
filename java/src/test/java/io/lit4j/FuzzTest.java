package io.lit4j;

import com.google.gson.JsonObject;
import io.lit4j.backend.Backend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.CaptionDataset.Row;
import io.lit4j.data.Images;
import io.lit4j.data.Preprocess;
import io.lit4j.data.PreprocessorConfig;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenizerBuilder;
import io.lit4j.datasets.Idx;
import io.lit4j.io.Npy;
import io.lit4j.model.Presets;
import io.lit4j.model.TwoTower;
import io.lit4j.tensor.DType;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Feeds lit4j's readers thousands of mutated inputs and fails on any outcome but success or a
 * one-line {@link LitException}: a message of several lines, an exception of another type, an {@link Error} (OutOfMemoryError, ...) or
 * a case that runs past its deadline is listed in the failure with its target, case seed and
 * mutation, enough to replay it. Seeds are small valid files this test makes itself: npy, npz and
 * safetensors checkpoints (a HuggingFace CLIP one too), the golden BERT exported to ONNX, lit4j, HuggingFace and CLIP
 * config.json, a CLIP preprocessor_config.json, tokenizer.json (WordPiece, SentencePiece-style and CLIP's BPE), a SentencePiece
 * .model and its tokenizer_conventions.json, IDX (plain and gzipped), PNG, JPEG (baseline
 * and progressive), GIF, BMP, TIFF (several compressions), captions.jsonl, tar and zip datasets.
 *
 * <p>By default it runs {@value #DEFAULT_CASES} cases (fixed seed; about 7 s) and stops early after
 * {@value #DEFAULT_SECONDS} s. A longer run (no time bound unless {@code lit4j.fuzz.seconds} is set):
 * {@code mvn -o verify -pl java -am -Dtest=FuzzTest -Dsurefire.failIfNoSpecifiedTests=false -Dlit4j.fuzz.cases=100000}
 * (add {@code -Dlit4j.fuzz.seed=N} for other mutations, {@code -Dlit4j.fuzz.seconds=S} to change the time bound,
 * {@code -Dlit4j.fuzz.trace=FILE} to log each case before it runs: the last line names a case that killed the JVM).
 */
class FuzzTest {
    static final int DEFAULT_CASES = 3000;
    static final int DEFAULT_SECONDS = 40;
    static final long CASE_TIMEOUT_MS = 5000;

    @AutoClose
    static final Backend BE = new ScalarBackend();

    enum Outcome { OK, LIT4J_ERROR, MULTI_LINE_MESSAGE, OTHER_EXCEPTION, TIMEOUT, ERROR }

    /** What one case does with its mutated file. */
    @FunctionalInterface
    interface Action {
        void run(Path caseDir, Path file) throws Exception;
    }

    /** One kind of input: its seeds, the file name the mutant is written to, and what reads it. */
    record Target(String name, List<byte[]> seeds, String fileName, boolean text, Action action) {
    }

    @TempDir
    Path tmp;

    private TextTokenizer tokenizer;

    @Test
    void malformedInputsGiveLit4jErrorsOnly() throws Exception {
        int cases = Integer.getInteger("lit4j.fuzz.cases", DEFAULT_CASES);
        long seed = Long.getLong("lit4j.fuzz.seed", 20261201L);
        long seconds = Long.getLong("lit4j.fuzz.seconds", cases > DEFAULT_CASES ? 0 : DEFAULT_SECONDS); // 0: no bound
        Path seedsDir = Files.createDirectories(tmp.resolve("seeds"));
        Path tokFile = seedsDir.resolve("tokenizer.json");
        TokenizerBuilder.writeWordPiece(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "red", "blue", "circle", "square",
                "##s", "on", "the", "."), true, tokFile);
        tokenizer = TextTokenizer.load(tokFile);
        List<Target> targets = targets(seedsDir, tokFile);

        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        List<String> bad = new ArrayList<>();
        String trace = System.getProperty("lit4j.fuzz.trace");
        ExecutorService worker = newWorker();
        long start = System.nanoTime();
        int ran = 0;
        try {
            for (int i = 0; i < cases && (seconds <= 0 || System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)); i++) {
                Target t = targets.get(i % targets.size());
                long caseSeed = seed * 1_000_003L + i;
                Random r = new Random(caseSeed);
                byte[] base = t.seeds().get(r.nextInt(t.seeds().size()));
                StringBuilder how = new StringBuilder();
                byte[] mutant = Mutator.mutate(base, t.text(), r, how);
                Path caseDir = Files.createDirectories(tmp.resolve("case" + i));
                Path file = caseDir.resolve(t.fileName());
                Files.createDirectories(file.getParent());
                Files.write(file, mutant);
                if (trace != null) {
                    Files.writeString(Path.of(trace), t.name() + " case " + i + " (seed " + caseSeed + ", " + how + ")\n",
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
                }
                Future<?> f = worker.submit(() -> {
                    t.action().run(caseDir, file);
                    return null;
                });
                Outcome o;
                Throwable why = null;
                try {
                    f.get(CASE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                    o = Outcome.OK;
                } catch (ExecutionException e) {
                    why = e.getCause();
                    o = why instanceof LitException ? Outcome.LIT4J_ERROR : why instanceof Error ? Outcome.ERROR : Outcome.OTHER_EXCEPTION;
                    if (o == Outcome.LIT4J_ERROR && why.getMessage().contains("\n")) {
                        o = Outcome.MULTI_LINE_MESSAGE;
                    }
                } catch (TimeoutException e) {
                    o = Outcome.TIMEOUT;
                    f.cancel(true);
                    worker.shutdownNow();
                    worker = newWorker();
                }
                counts.merge(o, 1, Integer::sum);
                if (o != Outcome.OK && o != Outcome.LIT4J_ERROR) {
                    bad.add(t.name() + " case " + i + " (seed " + caseSeed + ", " + how + "): " + o
                            + (why == null ? "" : " " + why));
                }
                if (o != Outcome.TIMEOUT) {
                    deleteTree(caseDir);
                }
                ran++;
            }
        } finally {
            worker.shutdownNow();
            tokenizer.close();
        }
        if (!bad.isEmpty()) {
            fail(bad.size() + " of " + ran + " fuzz cases ended in neither success nor a lit4j error (" + counts + "):\n  "
                    + String.join("\n  ", bad.subList(0, Math.min(bad.size(), 40))));
        }
        assertTrue(ran >= Math.min(cases, 200), "only " + ran + " cases ran in " + seconds + " s");
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
        });
    }

    // ------------------------------------------------------------------ targets

    private List<Target> targets(Path seeds, Path tokFile) throws IOException {
        Preprocess pp = Preprocess.bigVision(16);
        List<Target> t = new ArrayList<>();

        t.add(new Target("npy", List.of(npy(seeds, new long[] {3, 4}), npy(seeds, new long[] {5})), "a.npy", false,
                (dir, f) -> {
                    try (Arena a = Arena.ofConfined()) {
                        Npy.readFile(f, a);
                    }
                }));

        Path lit = seeds.resolve("lit");
        try (TwoTower m = TwoTower.allocate(BE, Presets.pair("smoke"))) {
            LitFormat.save(m, lit, null);
        }
        Path golden = Path.of("src/test/resources/golden");
        t.add(new Target("safetensors", List.of(Files.readAllBytes(lit.resolve(LitFormat.WEIGHTS)),
                Files.readAllBytes(golden.resolve("bert_hf/model.safetensors"))), "m.safetensors", false,
                (dir, f) -> load(f)));
        t.add(new Target("onnx", List.of(Files.readAllBytes(golden.resolve("bert_onnx/model.onnx"))), "m.onnx", false,
                (dir, f) -> load(f)));
        t.add(new Target("npz", List.of(Files.readAllBytes(golden.resolve("txt.npz")), Files.readAllBytes(golden.resolve("vit_scan.npz")),
                Files.readAllBytes(golden.resolve("siglip_bf16.npz"))), "m.npz", false, (dir, f) -> load(f)));
        byte[] litWeights = Files.readAllBytes(lit.resolve(LitFormat.WEIGHTS));
        t.add(new Target("lit4j config.json", List.of(Files.readAllBytes(lit.resolve(LitFormat.CONFIG))), "model/config.json", true,
                (dir, f) -> {
                    Files.write(f.resolveSibling(LitFormat.WEIGHTS), litWeights);
                    load(f.getParent());
                }));
        t.add(new Target("HF config.json", List.of(Files.readAllBytes(golden.resolve("bert_hf/config.json")),
                Files.readAllBytes(golden.resolve("vit_hf/config.json")), Files.readAllBytes(golden.resolve("siglip_hf/config.json"))),
                "hf/config.json", true,
                (dir, f) -> {
                    String cfg = Files.readString(f, StandardCharsets.ISO_8859_1);
                    Path weights = golden.resolve((cfg.contains("siglip") ? "siglip_hf" : cfg.contains("\"vit\"") ? "vit_hf" : "bert_hf")
                            + "/model.safetensors");
                    Files.copy(weights, f.resolveSibling("model.safetensors"));
                    load(f.resolveSibling("model.safetensors"));
                }));
        Path clip = golden.resolve("clip_hf");
        t.add(new Target("CLIP safetensors", List.of(Files.readAllBytes(clip.resolve("model.safetensors"))), "clip/model.safetensors", false,
                (dir, f) -> load(f)));
        t.add(new Target("CLIP config.json", List.of(Files.readAllBytes(clip.resolve("config.json"))), "clip/config.json", true,
                (dir, f) -> {
                    Files.copy(clip.resolve("model.safetensors"), f.resolveSibling("model.safetensors"));
                    load(f.getParent());
                }));
        t.add(new Target("preprocessor_config.json", List.of(Files.readAllBytes(clip.resolve(PreprocessorConfig.FILE))),
                "pre/" + PreprocessorConfig.FILE, true, (dir, f) -> PreprocessorConfig.read(f, 32)));
        t.add(new Target("tokenizer.json", List.of(Files.readAllBytes(tokFile), unigramJson(1).getBytes(StandardCharsets.UTF_8),
                Files.readAllBytes(clip.resolve("tokenizer.json"))), "tokenizer.json", true,
                (dir, f) -> {
                    try (TextTokenizer tok = TextTokenizer.load(f)) {
                        tok.tokens("a red \uFB01 circle");
                        tok.decode(tok.ids("the blue circle"));
                        tok.encode(List.of("a red circle", "the blue squares on a red square ."), 16,
                                tok.has("[CLS]") ? TextTokenizer.Policy.BERT : tok.has(TextTokenizer.CLIP_BOS) ? TextTokenizer.Policy.CLIP
                                        : TextTokenizer.Policy.STICKY_EOS);
                    }
                }));

        Path spm = golden.resolve("spm/tiny.model");
        Action encodeAll = (dir, f) -> {
            try (TextTokenizer tok = TextTokenizer.load(f)) {
                tok.tokens("a red \uFB01 circle");
                tok.decode(tok.ids("the blue circle"));
                tok.encode(List.of("a red circle", "The Blue squares on a red square ."), 8, TextTokenizer.Policy.STICKY_EOS);
            }
        };
        t.add(new Target("sentencepiece .model", List.of(Files.readAllBytes(spm)), "spiece.model", false, encodeAll));
        t.add(new Target("tokenizer_conventions.json", List.of(("{\"tokenizer\": \"spiece.model\", \"eos\": \"sticky\", \"pad_id\": 1,"
                + " \"lowercase\": true}").getBytes(StandardCharsets.UTF_8)), TextTokenizer.CONVENTIONS, true, (dir, f) -> {
                    Files.copy(spm, f.resolveSibling("spiece.model"));
                    encodeAll.run(dir, f);
                }));

        t.add(new Target("idx", idxSeeds(), "data.idx", false, (dir, f) -> {
            try {
                Idx.readImages(f);
            } catch (LitException e) {
                Idx.readLabels(f);
            }
        }));

        List<byte[]> images = imageSeeds();
        t.add(new Target("image", images, "img", false, (dir, f) -> Images.pixels(Files.readAllBytes(f), f.toString(), pp)));

        byte[] png = images.get(0);
        byte[] jpeg = images.get(2);
        String jsonl = "{\"image\": \"a.png\", \"captions\": [\"a red circle\", \"a red square\"]}\n"
                + "{\"image\": \"sub/b.jpg\", \"captions\": [\"the blue squares\"], \"label\": \"blue\"}\n"
                + "{\"image\": \"a.png\", \"captions\": [\"on the circle\"]}\n";
        Action readDataset = (dir, f) -> readAll(f, pp);
        t.add(new Target("captions.jsonl", List.of(jsonl.getBytes(StandardCharsets.UTF_8)), "ds/captions.jsonl", true,
                (dir, f) -> {
                    Files.write(f.resolveSibling("a.png"), png);
                    Files.createDirectories(f.resolveSibling("sub"));
                    Files.write(f.resolveSibling("sub/b.jpg"), jpeg);
                    readAll(f.getParent(), pp);
                }));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("captions.jsonl", jsonl.getBytes(StandardCharsets.UTF_8));
        files.put("a.png", png);
        files.put("sub/b.jpg", jpeg);
        t.add(new Target("tar", List.of(tar(files, TarArchiveOutputStream.LONGFILE_GNU), tar(files, TarArchiveOutputStream.LONGFILE_POSIX)),
                "d.tar", false, readDataset));
        t.add(new Target("zip", List.of(zip(files)), "d.zip", false, readDataset));
        return t;
    }

    private static void load(Path p) {
        try (TwoTower m = Checkpoints.load(BE, p)) {
            m.config();
        }
    }

    /** Opens a dataset, decodes every image and tokenizes every caption. */
    private void readAll(Path path, Preprocess pp) {
        try (CaptionDataset ds = CaptionDataset.open(path)) {
            for (Row r : ds.rows()) {
                Images.pixels(ds.readImage(r.image()), r.image(), pp);
                tokenizer.encode(r.captions(), 16, TextTokenizer.Policy.BERT);
            }
        }
    }

    private static byte[] npy(Path dir, long[] shape) throws IOException {
        Path f = dir.resolve("seed" + shape.length + ".npy");
        try (Arena a = Arena.ofConfined()) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            MemorySegment m = a.allocate(n * 4);
            for (long i = 0; i < n; i++) {
                m.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f);
            }
            Npy.writeFile(f, DType.F32, shape, m);
        }
        return Files.readAllBytes(f);
    }

    /**
     * A SentencePiece-style tokenizer whose Precompiled normalizer maps "a" to "b" through a
     * 512-unit double-array trie; {@code leafOffset} 1 makes it valid, a large one points past the trie.
     */
    static String unigramJson(long leafOffset) {
        ByteBuffer map = ByteBuffer.allocate(4 + 512 * 4 + 2).order(ByteOrder.LITTLE_ENDIAN);
        map.putInt(512 * 4);
        long[] trie = new long[512];
        trie[0] = 256L << 10; // root: children at 256 ^ byte
        trie[256 ^ 'a'] = leafOffset << 10 | 1 << 8 | 'a'; // label 'a', has a leaf at (256 ^ 'a') ^ offset
        for (long u : trie) {
            map.putInt((int) u);
        }
        map.put((byte) 'b').put((byte) 0);
        JsonObject charsmap = new JsonObject();
        charsmap.addProperty("type", "Precompiled");
        charsmap.addProperty("precompiled_charsmap", Base64.getEncoder().encodeToString(map.array()));
        String vocab = "[[\"<unk>\", 0.0], [\"</s>\", 0.0], [\"\u2581b\", -1.0], [\"\u2581a\", -1.0], [\"\u2581\", -2.0]]";
        return "{\"version\": \"1.0\", \"added_tokens\": [], \"normalizer\": " + charsmap
                + ", \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\u2581\", \"prepend_scheme\": \"always\", \"split\": true}"
                + ", \"post_processor\": null, \"decoder\": null"
                + ", \"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": " + vocab + ", \"byte_fallback\": false}}";
    }

    /** Fashion-MNIST's IDX files in small: images and labels, plain and gzipped. */
    private static List<byte[]> idxSeeds() throws IOException {
        ByteBuffer img = ByteBuffer.allocate(16 + 2 * 3 * 4).putInt(Idx.MAGIC_IMAGES).putInt(2).putInt(3).putInt(4);
        for (int i = 0; i < 24; i++) {
            img.put((byte) (i * 10));
        }
        byte[] labels = ByteBuffer.allocate(8 + 2).putInt(Idx.MAGIC_LABELS).putInt(2).put((byte) 3).put((byte) 7).array();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(img.array());
        }
        return List.of(img.array(), labels, gz.toByteArray());
    }

    static List<byte[]> imageSeeds() throws IOException {
        BufferedImage rgb = new BufferedImage(12, 9, BufferedImage.TYPE_INT_RGB);
        BufferedImage gray = new BufferedImage(7, 5, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 9; y++) {
            for (int x = 0; x < 12; x++) {
                rgb.setRGB(x, y, (x * 20) << 16 | (y * 25) << 8 | ((x + y) * 10));
                if (x < 7 && y < 5) {
                    gray.getRaster().setSample(x, y, 0, x * 30 + y);
                }
            }
        }
        List<byte[]> out = new ArrayList<>();
        out.add(write(rgb, "png", null));
        out.add(write(gray, "png", null));
        out.add(write(rgb, "jpeg", null));
        out.add(write(rgb, "jpeg", "progressive"));
        out.add(write(rgb, "gif", null));
        out.add(write(rgb, "bmp", null));
        out.add(write(rgb, "tiff", null));
        out.add(write(rgb, "tiff", "LZW"));
        out.add(write(gray, "tiff", "PackBits"));
        out.add(write(rgb, "tiff", "Deflate"));
        return out;
    }

    /** {@code option}: "progressive" for JPEG, a compression type for TIFF. */
    static byte[] write(BufferedImage img, String format, String option) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName(format).next();
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bos)) {
            w.setOutput(out);
            ImageWriteParam p = w.getDefaultWriteParam();
            if ("progressive".equals(option)) {
                p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            } else if (option != null) {
                p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                p.setCompressionType(option);
            }
            w.write(null, new IIOImage(img, null, null), p);
        } finally {
            w.dispose();
        }
        return bos.toByteArray();
    }

    private static byte[] tar(Map<String, byte[]> files, int longFileMode) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bos)) {
            out.setLongFileMode(longFileMode);
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                TarArchiveEntry en = new TarArchiveEntry(e.getKey());
                en.setSize(e.getValue().length);
                out.putArchiveEntry(en);
                out.write(e.getValue());
                out.closeArchiveEntry();
            }
            TarArchiveEntry link = new TarArchiveEntry("sub/link.png", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("../a.png");
            out.putArchiveEntry(link);
            out.closeArchiveEntry();
        }
        return bos.toByteArray();
    }

    private static byte[] zip(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bos)) {
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return bos.toByteArray();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ------------------------------------------------------------------ mutations

    /** Byte-level mutations for every input, and token-level ones for JSON text. */
    static final class Mutator {
        private static final long[] INTERESTING = {0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFFL, 0x80000000L,
            0xFFFFFFFFL, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 32, 20000, 1 << 20};
        private static final String[] NUMBERS = {"0", "-1", "1e7", "16000000", "2147483647", "2147483648", "-2147483648",
            "9223372036854775807", "1e308", "1.5", "abc", "\"abc\"", "null", "[]", "{}", "true", "99999999999999999999"};
        private static final String[] STRINGS = {"", "..", "../../etc/passwd", "/etc/passwd", "a/../../b.png", "C:\\x.png",
            "\\u0000", "sub", "a.png/", "x".repeat(70_000)};
        private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
        private static final Pattern STRING = Pattern.compile("\"([^\"\\\\]{0,60})\"");

        private Mutator() {
        }

        static byte[] mutate(byte[] in, boolean text, Random r, StringBuilder how) {
            byte[] b = in.clone();
            int rounds = 1 + r.nextInt(3);
            for (int k = 0; k < rounds; k++) {
                if (text && r.nextInt(3) > 0) {
                    b = mutateText(b, r, how);
                } else {
                    b = mutateBytes(b, r, how);
                }
            }
            return b;
        }

        /** A position: anywhere, or near the start or the end (where headers and directories are). */
        private static int pos(byte[] b, Random r) {
            if (b.length == 0) {
                return 0;
            }
            return switch (r.nextInt(4)) {
                case 0, 1 -> r.nextInt(b.length);
                case 2 -> r.nextInt(Math.min(b.length, 600));
                default -> b.length - 1 - r.nextInt(Math.min(b.length, 600));
            };
        }

        private static byte[] mutateBytes(byte[] b, Random r, StringBuilder how) {
            int p = pos(b, r);
            int op = b.length == 0 ? 6 : r.nextInt(8);
            switch (op) {
                case 0 -> {
                    b[p] ^= (byte) (1 << r.nextInt(8));
                    how.append("flip@").append(p).append(' ');
                }
                case 1 -> {
                    long v = INTERESTING[r.nextInt(INTERESTING.length)];
                    b[p] = (byte) v;
                    how.append("byte ").append(v & 0xFF).append('@').append(p).append(' ');
                }
                case 2, 3 -> {
                    long v = INTERESTING[r.nextInt(INTERESTING.length)];
                    int width = op == 2 ? 4 : 8;
                    boolean big = r.nextBoolean();
                    for (int i = 0; i < width && p + i < b.length; i++) {
                        int shift = 8 * (big ? width - 1 - i : i);
                        b[p + i] = (byte) (v >>> shift);
                    }
                    how.append("int").append(8 * width).append(big ? "BE " : "LE ").append(v).append('@').append(p).append(' ');
                }
                case 4 -> {
                    how.append("truncate@").append(p).append(' ');
                    return Arrays.copyOf(b, p);
                }
                case 5 -> {
                    int len = 1 + r.nextInt(Math.min(64, b.length - p));
                    how.append("delete ").append(len).append('@').append(p).append(' ');
                    return splice(b, p, len, new byte[0]);
                }
                case 6 -> {
                    byte[] ins = new byte[1 + r.nextInt(16)];
                    r.nextBytes(ins);
                    how.append("insert ").append(ins.length).append('@').append(p).append(' ');
                    return splice(b, p, 0, ins);
                }
                default -> {
                    int len = 1 + r.nextInt(Math.min(512, b.length - p));
                    int times = 1 + r.nextInt(r.nextBoolean() ? 4 : 200);
                    byte[] chunk = Arrays.copyOfRange(b, p, p + len);
                    ByteArrayOutputStream rep = new ByteArrayOutputStream();
                    for (int i = 0; i < times; i++) {
                        rep.writeBytes(chunk);
                    }
                    how.append("repeat ").append(len).append('x').append(times).append('@').append(p).append(' ');
                    return splice(b, p, 0, rep.toByteArray());
                }
            }
            return b;
        }

        private static byte[] mutateText(byte[] b, Random r, StringBuilder how) {
            String s = new String(b, StandardCharsets.ISO_8859_1);
            boolean number = r.nextBoolean();
            Matcher m = (number ? NUMBER : STRING).matcher(s);
            List<int[]> spans = new ArrayList<>();
            while (m.find()) {
                spans.add(number ? new int[] {m.start(), m.end()} : new int[] {m.start(1), m.end(1)});
            }
            if (spans.isEmpty()) {
                return mutateBytes(b, r, how);
            }
            int[] span = spans.get(r.nextInt(spans.size()));
            String rep = number ? NUMBERS[r.nextInt(NUMBERS.length)] : STRINGS[r.nextInt(STRINGS.length)];
            how.append(number ? "number" : "string").append('@').append(span[0]).append("->")
                    .append(rep.length() > 20 ? rep.substring(0, 5) + "...(" + rep.length() + " chars)" : rep).append(' ');
            return (s.substring(0, span[0]) + rep + s.substring(span[1])).getBytes(StandardCharsets.ISO_8859_1);
        }

        private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
            byte[] out = new byte[b.length - remove + insert.length];
            System.arraycopy(b, 0, out, 0, at);
            System.arraycopy(insert, 0, out, at, insert.length);
            System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
            return out;
        }
    }
}
