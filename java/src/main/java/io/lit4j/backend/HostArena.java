package io.lit4j.backend;

import io.lit4j.tensor.DType;
import io.lit4j.tensor.HostStorage;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicLong;

/** Host memory for the CPU backends: one shared {@link Arena}, freed on close. */
final class HostArena implements TensorArena {
    private final Arena arena = Arena.ofShared();
    private final AtomicLong bytes = new AtomicLong();

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        long n = Math.max(Math.multiplyExact(Shapes.numel(shape), (long) dtype.byteSize()), 1);
        // Arena.allocate zero-fills; 64-byte alignment suits AVX-512 loads and oneDNN.
        Tensor t = Tensor.of(new HostStorage(arena.allocate(n, 64)), 0, dtype, shape);
        bytes.addAndGet(n);
        HostMemory.allocated(n);
        return t;
    }

    @Override
    public void close() {
        arena.close();
        HostMemory.freed(bytes.getAndSet(0));
    }
}
