package io.lit4j.backend.cuda;

import io.lit4j.bindings.cublas.cublasLtMatmulHeuristicResult_t;
import io.lit4j.bindings.cublas.cublas_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * cuBLASLt through the generated {@code cublas_h}: one handle, one workspace, and a plan (matmul
 * descriptor, three matrix layouts, the heuristic's algorithm) cached per {@link Gemm} shape.
 * Row-major lit4j matrices are column-major transposes to cuBLAS, so {@code C = op(A)·op(B)} is
 * issued as {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}: B's buffer first (see {@link Gemm#plan}). Every status
 * becomes a {@link CudaException} naming the call and the op. Products are fp32 or bf16 with
 * fp32 accumulation ({@code CUBLAS_COMPUTE_32F}: no TF32, so fp32 results meet the oracle's
 * fp32 tolerance); batches are strided, a stride of 0 broadcasting one matrix.
 */
final class Cublas implements AutoCloseable {
    /** The workspace cuBLASLt may use (NVIDIA's advice for Hopper is 32 MiB). */
    static final long WORKSPACE_BYTES = 32L << 20;

    /** Element types, as cuBLAS's {@code cudaDataType}. */
    enum Type {
        F32, BF16;

        int cuda() {
            return this == F32 ? cublas_h.CUDA_R_32F() : cublas_h.CUDA_R_16BF();
        }
    }

    /** What the matmul does after the product: nothing, + bias, gelu(+ bias) (tanh form, cuBLASLt's GELU). */
    enum Fused {
        NONE, BIAS, GELU_BIAS;

        int cublas() {
            return switch (this) {
                case NONE -> cublas_h.CUBLASLT_EPILOGUE_DEFAULT();
                case BIAS -> cublas_h.CUBLASLT_EPILOGUE_BIAS();
                case GELU_BIAS -> cublas_h.CUBLASLT_EPILOGUE_GELU_BIAS();
            };
        }
    }

    /**
     * One row-major GEMM shape: {@code D[batch][m,n] = alpha·op(A)[m,k]·op(B)[k,n] + beta·D},
     * A and B of {@code ab} type, D of {@code d} type; strides in elements (0 broadcasts);
     * {@code align} the largest power of two (at most 256) dividing every pointer, which the
     * heuristic must know.
     */
    record Gemm(boolean transA, boolean transB, int m, int n, int k, int batch, long strideA, long strideB, long strideD, Type ab,
                Type d, Fused fused, int align) {

        /** The column-major problem cuBLASLt sees: {rows, cols, ld} of its A (our B), its B (our A) and D. */
        long[][] plan() {
            long[] first = transB ? new long[] {k, n, k} : new long[] {n, k, n};   // our B as stored, col-major
            long[] second = transA ? new long[] {m, k, m} : new long[] {k, m, k};  // our A as stored, col-major
            long[] out = {n, m, n};
            return new long[][] {first, second, out};
        }

        @Override
        public String toString() {
            return "gemm " + (batch > 1 ? batch + "x" : "") + "[" + m + "," + k + "]" + (transA ? "ᵀ" : "") + "·[" + k + "," + n + "]"
                    + (transB ? "ᵀ" : "") + " " + ab + "->" + d + (fused == Fused.NONE ? "" : " +" + fused);
        }
    }

    private record Plan(MemorySegment desc, MemorySegment layoutFirst, MemorySegment layoutSecond, MemorySegment layoutD,
                        MemorySegment algo, long workspace) {
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle;
    private final long workspace;
    private final MemorySegment stream;
    private final Map<Gemm, Plan> plans = new HashMap<>();

    Cublas(MemorySegment stream) {
        this.stream = stream;
        MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
        check(cublas_h.cublasLtCreate(p), "cublasLtCreate", null);
        handle = p.get(ValueLayout.ADDRESS, 0);
        workspace = CudaDriver.allocAsync(WORKSPACE_BYTES, stream);
    }

    /** cuBLASLt's version, e.g. 130100 for 13.1.0. */
    static long version() {
        return cublas_h.cublasLtGetVersion();
    }

    /** The largest power of two, at most 256, dividing every address (what cuBLASLt's alignment preferences take). */
    static int alignment(long... addresses) {
        int a = 256;
        for (long p : addresses) {
            if (p != 0) {
                a = (int) Math.min(a, Long.lowestOneBit(p));
            }
        }
        return a;
    }

    /**
     * Runs {@code g} on device pointers. {@code bias} (fp32, length n: per output column, row-major)
     * is used by the fused epilogues, 0 otherwise. Synchronized: a plan's descriptor carries the
     * bias pointer, set per call.
     */
    synchronized void matmul(Gemm g, long a, long b, long d, float alpha, float beta, long bias) {
        Plan p = plans.computeIfAbsent(g, this::plan);
        try (Arena call = Arena.ofConfined()) {
            if (g.fused() != Fused.NONE) {
                MemorySegment bp = call.allocate(ValueLayout.JAVA_LONG);
                bp.set(ValueLayout.JAVA_LONG, 0, bias);
                check(cublas_h.cublasLtMatmulDescSetAttribute(p.desc(), cublas_h.CUBLASLT_MATMUL_DESC_BIAS_POINTER(), bp, 8),
                        "cublasLtMatmulDescSetAttribute(BIAS_POINTER)", g);
            }
            MemorySegment al = call.allocateFrom(ValueLayout.JAVA_FLOAT, alpha);
            MemorySegment be = call.allocateFrom(ValueLayout.JAVA_FLOAT, beta);
            MemorySegment dp = MemorySegment.ofAddress(d);
            check(cublas_h.cublasLtMatmul(handle, p.desc(), al, MemorySegment.ofAddress(b), p.layoutFirst(), MemorySegment.ofAddress(a),
                    p.layoutSecond(), be, dp, p.layoutD(), dp, p.layoutD(), p.algo(), MemorySegment.ofAddress(workspace), p.workspace(),
                    stream), "cublasLtMatmul", g);
        }
    }

    private Plan plan(Gemm g) {
        long[][] shape = g.plan();
        MemorySegment pd = arena.allocate(ValueLayout.ADDRESS);
        check(cublas_h.cublasLtMatmulDescCreate(pd, cublas_h.CUBLAS_COMPUTE_32F(), cublas_h.CUDA_R_32F()), "cublasLtMatmulDescCreate", g);
        MemorySegment desc = pd.get(ValueLayout.ADDRESS, 0);
        setInt(desc, cublas_h.CUBLASLT_MATMUL_DESC_TRANSA(), g.transB() ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(), g);
        setInt(desc, cublas_h.CUBLASLT_MATMUL_DESC_TRANSB(), g.transA() ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(), g);
        setInt(desc, cublas_h.CUBLASLT_MATMUL_DESC_EPILOGUE(), g.fused().cublas(), g);
        if (g.fused() != Fused.NONE) {
            setInt(desc, cublas_h.CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE(), cublas_h.CUDA_R_32F(), g);
        }
        MemorySegment first = layout(g.ab(), shape[0], g.batch(), g.strideB(), g);
        MemorySegment second = layout(g.ab(), shape[1], g.batch(), g.strideA(), g);
        MemorySegment out = layout(g.d(), shape[2], g.batch(), g.strideD(), g);

        MemorySegment pp = arena.allocate(ValueLayout.ADDRESS);
        check(cublas_h.cublasLtMatmulPreferenceCreate(pp), "cublasLtMatmulPreferenceCreate", g);
        MemorySegment pref = pp.get(ValueLayout.ADDRESS, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ws = a.allocateFrom(ValueLayout.JAVA_LONG, WORKSPACE_BYTES);
            check(cublas_h.cublasLtMatmulPreferenceSetAttribute(pref, cublas_h.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES(), ws, 8),
                    "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)", g);
            MemorySegment al = a.allocateFrom(ValueLayout.JAVA_INT, g.align());
            for (int attr : new int[] {cublas_h.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES(), cublas_h.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES(),
                    cublas_h.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES(), cublas_h.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES()}) {
                check(cublas_h.cublasLtMatmulPreferenceSetAttribute(pref, attr, al, 4), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT)", g);
            }
            MemorySegment result = a.allocate(cublasLtMatmulHeuristicResult_t.layout());
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            check(cublas_h.cublasLtMatmulAlgoGetHeuristic(handle, desc, first, second, out, out, pref, 1, result, count),
                    "cublasLtMatmulAlgoGetHeuristic", g);
            check(cublas_h.cublasLtMatmulPreferenceDestroy(pref), "cublasLtMatmulPreferenceDestroy", g);
            if (count.get(ValueLayout.JAVA_INT, 0) < 1 || cublasLtMatmulHeuristicResult_t.state(result) != 0) {
                throw new CudaException("cublasLtMatmulAlgoGetHeuristic", cublasLtMatmulHeuristicResult_t.state(result),
                        "no algorithm for " + g, OpContext.current());
            }
            MemorySegment algo = arena.allocate(cublasLtMatmulHeuristicResult_t.algo$layout());
            algo.copyFrom(cublasLtMatmulHeuristicResult_t.algo(result));
            return new Plan(desc, first, second, out, algo, cublasLtMatmulHeuristicResult_t.workspaceSize(result));
        }
    }

    private MemorySegment layout(Type t, long[] rowsColsLd, int batch, long stride, Gemm g) {
        MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
        check(cublas_h.cublasLtMatrixLayoutCreate(p, t.cuda(), rowsColsLd[0], rowsColsLd[1], rowsColsLd[2]), "cublasLtMatrixLayoutCreate", g);
        MemorySegment l = p.get(ValueLayout.ADDRESS, 0);
        if (batch > 1) {
            try (Arena a = Arena.ofConfined()) {
                check(cublas_h.cublasLtMatrixLayoutSetAttribute(l, cublas_h.CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT(),
                        a.allocateFrom(ValueLayout.JAVA_INT, batch), 4), "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)", g);
                check(cublas_h.cublasLtMatrixLayoutSetAttribute(l, cublas_h.CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET(),
                        a.allocateFrom(ValueLayout.JAVA_LONG, stride), 8), "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)", g);
            }
        }
        return l;
    }

    private void setInt(MemorySegment desc, int attr, int value, Gemm g) {
        try (Arena a = Arena.ofConfined()) {
            check(cublas_h.cublasLtMatmulDescSetAttribute(desc, attr, a.allocateFrom(ValueLayout.JAVA_INT, value), 4),
                    "cublasLtMatmulDescSetAttribute", g);
        }
    }

    private static void check(int status, String call, Gemm g) {
        if (status != 0) {
            MemorySegment name = cublas_h.cublasLtGetStatusName(status);
            String text = name.equals(MemorySegment.NULL) ? "cuBLAS error" : name.reinterpret(256).getString(0);
            String op = OpContext.current();
            throw new CudaException(call, status, text, (op == null ? "" : op + ", ") + (g == null ? "" : g.toString()));
        }
    }

    @Override
    public synchronized void close() {
        for (Plan p : plans.values()) {
            cublas_h.cublasLtMatrixLayoutDestroy(p.layoutFirst());
            cublas_h.cublasLtMatrixLayoutDestroy(p.layoutSecond());
            cublas_h.cublasLtMatrixLayoutDestroy(p.layoutD());
            cublas_h.cublasLtMatmulDescDestroy(p.desc());
        }
        plans.clear();
        CudaDriver.freeAsync(workspace, stream);
        cublas_h.cublasLtDestroy(handle);
        arena.close();
    }
}
