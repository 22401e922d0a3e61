package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import io.lit4j.bindings.dnnl.dnnl_exec_arg_t;
import io.lit4j.bindings.dnnl.dnnl_h;
import io.lit4j.bindings.dnnl.dnnl_version_t;
import io.lit4j.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * The one place that calls the generated {@code dnnl_h}: every call's status is checked and
 * turned into a {@link DnnlException} that names the call and the op/shapes; every handle is
 * owned by an {@link AutoCloseable} wrapper.
 */
final class Dnnl {
    private Dnnl() {
    }

    static void check(int status, String call, String context) {
        if (status != dnnl_h.dnnl_success()) {
            throw new DnnlException(DnnlStatus.of(status), call, context);
        }
    }

    static int dataType(DType t) {
        return switch (t) {
            case F32 -> dnnl_h.dnnl_f32();
            case BF16 -> dnnl_h.dnnl_bf16();
            case F16 -> dnnl_h.dnnl_f16();
            case I32 -> dnnl_h.dnnl_s32();
            default -> throw new LitException("oneDNN has no data type for " + t);
        };
    }

    /** "3.13.0", with the commit when the build recorded one. */
    static String version() {
        MemorySegment v = dnnl_h.dnnl_version().reinterpret(dnnl_version_t.layout().byteSize());
        String hash = dnnl_version_t.hash(v).reinterpret(64).getString(0);
        String version = dnnl_version_t.major(v) + "." + dnnl_version_t.minor(v) + "." + dnnl_version_t.patch(v);
        return hash.isBlank() || hash.equals("N/A") ? version : version + " (commit " + hash.substring(0, Math.min(hash.length(), 10)) + ")";
    }

    /** The instruction set oneDNN's JIT dispatches to on this CPU. */
    static String effectiveIsa() {
        int isa = dnnl_h.dnnl_get_effective_cpu_isa();
        record Named(int value, String name) {
        }
        List<Named> known = List.of(
                new Named(dnnl_h.dnnl_cpu_isa_avx10_2_512_amx_2(), "avx10_2_512_amx_2"),
                new Named(dnnl_h.dnnl_cpu_isa_avx512_core_amx_fp16(), "avx512_core_amx_fp16"),
                new Named(dnnl_h.dnnl_cpu_isa_avx512_core_amx(), "avx512_core_amx"),
                new Named(dnnl_h.dnnl_cpu_isa_avx10_2_512(), "avx10_2_512"),
                new Named(dnnl_h.dnnl_cpu_isa_avx512_core_fp16(), "avx512_core_fp16"),
                new Named(dnnl_h.dnnl_cpu_isa_avx512_core_bf16(), "avx512_core_bf16"),
                new Named(dnnl_h.dnnl_cpu_isa_avx512_core_vnni(), "avx512_core_vnni"),
                new Named(dnnl_h.dnnl_cpu_isa_avx512_core(), "avx512_core"),
                new Named(dnnl_h.dnnl_cpu_isa_avx2_vnni_2(), "avx2_vnni_2"),
                new Named(dnnl_h.dnnl_cpu_isa_avx2_vnni(), "avx2_vnni"),
                new Named(dnnl_h.dnnl_cpu_isa_avx2(), "avx2"),
                new Named(dnnl_h.dnnl_cpu_isa_avx(), "avx"),
                new Named(dnnl_h.dnnl_cpu_isa_sse41(), "sse41"));
        for (Named n : known) {
            if (n.value == isa) {
                return n.name;
            }
        }
        return "isa 0x" + Integer.toHexString(isa);
    }

    private static MemorySegment longs(Arena a, long... v) {
        return a.allocateFrom(ValueLayout.JAVA_LONG, v);
    }

    // ------------------------------------------------------------------ engine and stream

    /** A CPU engine; one per backend. */
    static final class Engine implements AutoCloseable {
        final MemorySegment handle;

