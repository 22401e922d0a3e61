package io.lit4j.io;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a checkpoint says about one stored array: its key, element type and shape (C order).
 * Construction checks that every dimension is non-negative and that the byte size fits in a long,
 * so {@link #numel()} and {@link #byteSize()} never overflow. The shape is copied in and out.
 */
public record ArrayInfo(String key, DType dtype, long[] shape) {
    public ArrayInfo {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new LitException("array '" + key + "': negative dimension in shape " + Arrays.toString(shape));
            }
            n = multiply(key, shape, n, d);
        }
        multiply(key, shape, n, dtype.byteSize());
    }

    private static long multiply(String key, long[] shape, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new LitException("array '" + key + "': shape " + Arrays.toString(shape)
                    + " has more bytes than fit in a long");
        }
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Dimension {@code i} of the shape. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Bytes the data occupies: {@code numel() * dtype().byteSize()}. */
    public long byteSize() {
        return numel() * dtype.byteSize();
    }

    /** The shape as ints, for tensors; throws when a dimension exceeds {@code Integer.MAX_VALUE}. */
    public int[] intShape() {
        int[] r = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) {
                throw new LitException("array '" + key + "': dimension " + i + " of shape " + shapeString()
                        + " is larger than " + Integer.MAX_VALUE);
            }
            r[i] = (int) shape[i];
        }
        return r;
    }

    /** The shape written like {@code [3, 4]} ({@code []} for a scalar). */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    /** A copy with another key. */
    public ArrayInfo withKey(String newKey) {
        return new ArrayInfo(newKey, dtype, shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ArrayInfo other && key.equals(other.key) && dtype == other.dtype
                && Arrays.equals(shape, other.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return "'" + key + "' " + dtype + " " + shapeString();
    }
}
