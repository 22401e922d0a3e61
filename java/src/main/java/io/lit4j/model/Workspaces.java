package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Shapes;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Reusable activation memory for inference calls. A forward pass of ViT-B/16 at batch 32 needs
 * ~300 MB of activations; a fresh zero-filled arena per call spent a quarter of the call's time
 * zeroing and faulting in pages. Each call instead borrows a {@link Workspace} (one per concurrent
 * caller), whose memory is kept from call to call; closing the workspace hands it back.
 *
 * <p>Unlike {@link TensorArena}'s contract, a workspace's tensors are <b>not</b> zero-filled: they
 * hold whatever the previous call left. Every inference op writes its whole output, so this is
 * safe for forward passes; tests run calls of different shapes back to back to hold it so.
 */
final class Workspaces implements AutoCloseable {
    private static final long ALIGN = 64;

    private final Backend backend;
    private final ConcurrentLinkedDeque<Workspace> idle = new ConcurrentLinkedDeque<>();
    private final List<Workspace> all = new ArrayList<>();
    private boolean closed;

    Workspaces(Backend backend) {
        this.backend = backend;
    }

    /** A workspace for one call; close it to hand it back. */
    Workspace take() {
        Workspace w = idle.pollFirst();
        if (w != null) {
            return w;
        }
        synchronized (all) {
            if (closed) {
                throw new LitException("the model is closed");
            }
            w = new Workspace();
            all.add(w);
            return w;
        }
    }

    /** Frees every workspace's memory. Calls still running must have finished. */
    @Override
    public void close() {
        synchronized (all) {
            closed = true;
            all.forEach(Workspace::free);
            all.clear();
            idle.clear();
        }
    }

    /**
     * One caller's activations: tensors are carved from one slab, front to back. A call that
     * needs more than the slab holds gets the rest from overflow arenas; when it hands the
     * workspace back, the slab is regrown to what the call used, so the next call allocates nothing.
     */
    final class Workspace implements TensorArena {
        private TensorArena slabArena;
        private Tensor slab;              // capacity in bytes = slab.byteSize()
        private long used;                // bytes handed out of the slab in this call
        private long wanted;              // bytes this call asked for in all
        private final List<TensorArena> overflow = new ArrayList<>();

        @Override
        public Tensor allocate(DType dtype, int... shape) {
            long bytes = Math.max(Math.multiplyExact(Shapes.numel(shape), (long) dtype.byteSize()), 1);
            long padded = (bytes + ALIGN - 1) / ALIGN * ALIGN;
            wanted += padded;
            if (slab != null && used + padded <= slab.byteSize()) {
                Tensor t = slab.sub(used, dtype, shape);
                used += padded;
                return t;
            }
            TensorArena extra = backend.newArena();
            overflow.add(extra);
            return extra.allocate(dtype, shape);
        }

        /** Hands the workspace back: regrows the slab if this call overflowed it. */
        @Override
        public void close() {
            if (!overflow.isEmpty()) {
                overflow.forEach(TensorArena::close);
                overflow.clear();
                if (slabArena != null) {
                    slabArena.close();
                }
                slabArena = backend.newArena();
                slab = slabArena.allocate(DType.F32, Math.toIntExact(wanted / 4)); // wanted is a multiple of 64
            }
            used = 0;
            wanted = 0;
            synchronized (all) {
                if (closed) {
                    free();
                    return;
                }
            }
            idle.offerFirst(this);
        }

        private void free() {
            overflow.forEach(TensorArena::close);
            overflow.clear();
            if (slabArena != null) {
                slabArena.close();
                slabArena = null;
                slab = null;
            }
        }
    }
}
