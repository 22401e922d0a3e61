package io.lit4j.tensor;

import io.lit4j.LitException;

import java.util.Arrays;

/**
 * A dense, row-major (C order) array: a dtype, a shape and a byte range of some backend's
 * {@link Storage}. Tensors are cheap views; they own nothing. Their memory is freed when the
 * {@link TensorArena} that made the storage is closed. Views ({@link #view}, {@link #slice},
 * {@link #sub}) share the storage.
 */
public final class Tensor {
    private final Storage storage;
    private final long byteOffset;
    private final DType dtype;
    private final int[] shape;
    private final long numel;

    private Tensor(Storage storage, long byteOffset, DType dtype, int[] shape) {
        this.storage = storage;
        this.byteOffset = byteOffset;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.numel = Shapes.numel(shape);
        if (byteOffset < 0 || byteOffset + numel * dtype.byteSize() > storage.byteSize()) {
            throw new LitException("tensor " + dtype + Shapes.str(shape) + " at byte " + byteOffset
                    + " does not fit its storage of " + storage.byteSize() + " bytes");
        }
    }

    /** A tensor over {@code storage} starting at {@code byteOffset}. */
    public static Tensor of(Storage storage, long byteOffset, DType dtype, int... shape) {
        return new Tensor(storage, byteOffset, dtype, shape);
    }

    public Storage storage() {
        return storage;
    }

    public long byteOffset() {
        return byteOffset;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long numel() {
        return numel;
    }

    public long byteSize() {
        return numel * dtype.byteSize();
    }

    /** Product of all dimensions but the last: the number of rows of a row-wise op. */
    public int rows() {
        return Math.toIntExact(shape.length == 0 ? 1 : numel / shape[shape.length - 1]);
    }

    /** The same elements with another shape of equal size. */
    public Tensor view(int... newShape) {
        if (Shapes.numel(newShape) != numel) {
            throw new LitException("cannot view " + this + " as " + Shapes.str(newShape));
        }
        return new Tensor(storage, byteOffset, dtype, newShape);
    }

    /** Rows {@code [from, to)} of dimension 0. */
    public Tensor slice(int from, int to) {
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
            throw new LitException("slice [" + from + ", " + to + ") out of range for " + this);
        }
        int[] s = shape.clone();
        s[0] = to - from;
        long rowBytes = numel == 0 ? 0 : (numel / shape[0]) * dtype.byteSize();
        return new Tensor(storage, byteOffset + from * rowBytes, dtype, s);
    }

    /** A tensor of another dtype/shape over this one's storage, {@code byteOffset} bytes in. */
    public Tensor sub(long relativeByteOffset, DType type, int... subShape) {
        return new Tensor(storage, byteOffset + relativeByteOffset, type, subShape);
    }

    /** True when both have the same dtype and shape. */
    public boolean sameLayout(Tensor other) {
        return dtype == other.dtype && Arrays.equals(shape, other.shape);
    }

    @Override
    public String toString() {
        return dtype + Shapes.str(shape);
    }
}
