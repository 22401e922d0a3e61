package io.lit4j.backend.cuda;

import io.lit4j.LitException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.Map;

/**
 * lit4j's kernels on the device: the fatbin that {@code native/build-kernels.sh} put in the jar,
 * loaded with {@code cuModuleLoadData} (the driver picks the sm_80/sm_90 code or JIT-compiles
 * the compute_80 PTX), functions looked up once per {@link Kernel}.
 */
final class CudaModule implements AutoCloseable {
    /** Where the build puts the fatbin inside the jar. */
    static final String RESOURCE = "/io/lit4j/backend/cuda/lit4j_kernels.fatbin";

    private final MemorySegment module;
    private final Map<Kernel, MemorySegment> functions = new EnumMap<>(Kernel.class);

    private CudaModule(MemorySegment module) {
        this.module = module;
    }

    /** True when this build carries the kernels (nvcc was found when it was built). */
    static boolean inThisBuild() {
        return CudaModule.class.getResource(RESOURCE) != null;
    }

    /** Reads the fatbin from the class path and loads it into the current context. */
    static CudaModule load() {
        byte[] image;
        try (InputStream in = CudaModule.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new LitException("no kernels in this build: " + RESOURCE.substring(1)
                        + " is not in the jar (nvcc was not found when lit4j was built; see native/README.md)");
            }
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new LitException("cannot read the CUDA kernels " + RESOURCE + ": " + e.getMessage(), e);
        }
        Arena a = Arena.ofConfined();
        try {
            MemorySegment native_ = a.allocate(image.length + 1L, 16); // the driver reads a fatbin by its header; PTX needs a NUL
            MemorySegment.copy(image, 0, native_, ValueLayout.JAVA_BYTE, 0, image.length);
            return new CudaModule(CudaDriver.loadModule(native_));
        } finally {
            a.close(); // cuModuleLoadData copies the image
        }
    }

    synchronized MemorySegment function(Kernel k) {
        return functions.computeIfAbsent(k, kk -> CudaDriver.function(module, kk.symbol()));
    }

    @Override
    public void close() {
        CudaDriver.unloadModule(module);
    }
}
