package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import io.lit4j.backend.OpProfile;
import io.lit4j.backend.onednn.Dnnl.Engine;
import io.lit4j.backend.onednn.Dnnl.MemoryDesc;
import io.lit4j.backend.onednn.Dnnl.Primitive;
import io.lit4j.backend.onednn.Dnnl.Stream;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.HostBacked;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the oneDNN backend runs on, apart from its ops: the CPU engine, one stream per calling
 * thread (streams are not thread-safe), each thread's scratchpad and conversion buffers, the
 * OpenMP team size, and the caches of primitives (one per op shape) and of blocked weight layouts.
 * Executing a primitive passes the calling thread's own scratchpad, which makes concurrent use of
 * one primitive safe (oneDNN's library-managed scratchpad is shared by every execution).
 */
final class DnnlRuntime implements AutoCloseable {
    /** Per-thread buffers: bf16 copies of matmul operands and fp32 staging; see {@link #buffer}. */
    static final int SLOTS = 4;

    private final Engine engine;
    private final int threads;
    private final Omp omp;
    private final Supplier<TensorArena> arenas;
    private final Map<Object, Primitive> primitives = new ConcurrentHashMap<>();
    private final Map<String, MemoryDesc> layouts = new ConcurrentHashMap<>();
    private final List<Stream> streams = new ArrayList<>();
    private final List<TensorArena> threadArenas = new ArrayList<>();
    private final ThreadLocal<Stream> stream;
    private final ThreadLocal<MemorySegment[]> scratchpad = ThreadLocal.withInitial(() -> new MemorySegment[1]);
    private final ThreadLocal<Tensor[]> buffers = ThreadLocal.withInitial(() -> new Tensor[SLOTS]);
    private volatile boolean closed;

    /** {@code arenas} makes the host memory this runtime keeps per thread (the backend's own arenas). */
    DnnlRuntime(int threads, Supplier<TensorArena> arenas) {
        DnnlLibrary.load();
        this.engine = new Engine();
        this.threads = threads;
        this.omp = new Omp(threads);
        this.arenas = arenas;
        this.stream = ThreadLocal.withInitial(() -> {
            Stream s = new Stream(engine);
            synchronized (streams) {
                streams.add(s);
            }
            return s;
        });
    }

    Engine engine() {
        return engine;
    }

    /** The OpenMP team size oneDNN uses on the calling thread. */
    int ompThreads() {
        return omp.maxThreads();
    }

    /** Runs the calling thread's next primitives on a team of {@code n} threads (see {@link Omp#useOnCurrentThread}). */
    void useThreads(int n) {
        omp.useOnCurrentThread(n);
    }

    /** A primitive's cache key on a thread whose team is not the full one: primitives split their work for the team they were made on. */
    private record TeamKey(Object key, int team) {
    }

    /** Ends the calling thread's OpenMP team (see {@link Omp#releaseCurrentThread}); its next primitive starts another. */
    void releaseThread() {
        omp.releaseCurrentThread();
    }

    /**
     * The cached primitive for {@code key} at the calling thread's team size, created by {@code make}
     * on first use (on this thread, so oneDNN splits its work for this team; {@link #run} it here).
     */
    Primitive primitive(Object key, Function<Engine, Primitive> make) {
        if (closed) {
            throw new LitException("oneDNN backend is closed");
        }
        int team = omp.configureCurrentThread();
        Object k = team == threads ? key : new TeamKey(key, team);
        Primitive p = primitives.get(k);
        return p != null ? p : primitives.computeIfAbsent(k, x -> make.apply(engine));
    }

    /** The cached weight layout named {@code key} (kept until the backend closes), created by {@code make} once. */
    MemoryDesc layout(String key, Function<Engine, MemoryDesc> make) {
        return layouts.computeIfAbsent(key, k -> make.apply(engine));
    }

    /** The weight layout {@link #layout(String, Function)} made under {@code key}. */
    MemoryDesc layout(String key) {
        MemoryDesc md = layouts.get(key);
        if (md == null) {
            throw new LitException("oneDNN backend: no weight layout '" + key + "' (weights packed by another backend?)");
        }
        return md;
    }

    /** Runs {@code p} on the calling thread's stream with its own scratchpad; {@code buffers} in the primitive's order. */
    void run(Primitive p, MemorySegment... buffers) {
        omp.configureCurrentThread();
        MemorySegment scratch = scratchpad(p.scratchpadBytes());
        if (OpProfile.enabled()) {
            long t0 = System.nanoTime();
            p.execute(stream.get(), scratch, buffers);
            OpProfile.record(p.kind, System.nanoTime() - t0);
        } else {
            p.execute(stream.get(), scratch, buffers);
        }
    }

    /** The calling thread's scratchpad, at least {@code bytes} long (null when none is needed). */
    private MemorySegment scratchpad(long bytes) {
        if (bytes == 0) {
            return null;
        }
        MemorySegment[] slot = scratchpad.get();
        if (slot[0] == null || slot[0].byteSize() < bytes) {
            long size = Math.max(bytes, 1L << 20);
            slot[0] = segment(threadArena().allocate(DType.F32, Math.toIntExact((size + 3) / 4)));
        }
        return slot[0];
    }

    /**
     * The calling thread's buffer {@code slot} viewed as {@code dtype[shape]}, grown when too small.
     * Its contents are whatever the last use left; it stays valid until the same thread asks for the
     * same slot again.
     */
    Tensor buffer(int slot, DType dtype, int[] shape) {
        Tensor[] slots = buffers.get();
        long bytes = dtype.byteSize();
        for (int d : shape) {
            bytes *= d;
        }
        if (slots[slot] == null || slots[slot].byteSize() < bytes) {
            slots[slot] = threadArena().allocate(DType.F32, Math.toIntExact(Math.max((bytes + 3) / 4, 1L << 15)));
        }
        return slots[slot].sub(0, dtype, shape);
    }

    private TensorArena threadArena() {
        TensorArena a = arenas.get();
        synchronized (threadArenas) {
            threadArenas.add(a);
        }
        return a;
    }

    private static MemorySegment segment(Tensor t) {
        return ((HostBacked) t.storage()).segment().asSlice(t.byteOffset(), t.byteSize());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        primitives.values().forEach(Primitive::close);
        primitives.clear();
        layouts.values().forEach(MemoryDesc::close);
        layouts.clear();
        synchronized (streams) {
            streams.forEach(Stream::close);
            streams.clear();
        }
        synchronized (threadArenas) {
            threadArenas.forEach(TensorArena::close);
            threadArenas.clear();
        }
        engine.close();
    }
}
