package io.lit4j.train;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.simd.Kernels;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;

import java.util.Arrays;

/**
 * The LiT losses over a batch of N pairs, forward and backward, on L2-normalised embeddings:
 * <ul>
 *   <li>softmax (InfoNCE): {@code L = exp(t)·zimg·ztxtᵀ}, {@code loss = ½ (CE(L, I) + CE(Lᵀ, I))};</li>
 *   <li>sigmoid (SigLIP): {@code L = exp(t)·zimg·ztxtᵀ + b}, {@code loss = −(1/N) Σ log σ(z_ij L_ij)}
 *       with {@code z = 2I − 1}.</li>
 * </ul>
 * The logits are made block by block (a backend matmul of {@code rows × N}) and reduced with the Java
 * {@link Kernels} (max subtraction, log-sum-exp, an online column log-sum-exp), so memory stays at one
 * block however large the batch: up to 32k pairs and beyond. Buffers are sized once per N.
 */
public final class ContrastiveLoss {
    private static final Kernels KERNELS = Kernels.get();

    /** The loss and the scalar gradients; the embedding gradients land in the caller's tensors. */
    public record Result(double loss, double dLogT, double dBias) {
    }

    private final TwoTowerConfig.Loss kind;
    private final int n, e, rows;
    private final Tensor block, gradBlock, tmp;
    private final float[] host;
    private final float[] rowLse, colMax, colSum, diag;

    /** Buffers for batches of {@code n} pairs of {@code e}-dim embeddings; blocks of at most {@code maxBlockRows} rows. */
    public ContrastiveLoss(TwoTowerConfig.Loss kind, TensorArena arena, int n, int e, int maxBlockRows) {
        if (n < 1 || e < 1) {
            throw new LitException("contrastive loss needs at least one pair, got " + n + " pairs of dim " + e);
        }
        this.kind = kind;
        this.n = n;
        this.e = e;
        this.rows = Math.min(n, Math.max(1, maxBlockRows));
        this.block = arena.allocate(DType.F32, rows, n);
        this.gradBlock = arena.allocate(DType.F32, rows, n);
        this.tmp = arena.allocate(DType.F32, n, e);
        this.host = new float[rows * n];
        this.rowLse = new float[n];
        this.colMax = new float[n];
        this.colSum = new float[n];
        this.diag = new float[n];
    }

    /**
     * Computes the loss for {@code zimg, ztxt [N,E]} and writes {@code dzimg}, {@code dztxt}
     * (either may be null when that tower is locked).
     */
    public Result compute(Backend be, Tensor zimg, Tensor ztxt, float logT, float bias, Tensor dzimg, Tensor dztxt) {
        if (zimg.dim(0) != n || ztxt.dim(0) != n || zimg.dim(1) != e || ztxt.dim(1) != e) {
            throw new LitException("contrastive loss sized for " + n + "x" + e + " got zimg " + zimg + ", ztxt " + ztxt);
        }
        float scale = (float) Math.exp(logT);
        return kind == TwoTowerConfig.Loss.SOFTMAX
                ? softmax(be, zimg, ztxt, scale, dzimg, dztxt)
                : sigmoid(be, zimg, ztxt, scale, bias, dzimg, dztxt);
    }

    /** Logits of rows [r0, r0 + rb) into {@link #host}. */
    private void logitsBlock(Backend be, Tensor zimg, Tensor ztxt, int r0, int rb, float scale, float bias) {
        Tensor b = block.slice(0, rb);
        be.matmul(zimg.slice(r0, r0 + rb), false, ztxt, true, b, scale);
        if (rb == rows) {
            be.download(b, host);
        } else { // the last, shorter block goes to the front of the shared buffer
            System.arraycopy(be.download(b), 0, host, 0, rb * n);
        }
        if (bias != 0f) {
            for (int i = 0; i < rb * n; i++) {
                host[i] += bias;
            }
        }
    }

