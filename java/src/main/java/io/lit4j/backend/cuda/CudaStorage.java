package io.lit4j.backend.cuda;

import io.lit4j.tensor.Storage;

/** Device memory behind tensors of the cuda backend: a device address and a size. Host code never reads it directly. */
record CudaStorage(long address, long byteSize, String device) implements Storage {
}
