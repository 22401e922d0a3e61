package io.lit4j.tensor;

/**
 * The memory behind one or more tensors. It belongs to a backend: host backends hand out
 * {@link HostStorage}, a GPU backend its own device storage. Code above the backend never
 * reads storage directly; it asks the backend to copy to or from the host.
 */
public interface Storage {
    /** Size in bytes. */
    long byteSize();

    /** Where the bytes live, for messages: "host", "cuda:0". */
    String device();
}
