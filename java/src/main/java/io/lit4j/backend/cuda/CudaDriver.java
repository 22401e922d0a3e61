package io.lit4j.backend.cuda;

import io.lit4j.bindings.cuda.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API calls lit4j makes, each checked: a non-zero {@code CUresult} becomes a
 * {@link CudaException} naming the call, the status and the op being run. With {@link Cublas}
 * and {@link Cudnn} the only classes that touch generated CUDA bindings.
 *
 * <p>Stream-ordered allocation ({@code cuMemAllocAsync}, {@code cuMemFreeAsync}) and the
 * device's default memory pool are not in the generated set ({@code bindings/symbols/cuda.symbols}
 * was filtered before this backend existed, and jextract cannot run on these machines to add
 * them), so their four downcalls are declared here by hand, with the signatures of CUDA 13's
 * {@code cuda.h}: {@code cuMemAllocAsync(CUdeviceptr*, size_t, CUstream)},
 * {@code cuMemFreeAsync(CUdeviceptr, CUstream)}, {@code cuDeviceGetDefaultMemPool(CUmemoryPool*, CUdevice)},
 * {@code cuMemPoolSetAttribute/GetAttribute(CUmemoryPool, CUmemPool_attribute, void*)}.
 */
final class CudaDriver {
    /** {@code CU_MEMPOOL_ATTR_RELEASE_THRESHOLD} and {@code CU_MEMPOOL_ATTR_USED_MEM_CURRENT} in cuda.h's enum. */
    static final int POOL_RELEASE_THRESHOLD = 4;
    static final int POOL_USED_MEM_CURRENT = 7;

    private CudaDriver() {
    }

    // ---------------------------------------------------------------- status

    static void check(int status, String call) {
        if (status != 0) {
            throw new CudaException(call, status, describe(status), OpContext.current());
        }
    }

