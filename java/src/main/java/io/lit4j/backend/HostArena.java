package io.lit4j.backend;

import io.lit4j.tensor.DType;
import io.lit4j.tensor.HostStorage;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.Arena;

/** Host memory for the CPU backends: one shared {@link Arena}, freed on close. */
final class HostArena implements TensorArena {
    private final Arena arena = Arena.ofShared();

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        long bytes = Math.multiplyExact(Shapes.numel(shape), (long) dtype.byteSize());
        // Arena.allocate zero-fills; 64-byte alignment suits AVX-512 loads and oneDNN.
        return Tensor.of(new HostStorage(arena.allocate(Math.max(bytes, 1), 64)), 0, dtype, shape);
    }

    @Override
    public void close() {
        arena.close();
    }
}
