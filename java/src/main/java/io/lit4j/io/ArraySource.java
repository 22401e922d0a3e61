package io.lit4j.io;

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

    /** Opens {@code .npz}, {@code .safetensors} or {@code .onnx} (its initializers) by its extension. */
    static ArraySource open(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".npz")) {
            return NpzReader.open(file);
        }
        if (name.endsWith(".safetensors")) {
            return SafetensorsReader.open(file);
        }
        if (name.endsWith(".onnx")) {
            return OnnxFile.open(file);
        }
        throw new CheckpointException(file, "unknown checkpoint extension (lit4j reads .npz, .safetensors and .onnx)");
    }
}
