package io.lit4j.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.lit4j.LitException;
import io.lit4j.tensor.DType;

import java.io.EOFException;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file (lit4j's own models and HuggingFace's) by memory-mapping it:
 * arrays are zero-copy slices of the mapping, valid until {@link #close()}. The whole header is
 * validated on {@link #open}: sizes, dtypes, shapes, and that every array's byte range lies inside
 * the data and overlaps no other, so a damaged file gives a {@link CheckpointException} up front.
 * Safe to read from several threads; close it once no one uses its arrays.
 */
public final class SafetensorsReader extends ArrayFile<SafetensorsReader.Entry> {
    /** Largest header lit4j reads (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    static final String METADATA_KEY = "__metadata__";

    private static final TypeAdapter<JsonElement> JSON = new Gson().getAdapter(JsonElement.class);

    /** One array: its type and shape and where its bytes are in the data section. */
    record Entry(ArrayInfo info, long begin, long end) {
    }

    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, String> metadata;

    private SafetensorsReader(Path file, Arena arena, MemorySegment data, Map<String, Entry> entries,
            Map<String, String> metadata) {
        super(file, entries);
        this.arena = arena;
        this.data = data;
        this.metadata = metadata;
    }

    /** Opens, validates and maps {@code file}. */
    public static SafetensorsReader open(Path file) {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file, "is a folder, not a .safetensors file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(file, "too short to be safetensors (" + size + " bytes, the "
                        + "8-byte header length alone needs 8)");
            }
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lb, 0);
            long n = lb.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new CheckpointException(file, "header length " + Long.toUnsignedString(n) + " is over "
                        + "lit4j's limit of " + MAX_HEADER_BYTES + " bytes; the file is damaged or not safetensors");
            }
            if (8 + n > size) {
                throw new CheckpointException(file, "header length " + n + " goes past the end of the file ("
                        + size + " bytes); the file is truncated or not safetensors");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            long dataSize = size - 8 - n;
            Header header = parseHeader(file, hb.flip(), dataSize);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 8 + n, dataSize, arena);
                return new SafetensorsReader(file, arena, mapped, header.entries, header.metadata);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "read", e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new EOFException("file shrank while being read");
            }
        }
    }

    private record Header(Map<String, Entry> entries, Map<String, String> metadata) {
    }

    private static Header parseHeader(Path file, ByteBuffer bytes, long dataSize) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, "the header is not UTF-8 text; the file is damaged or not safetensors");
        }
        JsonElement root;
        try {
            JsonReader r = new JsonReader(new StringReader(text));
            r.setStrictness(Strictness.STRICT);
            root = JSON.read(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("text after the JSON value");
            }
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new CheckpointException(file, null, "the header is not valid JSON (" + jsonProblem(e)
                    + "); the file is damaged or not safetensors", e);
        }
        if (!root.isJsonObject()) {
            throw new CheckpointException(file, "the header is JSON but not an object; the file is not safetensors");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonElement> kv : root.getAsJsonObject().entrySet()) {
            String key = kv.getKey();
            if (key.equals(METADATA_KEY)) {
                metadata = parseMetadata(file, kv.getValue());
            } else {
                entries.put(key, parseEntry(file, key, kv.getValue(), dataSize));
            }
        }
        checkOverlaps(file, entries);
        return new Header(Collections.unmodifiableMap(entries), metadata);
    }

    /** Gson's message without its advice to parse leniently or its troubleshooting link, and short. */
    private static String jsonProblem(Exception e) {
        String m = String.valueOf(e.getMessage());
        m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ", "malformed JSON ");
        int see = m.indexOf("\nSee ");
        if (see >= 0) {
            m = m.substring(0, see);
        }
        return m.length() > 160 ? m.substring(0, 160) + "..." : m;
    }

    private static Map<String, String> parseMetadata(Path file, JsonElement value) {
        if (!value.isJsonObject()) {
            throw new CheckpointException(file, METADATA_KEY + " must be an object of strings");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> kv : value.getAsJsonObject().entrySet()) {
            if (!(kv.getValue() instanceof JsonPrimitive p) || !p.isString()) {
                throw new CheckpointException(file, METADATA_KEY + " entry '" + kv.getKey() + "' is "
                        + kv.getValue() + ", not a string");
            }
            m.put(kv.getKey(), p.getAsString());
        }
        return Collections.unmodifiableMap(m);
    }

    private static Entry parseEntry(Path file, String key, JsonElement value, long dataSize) {
        if (!value.isJsonObject()) {
            throw new CheckpointException(file, key, "header entry is " + brief(value)
                    + ", not an object with dtype, shape and data_offsets");
        }
        JsonObject o = value.getAsJsonObject();
        JsonElement dt = o.get("dtype");
        if (!(dt instanceof JsonPrimitive p) || !p.isString()) {
            throw new CheckpointException(file, key, "'dtype' is " + brief(dt) + ", not a string like \"F32\"");
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensors(p.getAsString());
        } catch (LitException e) {
            throw new CheckpointException(file, key, e.getMessage(), e);
        }
        long[] shape = longs(file, key, "shape", o.get("shape"), -1);
        long[] offsets = longs(file, key, "data_offsets", o.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        long bytes;
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            bytes = Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, key, "shape " + Arrays.toString(shape)
                    + " has more bytes than fit in a long; the header is damaged");
        }
        if (begin > end || end > dataSize) {
            throw new CheckpointException(file, key, "data_offsets [" + begin + ", " + end + "] are not a range "
                    + "within the " + dataSize + " data bytes of the file; it is truncated or damaged");
        }
        if (end - begin != bytes) {
            throw new CheckpointException(file, key, dtype + " " + Arrays.toString(shape) + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new Entry(new ArrayInfo(key, dtype, shape), begin, end);
    }

    /** A JSON array of non-negative integers (of {@code length} elements unless that is -1). */
    private static long[] longs(Path file, String key, String field, JsonElement value, int length) {
        String want = length < 0 ? "a list of non-negative integers" : "a list of " + length + " non-negative integers";
        if (!(value instanceof JsonArray a) || (length >= 0 && a.size() != length)) {
            throw new CheckpointException(file, key, "'" + field + "' is " + brief(value) + ", not " + want);
        }
        long[] r = new long[a.size()];
        for (int i = 0; i < r.length; i++) {
            JsonElement x = a.get(i);
            long v = -1;
            if (x instanceof JsonPrimitive p && p.isNumber()) {
                try {
                    v = new BigDecimal(p.getAsString()).longValueExact();
                } catch (ArithmeticException | NumberFormatException e) {
                    v = -1;
                }
            }
            if (v < 0) {
                throw new CheckpointException(file, key, "'" + field + "' is " + brief(value) + ", not " + want);
            }
            r[i] = v;
        }
        return r;
    }

    private static String brief(JsonElement e) {
        if (e == null) {
            return "missing";
        }
        String s = e.toString();
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static void checkOverlaps(Path file, Map<String, Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin() == e.end()) {
                continue; // an empty array occupies no bytes
            }
            if (prev != null && e.begin() < prev.end()) {
                throw new CheckpointException(file, e.info().key(), "data_offsets [" + e.begin() + ", " + e.end()
                        + "] overlap those of '" + prev.info().key() + "' [" + prev.begin() + ", " + prev.end()
                        + "]; the header is damaged");
            }
            prev = e;
        }
    }

    /** The {@code __metadata__} strings (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public ArrayInfo info(String key) {
        return entry(key).info();
    }

    /** A zero-copy, read-only view of {@code key}'s bytes; valid until this reader is closed. */
    public HostArray read(String key) {
        Entry e = entry(key);
        return new HostArray(e.info(), data.asSlice(e.begin(), e.end() - e.begin()));
    }

    @Override
    public HostArray readInPlace(String key) {
        return read(key);
    }

    @Override
    public float[] readFloats(String key) {
        HostArray a = read(key);
        float[] values = a.toFloatArray();
        a.releasePages(); // a loaded model is not held twice
        return values;
    }

    @Override
    protected void requireOpen() {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("SafetensorsReader for " + file + " is closed");
        }
    }

    /** Unmaps the file; arrays read from it must not be used afterwards. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
