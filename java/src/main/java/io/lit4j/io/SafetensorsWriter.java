package io.lit4j.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@code .safetensors} file: lit4j's model format, readable by HuggingFace's library.
 * Arrays are packed in the order given, the header lists them in that order (after
 * {@code __metadata__}), and it is padded with spaces so the data starts 8-byte aligned. The file
 * is written atomically: it is either replaced by the complete new file or left as it was.
 */
public final class SafetensorsWriter {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private SafetensorsWriter() {
    }

    /**
     * Writes {@code arrays} (raw little-endian bytes, as {@link HostArray} holds them) to
     * {@code file}. {@code metadata} may be null or empty, in which case no {@code __metadata__}
     * is written.
     */
    public static void write(Path file, Map<String, String> metadata, List<HostArray> arrays) {
        byte[] header = header(file, metadata, arrays);
        try (AtomicFile af = AtomicFile.create(file)) {
            OutputStream out = af.stream();
            long n = header.length;
            out.write(new byte[] {(byte) n, (byte) (n >>> 8), (byte) (n >>> 16), (byte) (n >>> 24), 0, 0, 0, 0});
            out.write(header);
            for (HostArray a : arrays) {
                Npy.writeData(out, a.data());
            }
            af.commit();
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "write", e);
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes; checks keys first. */
    private static byte[] header(Path file, Map<String, String> metadata, List<HostArray> arrays) {
        JsonObject root = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new CheckpointException(file, "metadata keys and values must not be null (" + k + " = " + v + ")");
                }
                m.addProperty(k, v);
            });
            root.add(SafetensorsReader.METADATA_KEY, m);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (HostArray a : arrays) {
            String key = a.key();
            if (key.equals(SafetensorsReader.METADATA_KEY)) {
                throw new CheckpointException(file, key, "is reserved for metadata and cannot name an array");
            }
            if (!seen.add(key)) {
                throw new CheckpointException(file, key, "appears twice; array names must be unique");
            }
            JsonObject e = new JsonObject();
            e.addProperty("dtype", a.dtype().safetensorsName());
            JsonArray shape = new JsonArray();
            for (long d : a.shape()) {
                shape.add(d);
            }
            e.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset += a.info().byteSize();
            offsets.add(offset);
            e.add("data_offsets", offsets);
            root.add(key, e);
        }
        byte[] json = GSON.toJson(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        if (padded > SafetensorsReader.MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "header would be " + padded + " bytes, over the limit of "
                    + SafetensorsReader.MAX_HEADER_BYTES);
        }
        return out;
    }
}
