package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.ArrayList;
import java.util.List;

/**
 * Device tensors from the device's memory pool, stream-ordered ({@code cuMemAllocAsync}, zeroed
 * on the stream), all freed on {@link #close()} the same way. A request the device cannot hold
 * fails as a {@link CudaException} naming the size (CUDA_ERROR_OUT_OF_MEMORY); nothing is left
 * half-allocated.
 */
final class CudaArena implements TensorArena {
    private final CudaDevice device;
    private final List<Long> blocks = new ArrayList<>();
    private boolean closed;

    CudaArena(CudaDevice device) {
        this.device = device;
    }

    @Override
    public synchronized Tensor allocate(DType dtype, int... shape) {
        if (closed) {
            throw new LitException("allocate " + dtype + Shapes.str(shape) + ": this cuda arena is closed");
        }
        long bytes = Math.multiplyExact(Shapes.numel(shape), (long) dtype.byteSize());
        long padded = (Math.max(bytes, 1) + 255) & ~255L; // 256-byte multiples keep every tensor cuBLASLt-aligned
        device.makeCurrent();
        long ptr = device.allocate(padded);
        blocks.add(ptr);
        CudaDriver.fill(ptr, (byte) 0, padded, device.stream());
        return Tensor.of(new CudaStorage(ptr, padded, device.label()), 0, dtype, shape);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        for (long p : blocks) {
            device.free(p);
        }
        blocks.clear();
    }
}
