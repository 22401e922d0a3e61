package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.backend.cuda.Cublas.Fused;
import io.lit4j.backend.cuda.Cublas.Gemm;
import io.lit4j.backend.cuda.Cublas.Type;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The pieces every cuda op is made of: device addresses of tensors, dtype codes for the kernels,
 * temporary device buffers freed (stream-ordered) when the op ends, conversions, and row-major
 * GEMMs on raw buffers with the operand-precision rule of {@link io.lit4j.backend.Backend#linear}
 * (a bf16 operand makes both operands bf16, accumulation stays fp32). One per op call: it holds
 * the temporaries, and {@link #close} frees them.
 */
final class DeviceOps implements AutoCloseable {
    /** A raw device buffer: an address, its element type and count. */
    record Buf(long address, DType dtype, long numel) {
    }

    private final CudaDevice device;
    private final List<Long> temporaries = new ArrayList<>();

    DeviceOps(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
    }

    /** The device address of {@code t}'s first element; throws for a tensor of another backend. */
    static long ptr(Tensor t) {
        if (t == null) {
            return 0L;
        }
        if (!(t.storage() instanceof CudaStorage cs)) {
            throw new LitException("tensor " + t + " lives on " + t.storage().device()
                    + "; the cuda backend can only use its own tensors (upload it first)");
        }
        return cs.address() + t.byteOffset();
    }

    static Buf buf(Tensor t) {
        return new Buf(ptr(t), t.dtype(), t.numel());
    }

    /** The kernels' dtype code (0 fp32, 1 bf16, 2 fp16; the ld/st helpers of the .cu file) of a floating tensor. */
    static int code(DType t) {
        return switch (t) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
            case I32, I64 -> throw new LitException("expected a floating tensor, got " + t);
        };
    }

    static int code(Tensor t) {
        return code(t.dtype());
    }

    /** A temporary of {@code numel} elements, freed when this op ends (not zeroed). */
    Buf temp(DType dtype, long numel) {
        long p = device.allocate(Math.max(1, numel) * dtype.byteSize());
        temporaries.add(p);
        return new Buf(p, dtype, numel);
    }

    void launch(Kernel k, KernelLaunch.Dims dims, Object... args) {
        device.launch(k, dims, args);
    }

    /** {@code b} converted to {@code to} (itself when it already is). */
    Buf as(Buf b, DType to) {
        if (b.dtype() == to) {
            return b;
        }
        Buf out = temp(to, b.numel());
        convert(b, out);
        return out;
    }

    void convert(Buf src, Buf dst) {
        launch(Kernel.CONVERT, KernelLaunch.elements(src.numel()), src.address(), code(src.dtype()), dst.address(), code(dst.dtype()),
                src.numel());
    }

    /**
     * {@code d = alpha · op(a) · op(b) + beta · d}, row-major, batched over {@code batch} with element strides
     * (0 broadcasts); {@code bf16} forces a bf16 product even when both operands are fp32. The
     * operands are converted as the precision rule asks; {@code d} may be fp32 or (with a bf16
     * product) bf16, otherwise the product goes through an fp32 temporary. {@code bias} (fp32,
     * [n]) fuses cuBLASLt's bias epilogue (only with an fp32 {@code d}).
     */
    void gemm(Buf a, boolean ta, Buf b, boolean tb, Buf d, int m, int n, int k, int batch, long strideA, long strideB, float alpha,
              float beta, long bias, boolean bf16) {
        boolean low = bf16 || a.dtype() == DType.BF16 || b.dtype() == DType.BF16;
        for (Buf x : new Buf[] {a, b, d}) {
            if (x.dtype() != DType.F32 && x.dtype() != DType.BF16) {
                throw new LitException("the cuda backend multiplies fp32 or bf16 tensors, not " + x.dtype());
            }
        }
        DType ab = low ? DType.BF16 : DType.F32;
        Buf a2 = as(a, ab), b2 = as(b, ab);
        boolean direct = d.dtype() == DType.F32 || low;
        if (!direct && (beta != 0f || bias != 0L)) {
            throw new AssertionError("accumulating or biased gemm into " + d.dtype() + " from fp32 operands");
        }
        Buf out = direct ? d : temp(DType.F32, d.numel());
        Fused fused = bias == 0L ? Fused.NONE : Fused.BIAS;
        if (fused != Fused.NONE && out.dtype() != DType.F32) {
            throw new AssertionError("bias epilogue wants an fp32 output");
        }
        Type t = low ? Type.BF16 : Type.F32;
        Type td = out.dtype() == DType.F32 ? Type.F32 : Type.BF16;
        int align = Cublas.alignment(a2.address(), b2.address(), out.address(), bias);
        Gemm g = new Gemm(ta, tb, m, n, k, batch, batch > 1 ? strideA : 0, batch > 1 ? strideB : 0, (long) m * n, t, td, fused, align);
        device.cublas().matmul(g, a2.address(), b2.address(), out.address(), alpha, beta, bias);
        if (!direct) {
            convert(out, d);
        }
    }

    @Override
    public void close() {
        for (long p : temporaries) {
            device.free(p);
        }
        temporaries.clear();
    }
}
