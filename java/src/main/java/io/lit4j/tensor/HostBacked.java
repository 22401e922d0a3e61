package io.lit4j.tensor;

import java.lang.foreign.MemorySegment;

/** Storage whose bytes are host memory the CPU backends can address directly. */
public interface HostBacked extends Storage {
    MemorySegment segment();
}
