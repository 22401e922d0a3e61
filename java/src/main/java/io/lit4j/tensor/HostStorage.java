package io.lit4j.tensor;

import java.lang.foreign.MemorySegment;

/** Storage in host memory: one {@link MemorySegment}, owned by the arena that allocated it. */
public record HostStorage(MemorySegment segment) implements HostBacked {
    @Override
    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    public String device() {
        return "host";
    }
}
