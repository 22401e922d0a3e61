package io.lit4j.backend.cuda;

import io.lit4j.LitException;

/**
 * A CUDA, cuBLASLt or cuDNN call that returned an error status: names the call, the status (its
 * name and the library's own words) and the op being run with its shapes, when there is one.
 */
public final class CudaException extends LitException {
    private final String call;
    private final int status;

    public CudaException(String call, int status, String statusText, String op) {
        super(call + " failed: " + statusText + " (status " + status + ")" + (op == null ? "" : " in " + op));
        this.call = call;
        this.status = status;
    }

    /** The library call that failed ("cuLaunchKernel", "cublasLtMatmul"). */
    public String call() {
        return call;
    }

    /** The library's raw status code. */
    public int status() {
        return status;
    }
}