    /** "CUDA_ERROR_OUT_OF_MEMORY: out of memory", from the driver's own tables. */
    static String describe(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(ValueLayout.ADDRESS);
            MemorySegment text = a.allocate(ValueLayout.ADDRESS);
            String n = cuda_h.cuGetErrorName(status, name) == 0 ? cString(name) : "CUDA error";
            String t = cuda_h.cuGetErrorString(status, text) == 0 ? cString(text) : "";
            return t.isEmpty() ? n : n + ": " + t;
        }
    }

    private static String cString(MemorySegment pointerToPointer) {
        MemorySegment p = pointerToPointer.get(ValueLayout.ADDRESS, 0);
        return p.equals(MemorySegment.NULL) ? "" : p.reinterpret(4096).getString(0);
    }

    // ---------------------------------------------------------------- devices

    static void init() {
        check(cuda_h.cuInit(0), "cuInit");
    }

    static int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDeviceGetCount(n), "cuDeviceGetCount");
            return n.get(ValueLayout.JAVA_INT, 0);
        }
    }

    static int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDeviceGet(d, ordinal), "cuDeviceGet");
            return d.get(ValueLayout.JAVA_INT, 0);
        }
    }

    static String deviceName(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check(cuda_h.cuDeviceGetName(buf, 256, dev), "cuDeviceGetName");
            return buf.getString(0);
        }
    }

    static long totalMemory(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment b = a.allocate(ValueLayout.JAVA_LONG);
            check(cuda_h.cuDeviceTotalMem_v2(b, dev), "cuDeviceTotalMem");
            return b.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    static int attribute(int attr, int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDeviceGetAttribute(v, attr, dev), "cuDeviceGetAttribute");
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    static int multiprocessors(int dev) {
        return attribute(cuda_h.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT(), dev);
    }

    static int[] computeCapability(int dev) {
        return new int[] {attribute(cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR(), dev),
                attribute(cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR(), dev)};
    }

    /** The driver's CUDA version as 1000 * major + 10 * minor (13000 for 13.0). */
    static int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDriverGetVersion(v), "cuDriverGetVersion");
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Free and total device memory of the current context, in bytes. */
    static long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment t = a.allocate(ValueLayout.JAVA_LONG);
            check(cuda_h.cuMemGetInfo_v2(f, t), "cuMemGetInfo");
            return new long[] {f.get(ValueLayout.JAVA_LONG, 0), t.get(ValueLayout.JAVA_LONG, 0)};
        }
    }

    // ---------------------------------------------------------------- contexts and streams

    static MemorySegment retainPrimaryContext(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            check(cuda_h.cuDevicePrimaryCtxRetain(p, dev), "cuDevicePrimaryCtxRetain");
            return p.get(ValueLayout.ADDRESS, 0);
        }
    }

    static void releasePrimaryContext(int dev) {
        check(cuda_h.cuDevicePrimaryCtxRelease_v2(dev), "cuDevicePrimaryCtxRelease");
    }

    static void setCurrent(MemorySegment ctx) {
        check(cuda_h.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    }

    static MemorySegment createStream() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            check(cuda_h.cuStreamCreate(p, cuda_h.CU_STREAM_NON_BLOCKING()), "cuStreamCreate");
            return p.get(ValueLayout.ADDRESS, 0);
        }
    }

    static void destroyStream(MemorySegment stream) {
        check(cuda_h.cuStreamDestroy_v2(stream), "cuStreamDestroy");
    }

    static void synchronize(MemorySegment stream) {
        check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    // ---------------------------------------------------------------- stream-ordered memory (hand-declared downcalls)

    private static final class Async {
        static final Linker LINKER = Linker.nativeLinker();
        static final SymbolLookup LOOKUP = SymbolLookup.loaderLookup();
        static final MethodHandle ALLOC = LINKER.downcallHandle(LOOKUP.findOrThrow("cuMemAllocAsync"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        static final MethodHandle FREE = LINKER.downcallHandle(LOOKUP.findOrThrow("cuMemFreeAsync"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        static final MethodHandle DEFAULT_POOL = LINKER.downcallHandle(LOOKUP.findOrThrow("cuDeviceGetDefaultMemPool"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        static final MethodHandle POOL_SET = LINKER.downcallHandle(LOOKUP.findOrThrow("cuMemPoolSetAttribute"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        static final MethodHandle POOL_GET = LINKER.downcallHandle(LOOKUP.findOrThrow("cuMemPoolGetAttribute"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    }

    private static int invoke(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code bytes} of device memory from the device's default pool, ordered on {@code stream}. */
    static long allocAsync(long bytes, MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.JAVA_LONG);
            check(invoke(Async.ALLOC, p, Math.max(bytes, 1), stream), "cuMemAllocAsync(" + bytes + " bytes)");
            return p.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    static void freeAsync(long ptr, MemorySegment stream) {
        check(invoke(Async.FREE, ptr, stream), "cuMemFreeAsync");
    }

    static MemorySegment defaultPool(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            check(invoke(Async.DEFAULT_POOL, p, dev), "cuDeviceGetDefaultMemPool");
            return p.get(ValueLayout.ADDRESS, 0);
        }
    }

    static void setPoolAttribute(MemorySegment pool, int attr, long value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            v.set(ValueLayout.JAVA_LONG, 0, value);
            check(invoke(Async.POOL_SET, pool, attr, v), "cuMemPoolSetAttribute");
        }
    }

    static long poolAttribute(MemorySegment pool, int attr) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            check(invoke(Async.POOL_GET, pool, attr, v), "cuMemPoolGetAttribute");
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    // ---------------------------------------------------------------- copies

    static void copyToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(cuda_h.cuMemcpyHtoDAsync_v2(dst, src, bytes, stream), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
    }

    static void copyToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        check(cuda_h.cuMemcpyDtoHAsync_v2(dst, src, bytes, stream), "cuMemcpyDtoHAsync(" + bytes + " bytes)");
    }

    static void copyOnDevice(long dst, long src, long bytes, MemorySegment stream) {
        check(cuda_h.cuMemcpyDtoDAsync_v2(dst, src, bytes, stream), "cuMemcpyDtoDAsync(" + bytes + " bytes)");
    }

    static void fill(long dst, byte value, long bytes, MemorySegment stream) {
        check(cuda_h.cuMemsetD8Async(dst, value, bytes, stream), "cuMemsetD8Async(" + bytes + " bytes)");
    }

    static void fill32(long dst, int value, long count, MemorySegment stream) {
        check(cuda_h.cuMemsetD32Async(dst, value, count, stream), "cuMemsetD32Async(" + count + " words)");
    }

    // ---------------------------------------------------------------- modules and launches

    /** Loads a fatbin/cubin/PTX image already in native memory. */
    static MemorySegment loadModule(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            check(cuda_h.cuModuleLoadData(p, image), "cuModuleLoadData");
            return p.get(ValueLayout.ADDRESS, 0);
        }
    }

    static void unloadModule(MemorySegment module) {
        check(cuda_h.cuModuleUnload(module), "cuModuleUnload");
    }

    static MemorySegment function(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            check(cuda_h.cuModuleGetFunction(p, module, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
            return p.get(ValueLayout.ADDRESS, 0);
        }
    }

    /** {@code params}: an array of pointers, one to each argument's value (cuLaunchKernel's kernelParams). */
    static void launch(MemorySegment function, String name, KernelLaunch.Dims dims, MemorySegment stream, MemorySegment params) {
        check(cuda_h.cuLaunchKernel(function, dims.gridX(), 1, 1, dims.block(), 1, 1, 0, stream, params, MemorySegment.NULL),
                "cuLaunchKernel(" + name + " " + dims + ")");
    }
}
