package io.lit4j.tensor;

/**
 * Allocates tensors on one backend and frees them all at once on {@link #close()}. Scope one to a
 * model (its parameters) or to a request (its activations); never keep one open for the JVM's life.
 */
public interface TensorArena extends AutoCloseable {
    /** A zero-filled tensor, 64-byte aligned. */
    Tensor allocate(DType dtype, int... shape);

    /** Frees every tensor this arena allocated. Using them afterwards is an error. */
    @Override
    void close();
}
