package io.lit4j.io;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * One array as a checkpoint stores it: raw little-endian, C-order bytes in host memory, plus its
 * {@link ArrayInfo}. Readers hand these out and writers take them; the conversions below turn the
 * stored element type into what the model computes with. The segment belongs to whoever allocated
 * or mapped it (an arena, a {@link SafetensorsReader}); this record does not own it.
 */
public record HostArray(ArrayInfo info, MemorySegment data) {
    static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Drops a mapped array's pages from the resident set once it has been copied out (re-read from the file if used again). */
    public void releasePages() {
        if (data.isMapped()) {
            data.unload();
        }
    }
    static final ValueLayout.OfLong LE_I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Largest element count a Java array may hold on common JVMs. */
    private static final long MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;

    public HostArray {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(data, "data");
        if (data.byteSize() != info.byteSize()) {
            throw new LitException("array " + info + ": data is " + data.byteSize() + " bytes but needs "
                    + info.byteSize());
        }
    }

    public String key() {
        return info.key();
    }

    public DType dtype() {
        return info.dtype();
    }

    /** A copy of the shape. */
    public long[] shape() {
        return info.shape();
    }

    public long numel() {
        return info.numel();
    }

    /** The elements as fp32 (from F32, F16 or BF16). For arrays that fit in a Java array. */
    public float[] toFloatArray() {
        int n = javaLength("toFloatArray");
        return switch (info.dtype()) {
            case F32 -> data.toArray(LE_F32);
            case F16 -> {
                float[] r = new float[n];
                for (int i = 0; i < n; i++) {
                    r[i] = Float.float16ToFloat(data.getAtIndex(LE_I16, i));
                }
                yield r;
            }
            case BF16 -> {
                float[] r = new float[n];
                for (int i = 0; i < n; i++) {
                    r[i] = bf16(data.getAtIndex(LE_I16, i));
                }
                yield r;
            }
            case I32, I64 -> throw new LitException("array " + info + " holds integers, not floats");
        };
    }

    /** The elements as ints (from I32, or I64 when every value fits in an int). */
    public int[] toIntArray() {
        int n = javaLength("toIntArray");
        return switch (info.dtype()) {
            case I32 -> data.toArray(LE_I32);
            case I64 -> {
                int[] r = new int[n];
                for (int i = 0; i < n; i++) {
                    long v = data.getAtIndex(LE_I64, i);
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new LitException("array " + info + ": element " + i + " = " + v
                                + " does not fit in an int");
                    }
                    r[i] = (int) v;
                }
                yield r;
            }
            case F32, F16, BF16 -> throw new LitException("array " + info + " holds floats, not integers");
        };
    }

    /**
     * Converts the elements (F32, F16 or BF16) to fp32 in native byte order (the order host tensors
     * use) and writes them to the first {@code numel() * 4} bytes of {@code dst}.
     */
    public void copyToF32(MemorySegment dst) {
        long n = info.numel();
        if (dst.byteSize() < n * Float.BYTES) {
            throw new LitException("array " + info + ": destination has " + dst.byteSize() + " bytes, needs "
                    + n * Float.BYTES);
        }
        switch (info.dtype()) {
            case F32 -> MemorySegment.copy(data, LE_F32, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n);
            case F16 -> {
                for (long i = 0; i < n; i++) {
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, Float.float16ToFloat(data.getAtIndex(LE_I16, i)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) {
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, bf16(data.getAtIndex(LE_I16, i)));
                }
            }
            case I32, I64 -> throw new LitException("array " + info + " holds integers; copyToF32 needs a float array");
        }
    }

    /** A new F32 array holding {@code values}, allocated in {@code arena}. */
    public static HostArray ofFloats(String key, long[] shape, float[] values, Arena arena) {
        ArrayInfo info = new ArrayInfo(key, DType.F32, shape);
        checkLength(info, values.length);
        MemorySegment seg = arena.allocate(info.byteSize(), 64);
        MemorySegment.copy(values, 0, seg, LE_F32, 0, values.length);
        return new HostArray(info, seg);
    }

    /** A new I32 array holding {@code values}, allocated in {@code arena}. */
    public static HostArray ofInts(String key, long[] shape, int[] values, Arena arena) {
        ArrayInfo info = new ArrayInfo(key, DType.I32, shape);
        checkLength(info, values.length);
        MemorySegment seg = arena.allocate(info.byteSize(), 64);
        MemorySegment.copy(values, 0, seg, LE_I32, 0, values.length);
        return new HostArray(info, seg);
    }

    private static void checkLength(ArrayInfo info, int length) {
        if (info.numel() != length) {
            throw new LitException("array " + info + " needs " + info.numel() + " values, got " + length);
        }
    }

    private int javaLength(String what) {
        long n = info.numel();
        if (n > MAX_JAVA_ARRAY) {
            throw new LitException("array " + info + " has " + n + " elements, too many for " + what
                    + "; copy it into a tensor instead");
        }
        return (int) n;
    }

    private static float bf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