        Engine() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check(dnnl_h.dnnl_engine_create(out, dnnl_h.dnnl_cpu(), 0), "dnnl_engine_create", "cpu engine 0");
                handle = out.get(ValueLayout.ADDRESS, 0);
            }
        }

        @Override
        public void close() {
            check(dnnl_h.dnnl_engine_destroy(handle), "dnnl_engine_destroy", "");
        }
    }

    /** An in-order stream; streams are not thread-safe, so each thread gets its own. */
    static final class Stream implements AutoCloseable {
        final MemorySegment handle;

        Stream(Engine engine) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check(dnnl_h.dnnl_stream_create(out, engine.handle, dnnl_h.dnnl_stream_default_flags()), "dnnl_stream_create", "");
                handle = out.get(ValueLayout.ADDRESS, 0);
            }
        }

        void waitDone() {
            check(dnnl_h.dnnl_stream_wait(handle), "dnnl_stream_wait", "");
        }

        @Override
        public void close() {
            check(dnnl_h.dnnl_stream_destroy(handle), "dnnl_stream_destroy", "");
        }
    }

    // ------------------------------------------------------------------ memory descriptors

    /** A memory descriptor: dims, data type and strides (or "any", for the primitive to choose). */
    static final class MemoryDesc implements AutoCloseable {
        final MemorySegment handle;
        final String text;

        private MemoryDesc(MemorySegment handle, String text) {
            this.handle = handle;
            this.text = text;
        }

        static MemoryDesc strided(DType type, long[] dims, long[] givenStrides) {
            long[] strides = canonicalStrides(dims, givenStrides);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                String text = type + Arrays.toString(dims) + " strides " + Arrays.toString(strides);
                check(dnnl_h.dnnl_memory_desc_create_with_strides(out, dims.length, longs(a, dims), dataType(type), longs(a, strides)),
                        "dnnl_memory_desc_create_with_strides", text);
                return new MemoryDesc(out.get(ValueLayout.ADDRESS, 0), text);
            }
        }

        /**
         * The stride of a size-1 dimension never matters, but oneDNN may read a large one as a
         * sign of a different layout; give such dimensions the stride a dense layout would have.
         */
        private static long[] canonicalStrides(long[] dims, long[] strides) {
            long[] s = strides.clone();
            for (int i = dims.length - 1; i >= 0; i--) {
                if (dims[i] == 1) {
                    s[i] = i == dims.length - 1 ? 1 : s[i + 1] * dims[i + 1];
                }
            }
            return s;
        }

        /** Dense row-major. */
        static MemoryDesc dense(DType type, long... dims) {
            long[] strides = new long[dims.length];
            long s = 1;
            for (int i = dims.length - 1; i >= 0; i--) {
                strides[i] = s;
                s *= dims[i];
            }
            return strided(type, dims, strides);
        }

        /** Layout left to the primitive (used for weights it may want to reorder). */
        static MemoryDesc any(DType type, long... dims) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                String text = type + Arrays.toString(dims) + " any";
                check(dnnl_h.dnnl_memory_desc_create_with_tag(out, dims.length, longs(a, dims), dataType(type), dnnl_h.dnnl_format_tag_any()),
                        "dnnl_memory_desc_create_with_tag", text);
                return new MemoryDesc(out.get(ValueLayout.ADDRESS, 0), text);
            }
        }

        /** A copy of a descriptor oneDNN owns (e.g. one queried from a primitive descriptor). */
        static MemoryDesc copyOf(MemorySegment existing, String text) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check(dnnl_h.dnnl_memory_desc_clone(out, existing), "dnnl_memory_desc_clone", text);
                return new MemoryDesc(out.get(ValueLayout.ADDRESS, 0), text);
            }
        }

        /** Bytes a buffer of this layout needs (blocked layouts may pad). */
        long byteSize() {
            return dnnl_h.dnnl_memory_desc_get_size(handle);
        }

        @Override
        public void close() {
            check(dnnl_h.dnnl_memory_desc_destroy(handle), "dnnl_memory_desc_destroy", text);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    // ------------------------------------------------------------------ attributes

    /** Primitive attributes: post-ops (eltwise, sum) and the user-managed scratchpad. */
    static final class Attr implements AutoCloseable {
        final MemorySegment handle;
        private final MemorySegment postOps;

        Attr() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check(dnnl_h.dnnl_primitive_attr_create(out), "dnnl_primitive_attr_create", "");
                handle = out.get(ValueLayout.ADDRESS, 0);
                // lit4j passes each thread's own scratchpad at execution (safe concurrent execution)
                check(dnnl_h.dnnl_primitive_attr_set_scratchpad_mode(handle, dnnl_h.dnnl_scratchpad_mode_user()),
                        "dnnl_primitive_attr_set_scratchpad_mode", "user");
                check(dnnl_h.dnnl_post_ops_create(out), "dnnl_post_ops_create", "");
                postOps = out.get(ValueLayout.ADDRESS, 0);
            }
        }

        Attr eltwise(int alg, float alpha, float beta) {
            check(dnnl_h.dnnl_post_ops_append_eltwise(postOps, alg, alpha, beta), "dnnl_post_ops_append_eltwise", "alg " + alg);
            return this;
        }

        Attr sum() {
            check(dnnl_h.dnnl_post_ops_append_sum(postOps, 1f, 0, dnnl_h.dnnl_data_type_undef()), "dnnl_post_ops_append_sum", "");
            return this;
        }

        /** Finishes the attribute: attaches the post-ops. */
        Attr build() {
            check(dnnl_h.dnnl_primitive_attr_set_post_ops(handle, postOps), "dnnl_primitive_attr_set_post_ops", "");
            return this;
        }

        @Override
        public void close() {
            check(dnnl_h.dnnl_post_ops_destroy(postOps), "dnnl_post_ops_destroy", "");
            check(dnnl_h.dnnl_primitive_attr_destroy(handle), "dnnl_primitive_attr_destroy", "");
        }
    }

    // ------------------------------------------------------------------ primitives

    /** Something that fills in a primitive descriptor given an out-pointer. */
    @FunctionalInterface
    interface PdFactory {
        int create(MemorySegment pdOut);
    }

    /** A bare primitive descriptor, used as the forward hint a backward primitive is created from. */
    static final class PrimitiveDesc implements AutoCloseable {
        final MemorySegment handle;

        PrimitiveDesc(String context, PdFactory factory) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check(factory.create(out), "primitive_desc_create", context);
                handle = out.get(ValueLayout.ADDRESS, 0);
            }
        }

        /** A copy of the memory descriptor this primitive descriptor chose for {@code what}. */
        MemoryDesc queryMd(int what, String text) {
            MemorySegment md = dnnl_h.dnnl_primitive_desc_query_md(handle, what, 0);
            if (md == null || md.equals(MemorySegment.NULL)) {
                throw new DnnlException(DnnlStatus.INVALID_ARGUMENTS, "dnnl_primitive_desc_query_md", text + ": no descriptor " + what);
            }
            return MemoryDesc.copyOf(md, text);
        }

        @Override
        public void close() {
            dnnl_h.dnnl_primitive_desc_destroy(handle);
        }
    }

    /**
     * A created primitive with the memory descriptors of its arguments. Execution wraps the
     * caller's buffers in oneDNN memory objects, runs, and frees them.
     */
    static final class Primitive implements AutoCloseable {
        private final MemorySegment pd;
        private final MemorySegment prim;
        private final int[] args;
        private final MemoryDesc[] descs;
        private final Engine engine;
        final String context;
        /** The op kind for profiles: the context up to its first shape. */
        final String kind;
        private final MemoryDesc scratchpadMd;
        private final long scratchpadBytes;

        Primitive(Engine engine, String context, PdFactory factory, int[] args, MemoryDesc[] descs) {
            this.engine = engine;
            this.context = context;
            // "layerNorm xF32[5, 3] eps 1e-6" -> "layerNorm"; "attention q·kᵀ: strided ..." -> "attention q·kᵀ"
            String k = context.split("[\\[:(]", 2)[0].strip();
            this.kind = k.replaceAll(" [a-z]+(F32|BF16)$| x$", "");
            this.args = args;
            this.descs = descs;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check(factory.create(out), "primitive_desc_create", context);
                pd = out.get(ValueLayout.ADDRESS, 0);
                int st = dnnl_h.dnnl_primitive_create(out, pd);
                if (st != dnnl_h.dnnl_success()) {
                    dnnl_h.dnnl_primitive_desc_destroy(pd);
                    check(st, "dnnl_primitive_create", context);
                }
                prim = out.get(ValueLayout.ADDRESS, 0);
                MemorySegment sp = dnnl_h.dnnl_primitive_desc_query_md(pd, dnnl_h.dnnl_query_scratchpad_md(), 0);
                scratchpadMd = sp == null || sp.equals(MemorySegment.NULL) ? null : MemoryDesc.copyOf(sp, context + " scratchpad");
                scratchpadBytes = scratchpadMd == null ? 0 : scratchpadMd.byteSize();
            } catch (RuntimeException e) {
                for (MemoryDesc d : descs) { // this primitive owned them
                    if (d != null) {
                        d.close();
                    }
                }
                throw e;
            }
        }

        /** The implementation oneDNN picked, e.g. "brg_matmul:avx512_core". */
        String implementation() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                check(dnnl_h.dnnl_primitive_desc_query(pd, dnnl_h.dnnl_query_impl_info_str(), 0, out), "dnnl_primitive_desc_query", context);
                return out.get(ValueLayout.ADDRESS, 0).reinterpret(256).getString(0);
            }
        }

        /** Bytes of scratchpad an execution needs (0: none). */
        long scratchpadBytes() {
            return scratchpadBytes;
        }

        /**
         * Runs with one buffer per argument, in the order given at creation, and the caller's
         * scratchpad (at least {@link #scratchpadBytes()}, or null when none is needed); waits for completion.
         */
        void execute(Stream stream, MemorySegment scratch, MemorySegment... buffers) {
            if (buffers.length != args.length) {
                throw new IllegalArgumentException(context + ": " + buffers.length + " buffers for " + args.length + " arguments");
            }
            boolean withScratch = scratchpadBytes > 0;
            int n = args.length + (withScratch ? 1 : 0);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment memOut = a.allocate(ValueLayout.ADDRESS);
                MemorySegment argv = a.allocate(dnnl_exec_arg_t.layout(), n);
                MemorySegment[] mems = new MemorySegment[n];
                try {
                    for (int i = 0; i < n; i++) {
                        boolean sp = i == args.length;
                        check(dnnl_h.dnnl_memory_create(memOut, sp ? scratchpadMd.handle : descs[i].handle, engine.handle,
                                        sp ? scratch : buffers[i]),
                                "dnnl_memory_create", context + ", argument " + (sp ? "scratchpad" : descs[i]));
                        mems[i] = memOut.get(ValueLayout.ADDRESS, 0);
                        MemorySegment slot = dnnl_exec_arg_t.asSlice(argv, i);
                        dnnl_exec_arg_t.arg(slot, sp ? dnnl_h.DNNL_ARG_SCRATCHPAD() : args[i]);
                        dnnl_exec_arg_t.memory(slot, mems[i]);
                    }
                    check(dnnl_h.dnnl_primitive_execute(prim, stream.handle, n, argv), "dnnl_primitive_execute", context);
                    stream.waitDone();
                } finally {
                    for (MemorySegment m : mems) {
                        if (m != null) {
                            dnnl_h.dnnl_memory_destroy(m);
                        }
                    }
                }
            }
        }

        @Override
        public void close() {
            dnnl_h.dnnl_primitive_destroy(prim);
            dnnl_h.dnnl_primitive_desc_destroy(pd);
            if (scratchpadMd != null) {
                scratchpadMd.close();
            }
            for (MemoryDesc d : descs) {
                d.close();
            }
        }
    }
}
