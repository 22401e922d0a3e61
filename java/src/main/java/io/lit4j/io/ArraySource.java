package io.lit4j.io;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * Named arrays from one checkpoint file, whatever its format: the loaders map these onto a
 * model's parameters. Arrays are read one at a time, so a large file never sits on the heap whole.
 */
public interface ArraySource extends AutoCloseable {
    /** The file, for messages. */
    Path file();

    /** Every key in the file. */
    List<String> keys();

    boolean contains(String key);

    /** dtype and shape, read from the header only. */
    ArrayInfo info(String key);

    /** The array converted to fp32 (for F32, F16 and BF16 arrays). */
    float[] readFloats(String key);

    /**
     * The array's bytes in place (a slice of a mapped file), when the format allows it; null
     * otherwise. Lets loaders copy a large array straight into a tensor, never onto the heap.
     */
    default HostArray readInPlace(String key) {
        return null;
    }

    @Override
    void close();

    static ArraySource of(NpzReader npz, Path file) {
        return new ArraySource() {
            @Override
            public Path file() {
                return file;
            }

            @Override
            public List<String> keys() {
                return npz.keys();
            }

            @Override
            public boolean contains(String key) {
                return npz.keys().contains(key);
            }

            @Override
            public ArrayInfo info(String key) {
                return npz.info(key);
            }

            @Override
            public float[] readFloats(String key) {
                try (Arena a = Arena.ofConfined()) {
                    return npz.read(key, a).toFloatArray();
                }
            }

            @Override
            public void close() {
                npz.close();
            }
        };
    }

    static ArraySource of(SafetensorsReader st) {
        return new ArraySource() {
            @Override
            public Path file() {
                return st.file();
            }

            @Override
            public List<String> keys() {
                return st.keys();
            }

            @Override
            public boolean contains(String key) {
                return st.contains(key);
            }

            @Override
            public ArrayInfo info(String key) {
                return st.info(key);
            }

            @Override
            public HostArray readInPlace(String key) {
                return st.read(key);
            }

            @Override
            public float[] readFloats(String key) {
                HostArray a = st.read(key);
                float[] values = a.toFloatArray();
                a.releasePages(); // a loaded model is not held twice
                return values;
            }

            @Override
            public void close() {
                st.close();
            }
        };
    }

    /** Opens {@code .npz} or {@code .safetensors} by its extension. */
    static ArraySource open(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".npz")) {
            return of(NpzReader.open(file), file);
        }
        if (name.endsWith(".safetensors")) {
            return of(SafetensorsReader.open(file));
        }
        throw new CheckpointException(file, "unknown checkpoint extension (lit4j reads .npz and .safetensors)");
    }
}