    private Result softmax(Backend be, Tensor zimg, Tensor ztxt, float scale, Tensor dzimg, Tensor dztxt) {
        Arrays.fill(colMax, Float.NEGATIVE_INFINITY);
        Arrays.fill(colSum, 0f);
        // pass 1: row log-sum-exp, online column log-sum-exp, the diagonal
        for (int r0 = 0; r0 < n; r0 += rows) {
            int rb = Math.min(rows, n - r0);
            logitsBlock(be, zimg, ztxt, r0, rb, scale, 0f);
            for (int i = 0; i < rb; i++) {
                rowLse[r0 + i] = KERNELS.logSumExp(host, i * n, n);
                diag[r0 + i] = host[i * n + r0 + i];
            }
            KERNELS.columnLogSumExpUpdate(host, rb, n, colMax, colSum);
        }
        double rowTerm = 0, colTerm = 0;
        for (int i = 0; i < n; i++) {
            float colLse = colMax[i] + (float) Math.log(colSum[i]);
            colSum[i] = colLse; // colSum now holds the column log-sum-exp
            rowTerm += rowLse[i] - diag[i];
            colTerm += colLse - diag[i];
        }
        double loss = 0.5 * (rowTerm + colTerm) / n;
        // pass 2: G = (softmax_rows + softmax_cols) / 2N − I/N, then the embedding gradients
        double dLogT = 0;
        float inv2n = 0.5f / n;
        for (int r0 = 0; r0 < n; r0 += rows) {
            int rb = Math.min(rows, n - r0);
            logitsBlock(be, zimg, ztxt, r0, rb, scale, 0f);
            for (int i = 0; i < rb; i++) {
                dLogT += KERNELS.softmaxGradRow(host, i * n, n, rowLse[r0 + i], colSum, inv2n);
                host[i * n + r0 + i] -= 1f / n;  // the targets: −I/N
                dLogT -= diag[r0 + i] / (double) n;
            }
            embeddingGrads(be, zimg, ztxt, r0, rb, scale, dzimg, dztxt);
        }
        return new Result(loss, dLogT, 0);
    }

    private Result sigmoid(Backend be, Tensor zimg, Tensor ztxt, float scale, float bias, Tensor dzimg, Tensor dztxt) {
        double loss = 0, dLogT = 0, dBias = 0;
        float invN = 1f / n;
        for (int r0 = 0; r0 < n; r0 += rows) {
            int rb = Math.min(rows, n - r0);
            logitsBlock(be, zimg, ztxt, r0, rb, scale, bias);
            for (int i = 0; i < rb; i++) {
                for (int j = 0; j < n; j++) {
                    int k = i * n + j;
                    float l = host[k];
                    float z = (r0 + i) == j ? 1f : -1f;
                    float zl = z * l;
                    // −log σ(zl) = softplus(−zl), computed without overflow
                    loss += Math.max(-zl, 0f) + Math.log1p(Math.exp(-Math.abs(zl)));
                    float g = -z * sigmoidOf(-zl) * invN; // d loss / d L
                    dLogT += (double) g * (l - bias);
                    dBias += g;
                    host[k] = g;
                }
            }
            embeddingGrads(be, zimg, ztxt, r0, rb, scale, dzimg, dztxt);
        }
        return new Result(loss / n, dLogT, dBias);
    }

    private static float sigmoidOf(float x) {
        return x >= 0 ? 1f / (1f + (float) Math.exp(-x)) : (float) Math.exp(x) / (1f + (float) Math.exp(x));
    }

    /** With G (rows [r0, r0+rb)) in host: dzimg[rows] = scale·G·ztxt; dztxt (+)= scale·Gᵀ·zimg[rows]. */
    private void embeddingGrads(Backend be, Tensor zimg, Tensor ztxt, int r0, int rb, float scale, Tensor dzimg, Tensor dztxt) {
        Tensor g = gradBlock.slice(0, rb);
        be.upload(rb == rows ? host : Arrays.copyOf(host, rb * n), g);
        if (dzimg != null) {
            be.matmul(g, false, ztxt, false, dzimg.slice(r0, r0 + rb), scale);
        }
        if (dztxt != null) {
            if (r0 == 0) {
                be.matmul(g, true, zimg.slice(0, rb), false, dztxt, scale);
            } else {
                be.matmul(g, true, zimg.slice(r0, r0 + rb), false, tmp, scale);
                be.add(dztxt, tmp, dztxt);
            }
        }
    }
}
