package io.lit4j.backend.onednn;

import io.lit4j.LitException;

/** A oneDNN call failed: the status, the call, and the op and shapes lit4j asked for. */
public final class DnnlException extends LitException {
    private final DnnlStatus status;

    public DnnlException(DnnlStatus status, String call, String context) {
        super("oneDNN " + call + " failed with " + status + (context.isEmpty() ? "" : " (" + context + ")"));
        this.status = status;
    }

    public DnnlStatus status() {
        return status;
    }
}
