package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.backend.cuda.KernelLaunch.Dims;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One GPU as the cuda backend uses it: the device's primary context (made current on each thread
 * that calls in), one non-blocking stream every op is ordered on, the device's default memory
 * pool for stream-ordered allocation (its release threshold raised so freed blocks stay cached
 * instead of going back to the driver after each synchronize), lit4j's kernel module and a
 * cuBLASLt handle. Closing syncs the stream and releases all of it in reverse order.
 */
final class CudaDevice implements AutoCloseable {
    private final int ordinal;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final CudaModule module;
    private final Cublas cublas;
    private final MemorySegment pool;
    private final String name;
    private final long totalMemory;
    private final int[] capability;
    private final int multiprocessors;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private volatile boolean closed;

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        CudaDriver.init();
        int count = CudaDriver.deviceCount();
        if (ordinal >= count) {
            throw new LitException("no CUDA device " + ordinal + " (the driver sees " + count + ")");
        }
        device = CudaDriver.device(ordinal);
        name = CudaDriver.deviceName(device);
        totalMemory = CudaDriver.totalMemory(device);
        capability = CudaDriver.computeCapability(device);
        multiprocessors = CudaDriver.multiprocessors(device);
        context = CudaDriver.retainPrimaryContext(device);
        CudaDriver.setCurrent(context);
        current.set(true);
        MemorySegment s = null;
        CudaModule m = null;
        try {
            s = CudaDriver.createStream();
            pool = CudaDriver.defaultPool(device);
            CudaDriver.setPoolAttribute(pool, CudaDriver.POOL_RELEASE_THRESHOLD, Long.MAX_VALUE);
            m = CudaModule.load();
            cublas = new Cublas(s);
        } catch (RuntimeException e) {
            if (m != null) {
                m.close();
            }
            if (s != null) {
                CudaDriver.destroyStream(s);
            }
            CudaDriver.releasePrimaryContext(device);
            throw e;
        }
        stream = s;
        module = m;
    }

    /** Opens device {@code ordinal}: loads the libraries, the context, stream, kernels and cuBLASLt. */
    static CudaDevice open(int ordinal) {
        CudaLibrary.load();
        return new CudaDevice(ordinal);
    }

    /** Makes this device's context current on the calling thread (once per thread). */
    void makeCurrent() {
        if (closed) {
            throw new LitException("the cuda backend is closed");
        }
        if (!current.get()) {
            CudaDriver.setCurrent(context);
            current.set(true);
        }
    }

    MemorySegment stream() {
        return stream;
    }

    Cublas cublas() {
        return cublas;
    }

    long allocate(long bytes) {
        return CudaDriver.allocAsync(bytes, stream);
    }

    void free(long ptr) {
        CudaDriver.freeAsync(ptr, stream);
    }

    /** Bytes the pool has handed out and not had back. */
    long poolBytesInUse() {
        return CudaDriver.poolAttribute(pool, CudaDriver.POOL_USED_MEM_CURRENT);
    }

    /** Enqueues {@code k} on the stream; nothing when {@code dims} is null (an empty tensor). */
    void launch(Kernel k, Dims dims, Object... args) {
        if (dims == null) {
            return;
        }
        MemorySegment f = module.function(k);
        try (Arena a = Arena.ofConfined()) {
            CudaDriver.launch(f, k.symbol(), dims, stream, k.arguments(a, args));
        }
    }

    /** Waits for everything enqueued so far. */
    void synchronize() {
        CudaDriver.synchronize(stream);
    }

    String label() {
        return "cuda:" + ordinal;
    }

    String name() {
        return name;
    }

    long totalMemory() {
        return totalMemory;
    }

    int[] capability() {
        return capability.clone();
    }

    int multiprocessors() {
        return multiprocessors;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        makeCurrent();
        closed = true;
        CudaDriver.synchronize(stream);
        cublas.close();
        CudaDriver.synchronize(stream);
        module.close();
        CudaDriver.destroyStream(stream);
        CudaDriver.releasePrimaryContext(device);
    }
}
