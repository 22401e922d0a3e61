package io.lit4j.data;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.lit4j.LitException;
import io.lit4j.io.AtomicFile;

import java.io.Closeable;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An image-caption dataset: a folder, an uncompressed {@code .tar} or a {@code .zip} whose root
 * (or whose single top-level folder) holds {@code captions.jsonl} or {@code captions.tsv}.
 *
 * <ul>
 *   <li>{@code captions.jsonl}: one JSON object per line, {@code {"image": "rel/path.png",
 *       "caption": "..."}} or {@code {"image": ..., "captions": ["...", "..."]}}; an optional
 *       {@code "label"} names the class of the image (for zero-shot evaluation); other fields
 *       are ignored.</li>
 *   <li>{@code captions.tsv}: {@code image<TAB>caption} per line; an optional first line
 *       {@code image<TAB>caption} is a header.</li>
 * </ul>
 * Lines naming the same image are merged into one {@link Row} (captions in file order); blank
 * lines are skipped. Lines that are malformed, have no caption or an unsafe path (absolute, or
 * with {@code ..}), and images whose file is missing, are left out and counted in
 * {@link #badRows()}. The index is built once on open; {@link #readImage(String)} is thread-safe.
 */
public final class CaptionDataset implements AutoCloseable {
    /**
     * One image with its captions and, when the file gives one, its class label (for zero-shot
     * evaluation); {@code index} is its position in {@link #rows()}.
     */
    public record Row(int index, String image, List<String> captions, String label) {
        public Row {
            captions = List.copyOf(captions);
        }

        public Row(int index, String image, List<String> captions) {
            this(index, image, captions, null);
        }
    }

    /** Extensions {@link #ofImagesOnly} lists. */
    public static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "jpe", "jfif", "bmp", "gif", "tif", "tiff");
    /** Image extensions that exist but are not decodable here: reported as bad rows. */
    public static final Set<String> UNSUPPORTED_EXTENSIONS = Set.of("webp", "heic", "heif", "avif", "jxl", "svg", "jp2", "psd");
    /** Largest image file read. */
    public static final long MAX_IMAGE_BYTES = 1L << 30;
    public static final String JSONL = "captions.jsonl";
    public static final String TSV = "captions.tsv";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final Path source;
    private final DatasetStorage storage;
    private final String prefix;
    private final String captionsFile;
    private final List<Row> rows;
    private final BadRows bad;

    private CaptionDataset(Path source, DatasetStorage storage, String prefix, String captionsFile, List<Row> rows, BadRows bad) {
        this.source = source;
        this.storage = storage;
        this.prefix = prefix;
        this.captionsFile = captionsFile;
        this.rows = List.copyOf(rows);
        this.bad = bad;
    }

    /** Opens a folder, {@code .tar} or {@code .zip} holding {@code captions.jsonl} or {@code captions.tsv}. */
    public static CaptionDataset open(Path path) {
        DatasetStorage st = DatasetStorage.open(path);
        try {
            String prefix = "";
            String found = captionsAt(st, "");
            if (found == null && !(st instanceof DatasetStorage.Folder)) {
                String top = singleTopFolder(st.list());
                if (top != null) {
                    found = captionsAt(st, top + "/");
                    prefix = found == null ? "" : top + "/";
                }
            }
            if (found == null) {
                throw new LitException(path + ": no " + JSONL + " or " + TSV + " at the root of this "
                        + st.kind() + " (one {\"image\": \"a.png\", \"caption\": \"...\"} per line); images without captions can still be"
                        + " classified or embedded: lit4j classify DIR, lit4j embed --images DIR");
            }
            byte[] text = st.read(prefix + found);
            BadRows bad = new BadRows();
            String where = st.display(prefix + found);
            Map<String, Pending> merged = found.equals(JSONL) ? parseJsonl(text, where, bad) : parseTsv(text, where, bad);
            List<Row> rows = new ArrayList<>();
            for (Map.Entry<String, Pending> e : merged.entrySet()) {
                Pending p = e.getValue();
                if (p.captions.isEmpty()) {
                    continue; // its lines were counted as NO_CAPTION already
                }
                if (!st.isFile(prefix + e.getKey())) {
                    bad.add(BadRows.Reason.MISSING_IMAGE, where, p.firstLine, e.getKey());
                    continue;
                }
                rows.add(new Row(rows.size(), e.getKey(), p.captions, p.label));
            }
            return new CaptionDataset(path, st, prefix, found, rows, bad);
        } catch (IOException e) {
            closeQuietly(st);
            throw new LitException(path + ": cannot read dataset: " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(st);
            throw e;
        }
    }

    /**
     * Every image file (by extension, case-insensitive) under a folder, {@code .tar} or
     * {@code .zip}, recursively, sorted by path, with no captions; hidden files and folders
     * (name starting with {@code .}) are skipped. Files with an image extension that lit4j
     * cannot decode (WebP, HEIC, ...) are counted as bad rows.
     */
    public static CaptionDataset ofImagesOnly(Path path) {
        DatasetStorage st = DatasetStorage.open(path);
        try {
            BadRows bad = new BadRows();
            List<Row> rows = new ArrayList<>();
            for (String f : st.list()) {
                if (hidden(f)) {
                    continue;
                }
                String ext = extension(f);
                if (IMAGE_EXTENSIONS.contains(ext)) {
                    rows.add(new Row(rows.size(), f, List.of()));
                } else if (UNSUPPORTED_EXTENSIONS.contains(ext)) {
                    bad.add(BadRows.Reason.UNSUPPORTED_FORMAT, st.display(f), -1, "." + ext + " files are not decodable; convert to PNG or JPEG");
                }
            }
            return new CaptionDataset(path, st, "", null, rows, bad);
        } catch (IOException e) {
            closeQuietly(st);
            throw new LitException(path + ": cannot list images: " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(st);
            throw e;
        }
    }

    /**
     * The class-subfolder layout torchvision's {@code ImageFolder} reads: every image under
     * {@code DIR/<class>/} (recursively) is labelled with its class folder's name, which is also its
     * one caption. Images directly under {@code DIR} have no class and are counted as bad rows.
     */
    public static CaptionDataset ofClassFolders(Path path) {
        CaptionDataset images = ofImagesOnly(path);
        BadRows bad = images.bad;
        List<Row> rows = new ArrayList<>();
        for (Row r : images.rows) {
            int slash = r.image().indexOf('/');
            if (slash <= 0) {
                bad.add(BadRows.Reason.NO_CAPTION, images.storage.display(r.image()), -1, "not in a class folder (DIR/<class>/image)");
                continue;
            }
            String label = r.image().substring(0, slash);
            rows.add(new Row(rows.size(), r.image(), List.of(label), label));
        }
        if (rows.isEmpty()) {
            images.close();
            throw new LitException(path + ": no captions.jsonl or captions.tsv, and no images in class folders (DIR/<class>/image.png)");
        }
        return new CaptionDataset(path, images.storage, "", null, rows, bad);
    }

    /** Whether a folder, .tar or .zip has a captions file at its root (else {@link #ofClassFolders} may read it). */
    public static boolean hasCaptions(Path path) {
        if (Files.isDirectory(path)) {
            return Files.isRegularFile(path.resolve(JSONL)) || Files.isRegularFile(path.resolve(TSV));
        }
        return true; // archives: open() looks inside and says what it found
    }

    /**
     * Writes {@code folder/captions.jsonl} atomically (the folder is created if missing), one
     * {@link #captionLine} per row. Rows need a safe relative image path and at least one non-blank
     * caption. Returns the file written.
     */
    public static Path writeJsonl(Path folder, List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        for (Row r : rows) {
            String img = safePath(r.image());
            if (img == null || !img.equals(r.image())) {
                throw new LitException("writeJsonl: row " + r.index() + ": image path '" + r.image()
                        + "' is not a normalised relative path (no leading /, no . or .. segments)");
            }
            List<String> caps = r.captions().stream().map(String::strip).filter(c -> !c.isEmpty()).toList();
            if (caps.isEmpty()) {
                throw new LitException("writeJsonl: row " + r.index() + " (" + r.image() + ") has no caption");
            }
            sb.append(captionLine(img, caps, r.label())).append('\n');
        }
        Path out = folder.resolve(JSONL);
        try {
            Files.createDirectories(folder);
            AtomicFile.writeString(out, sb.toString());
        } catch (IOException e) {
            throw new LitException(out + ": cannot write: " + e, e);
        }
        return out;
    }

    /**
     * One {@code captions.jsonl} line (without the newline), the one place lit4j formats them:
     * {@code {"image": "images/000001.png", "captions": ["...", "..."], "label": "red circle"}}, keys
     * in this order, {@code captions} always a list, {@code label} only when not null, no HTML escaping.
     */
    public static String captionLine(String image, List<String> captions, String label) {
        if (captions.isEmpty()) {
            throw new LitException("image " + image + " has no caption");
        }
        JsonObject o = new JsonObject();
        o.addProperty("image", image);
        JsonArray a = new JsonArray();
        captions.forEach(a::add);
        o.add("captions", a);
        if (label != null) {
            o.addProperty("label", label);
        }
        return GSON.toJson(o);
    }

    /** The usable rows, in order of first appearance in the captions file. */
    public List<Row> rows() {
        return rows;
    }

    public Row row(int index) {
        return rows.get(index);
    }

    public int size() {
        return rows.size();
    }

    /** What was left out when the index was built. */
    public BadRows badRows() {
        return bad;
    }

    /** The folder or archive this was opened from. */
    public Path source() {
        return source;
    }

    /** {@code captions.jsonl}, {@code captions.tsv}, or null for {@link #ofImagesOnly}. */
    public String captionsFile() {
        return captionsFile;
    }

    /** One line for logs: source, kind, captions file, row and bad-row counts. */
    public String describe() {
        return source + " (" + storage.kind() + (captionsFile == null ? ", images only" : ", " + prefix + captionsFile)
                + ", " + rows.size() + " rows, " + bad.summary() + ")";
    }

    /**
     * The bytes of an image named by a row ({@link Row#image()}), relative to the dataset root.
     * Thread-safe. Throws {@link LitException} naming the file on any failure.
     */
    public byte[] readImage(String path) {
        String p = safePath(path);
        if (p == null) {
            throw new LitException(source + ": unsafe image path '" + path + "'");
        }
        try {
            return storage.read(prefix + p);
        } catch (IOException e) {
            throw new LitException(storage.display(prefix + p) + ": cannot read: " + e, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(storage);
    }

    // ---------------------------------------------------------------- parsing

    private static final class Pending {
        final int firstLine;
        final List<String> captions = new ArrayList<>();
        String label;

        Pending(int firstLine) {
            this.firstLine = firstLine;
        }
    }

    /** Splits into lines, decoding each as strict UTF-8; calls {@code handler} for non-blank ones. */
    private interface LineHandler {
        void line(int number, String text);
    }

    private static void lines(byte[] text, String where, BadRows bad, LineHandler handler) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        int start = 0;
        int number = 0;
        if (text.length >= 3 && (text[0] & 0xFF) == 0xEF && (text[1] & 0xFF) == 0xBB && (text[2] & 0xFF) == 0xBF) {
            start = 3; // UTF-8 byte order mark
        }
        while (start < text.length) {
            int end = start;
            while (end < text.length && text[end] != '\n') {
                end++;
            }
            number++;
            int stop = end > start && text[end - 1] == '\r' ? end - 1 : end;
            String line;
            try {
                CharBuffer cb = dec.reset().decode(ByteBuffer.wrap(text, start, stop - start));
                line = cb.toString();
            } catch (CharacterCodingException e) {
                bad.add(BadRows.Reason.MALFORMED_LINE, where, number, "not valid UTF-8");
                start = end + 1;
                continue;
            }
            if (!line.isBlank()) {
                handler.line(number, line);
            }
            start = end + 1;
        }
    }

    private static void addRow(Map<String, Pending> merged, BadRows bad, String where, int line, String rawImage, List<String> caps) {
        String img = safePath(rawImage);
        if (img == null) {
            bad.add(BadRows.Reason.UNSAFE_PATH, where, line, "'" + rawImage + "'");
            return;
        }
        List<String> kept = caps.stream().map(String::strip).filter(c -> !c.isEmpty()).toList();
        if (kept.isEmpty()) {
            bad.add(BadRows.Reason.NO_CAPTION, where, line, img);
            return;
        }
        merged.computeIfAbsent(img, k -> new Pending(line)).captions.addAll(kept);
    }

    private static Map<String, Pending> parseJsonl(byte[] text, String where, BadRows bad) {
        Map<String, Pending> merged = new LinkedHashMap<>();
        lines(text, where, bad, (n, line) -> {
            JsonObject o;
            try (JsonReader r = new JsonReader(new StringReader(line))) {
                r.setStrictness(Strictness.STRICT);
                JsonElement el = JsonParser.parseReader(r);
                if (r.peek() != JsonToken.END_DOCUMENT) {
                    throw new JsonParseException("text after the JSON object");
                }
                if (!el.isJsonObject()) {
                    throw new JsonParseException("not a JSON object");
                }
                o = el.getAsJsonObject();
            } catch (JsonParseException | IOException | IllegalStateException e) {
                bad.add(BadRows.Reason.MALFORMED_LINE, where, n, shortMessage(e));
                return;
            }
            JsonElement image = o.get("image");
            if (image == null || !image.isJsonPrimitive() || !image.getAsJsonPrimitive().isString()
                    || image.getAsString().isBlank()) {
                bad.add(BadRows.Reason.MALFORMED_LINE, where, n, "\"image\" must be a non-empty string");
                return;
            }
            List<String> caps = new ArrayList<>();
            JsonElement one = o.get("caption");
            if (one != null && !one.isJsonNull()) {
                if (!one.isJsonPrimitive() || !one.getAsJsonPrimitive().isString()) {
                    bad.add(BadRows.Reason.MALFORMED_LINE, where, n, "\"caption\" must be a string");
                    return;
                }
                caps.add(one.getAsString());
            }
            JsonElement many = o.get("captions");
            if (many != null && !many.isJsonNull()) {
                if (!many.isJsonArray()) {
                    bad.add(BadRows.Reason.MALFORMED_LINE, where, n, "\"captions\" must be an array of strings");
                    return;
                }
                for (JsonElement c : many.getAsJsonArray()) {
                    if (!c.isJsonPrimitive() || !c.getAsJsonPrimitive().isString()) {
                        bad.add(BadRows.Reason.MALFORMED_LINE, where, n, "\"captions\" must be an array of strings");
                        return;
                    }
                    caps.add(c.getAsString());
                }
            }
            addRow(merged, bad, where, n, image.getAsString().strip(), caps);
            JsonElement label = o.get("label");
            Pending row = merged.get(safePath(image.getAsString().strip()));
            if (row != null && label != null && label.isJsonPrimitive() && row.label == null) {
                row.label = label.getAsString();
            }
        });
        return merged;
    }

    private static Map<String, Pending> parseTsv(byte[] text, String where, BadRows bad) {
        Map<String, Pending> merged = new LinkedHashMap<>();
        lines(text, where, bad, (n, line) -> {
            int tab = line.indexOf('\t');
            if (tab < 0) {
                bad.add(BadRows.Reason.MALFORMED_LINE, where, n, "no tab between image and caption");
                return;
            }
            String image = line.substring(0, tab).strip();
            String caption = line.substring(tab + 1);
            if (n == 1 && image.equalsIgnoreCase("image") && caption.strip().equalsIgnoreCase("caption")) {
                return; // header
            }
            if (image.isEmpty()) {
                bad.add(BadRows.Reason.MALFORMED_LINE, where, n, "empty image path");
                return;
            }
            addRow(merged, bad, where, n, image, List.of(caption));
        });
        return merged;
    }

    private static String shortMessage(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        m = nl >= 0 ? m.substring(0, nl) : m;
        return m.length() > 160 ? m.substring(0, 160) + "..." : m;
    }

    /**
     * The normalised relative path ({@code ./} and empty segments dropped), or null when it is
     * absolute ({@code /x}, {@code \x}, {@code C:x}), has a {@code ..} segment (with either slash)
     * or a NUL, or names a folder.
     */
    static String safePath(String raw) {
        if (raw == null || raw.isEmpty() || raw.indexOf('\0') >= 0 || raw.startsWith("/") || raw.startsWith("\\")
                || (raw.length() >= 2 && raw.charAt(1) == ':' && Character.isLetter(raw.charAt(0)))) {
            return null;
        }
        for (String seg : raw.split("[/\\\\]", -1)) {
            if (seg.equals("..")) {
                return null;
            }
        }
        return TarIndex.normalise(raw);
    }

    private static boolean hidden(String path) {
        for (String seg : path.split("/")) {
            if (seg.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static String extension(String path) {
        int slash = path.lastIndexOf('/');
        int dot = path.lastIndexOf('.');
        return dot > slash + 1 ? path.substring(dot + 1).toLowerCase(Locale.ROOT) : "";
    }

    private static String captionsAt(DatasetStorage st, String prefix) throws IOException {
        boolean jsonl = st.isFile(prefix + JSONL);
        boolean tsv = st.isFile(prefix + TSV);
        if (jsonl && tsv) {
            throw new LitException(st.display(prefix) + ": both " + JSONL + " and " + TSV
                    + " are present - keep one so it is clear which to use");
        }
        return jsonl ? JSONL : tsv ? TSV : null;
    }

    /** The one top-level folder all members are in, or null. */
    private static String singleTopFolder(List<String> members) {
        String top = null;
        for (String m : members) {
            int slash = m.indexOf('/');
            if (slash < 0) {
                return null;
            }
            String t = m.substring(0, slash);
            if (top == null) {
                top = t;
            } else if (!top.equals(t)) {
                return null;
            }
        }
        return top;
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing a read-only source: nothing to lose
        }
    }
}
