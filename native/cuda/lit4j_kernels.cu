// lit4j's CUDA kernels: the ops cuBLASLt and cuDNN do not do (LayerNorm, GELU, masked softmax,
// adds, embedding gather/scatter-add, patchify, token concat, pooling, L2 normalisation, the
// reductions of the contrastive loss and of gradient clipping, AdamW, dtype conversion, and the
// head split/merge around attention's batched GEMMs).
//
// Hand-written because no library lit4j can call from Java does these as one pass each with the
// dtypes lit4j stores (cuDNN's graph API covers some as pointwise/reduction nodes, but a graph per
// op per shape for a bias add costs more than the add; PyTorch's ATen kernels are C++ templates
// bound to its own tensor type). The arithmetic is the one io.lit4j.backend.scalar.ScalarBackend
// writes down; every kernel here is held to it by the cuda suites (which skip without a GPU).
//
// Conventions, shared with io.lit4j.backend.cuda.KernelLaunch (which computes the launch sizes):
//  - every kernel is extern "C" (unmangled, found by cuModuleGetFunction by name);
//  - a floating tensor is a pointer plus a dtype code: 0 fp32, 1 bf16, 2 fp16 (DeviceOps.code);
//    enum-valued arguments (GELU kind, epilogue, pooling) are codes from CudaBackend's switches;
//    loads widen to fp32, stores round to nearest even;
//  - element-wise kernels take a 64-bit count and loop grid-stride over it (the grid is capped);
//  - row kernels ("one block per row") take rows/cols, run one block per row (gridDim.x = rows,
//    or grid-stride over rows when rows exceed the grid cap) with blockDim.x a power of two in
//    [32, 1024], and reduce with warp shuffles plus 32 floats of static shared memory;
//  - accumulation is fp32 (the oracle's double sums agree to the suites' size-scaled tolerance),
//    except sum_of_squares, which accumulates in double as the Backend contract says.
//
// Built by native/build-kernels.sh into one fatbin (sm_80, sm_90 SASS + compute_80 PTX) that
// the jar carries and io.lit4j.backend.cuda.CudaModule loads with cuModuleLoadData.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

typedef long long i64;

// ------------------------------------------------------------------------------ dtype access

__device__ __forceinline__ float ld(const void* p, int t, i64 i) {
    switch (t) {
        case 1: return __bfloat162float(((const __nv_bfloat16*) p)[i]);
        case 2: return __half2float(((const __half*) p)[i]);
        default: return ((const float*) p)[i];
    }
}

__device__ __forceinline__ void st(void* p, int t, i64 i, float v) {
    switch (t) {
        case 1: ((__nv_bfloat16*) p)[i] = __float2bfloat16_rn(v); break;
        case 2: ((__half*) p)[i] = __float2half_rn(v); break;
        default: ((float*) p)[i] = v; break;
    }
}

#define GRID_STRIDE(i, n) for (i64 i = (i64) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64) gridDim.x * blockDim.x)
#define ROW_STRIDE(r, rows) for (i64 r = blockIdx.x; r < (rows); r += gridDim.x)

// ------------------------------------------------------------------------------ block reductions

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// The sum over the block, returned to every thread. `buf` is 32 floats of shared memory; the
// trailing __syncthreads lets the caller reuse `buf` for the next reduction.
__device__ float block_sum(float v, float* buf) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) buf[warp] = v;
    __syncthreads();
    float r = lane < warps ? buf[lane] : 0.f;
    r = warp_sum(r);
    __syncthreads();
    return r;
}

__device__ float block_max(float v, float* buf) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    if (lane == 0) buf[warp] = v;
    __syncthreads();
    float r = lane < warps ? buf[lane] : -INFINITY;
    r = warp_max(r);
    __syncthreads();
    return r;
}

// ------------------------------------------------------------------------------ conversion, fill, scale

// dst[i] = src[i], converting dtype (0/1/2); also the plain copy of a floating tensor.
extern "C" __global__ void lit4j_convert(const void* src, int st_, void* dst, int dt, i64 n) {
    GRID_STRIDE(i, n) st(dst, dt, i, ld(src, st_, i));
}

// t[i] *= k (fp32, bf16 or fp16 in place).
extern "C" __global__ void lit4j_scale(void* t, int tt, i64 n, float k) {
    GRID_STRIDE(i, n) st(t, tt, i, ld(t, tt, i) * k);
}

// ------------------------------------------------------------------------------ adds and the linear epilogue

// out[i] = a[i] + b[i % bn]: a bias or a position table broadcast over a's leading dims.
extern "C" __global__ void lit4j_add(const void* a, int at, const void* b, int bt, i64 bn, void* out, int ot, i64 n) {
    GRID_STRIDE(i, n) st(out, ot, i, ld(a, at, i) + ld(b, bt, i % bn));
}

__device__ __forceinline__ float gelu_tanh(float x) {
    const float c = 0.7978845608028654f; // sqrt(2/pi)
    return 0.5f * x * (1.f + tanhf(c * (x + 0.044715f * x * x * x)));
}

__device__ __forceinline__ float gelu_erf(float x) {
    return 0.5f * x * (1.f + erff(x * 0.7071067811865476f));
}

// OpenAI CLIP's quick GELU, x * sigmoid(1.702 x) (Gelu.QUICK_ALPHA).
__device__ __forceinline__ float gelu_quick(float x) {
    return x / (1.f + expf(-1.702f * x));
}

// The activation of GELU code `kind`: 0 tanh, 1 erf, 2 quick (CudaBackend.geluCode).
__device__ __forceinline__ float gelu_of(float x, int kind) {
    return kind == 0 ? gelu_tanh(x) : kind == 1 ? gelu_erf(x) : gelu_quick(x);
}

// The rest of a linear after its GEMM wrote acc[N,M] (fp32): y = act(acc + bias) or, for kind 4
// (accumulate), y += acc + bias. kind: 0 none, 1 gelu tanh, 2 gelu erf, 3 quick gelu, 4 accumulate
// (CudaBackend.epilogueCode). bias (fp32/bf16) may be null. acc may alias y when y is fp32 and kind != 4.
extern "C" __global__ void lit4j_linear_epilogue(const float* acc, const void* bias, int bt, void* y, int yt,
                                                 i64 rows, i64 m, int kind) {
    i64 n = rows * m;
    GRID_STRIDE(i, n) {
        float v = acc[i] + (bias ? ld(bias, bt, i % m) : 0.f);
        if (kind == 1) v = gelu_tanh(v);
        else if (kind == 2) v = gelu_erf(v);
        else if (kind == 3) v = gelu_quick(v);
        else if (kind == 4) v += ld(y, yt, i);
        st(y, yt, i, v);
    }
}

// ------------------------------------------------------------------------------ GELU

extern "C" __global__ void lit4j_gelu(const void* x, int xt, void* y, int yt, i64 n, int kind) {
    GRID_STRIDE(i, n) {
        st(y, yt, i, gelu_of(ld(x, xt, i), kind));
    }
}

// dx = gelu'(x) * dy; kind 0 tanh, 1 erf, 2 quick (CudaBackend.geluCode).
extern "C" __global__ void lit4j_gelu_backward(const void* x, int xt, const void* dy, int dyt, void* dx, int dxt,
                                               i64 n, int kind) {
    GRID_STRIDE(i, n) {
        float v = ld(x, xt, i), d;
        if (kind == 0) {
            const float c = 0.7978845608028654f;
            float th = tanhf(c * (v + 0.044715f * v * v * v));
            d = 0.5f * (1.f + th) + 0.5f * v * (1.f - th * th) * c * (1.f + 3.f * 0.044715f * v * v);
        } else if (kind == 1) {
            d = 0.5f * (1.f + erff(v * 0.7071067811865476f)) + v * expf(-0.5f * v * v) * 0.3989422804014327f;
        } else { // d/dv v s(av) = s + a v s (1 - s)
            float sg = 1.f / (1.f + expf(-1.702f * v));
            d = sg + 1.702f * v * sg * (1.f - sg);
        }
        st(dx, dxt, i, d * ld(dy, dyt, i));
    }
}

// ------------------------------------------------------------------------------ LayerNorm

// One block per row of x[rows,d]: y = (x - mean) / sqrt(var + eps) * scale + bias, biased
// variance, two passes over the row (mean, then squared deviations). mean/var (fp32) may be null.
extern "C" __global__ void lit4j_layernorm(const void* x, int xt, const void* scale, int gt, const void* bias, int bt,
                                           void* y, int yt, float* mean, float* var, i64 rows, int d, float eps) {
    __shared__ float buf[32];
    ROW_STRIDE(r, rows) {
        i64 base = r * d;
        float s = 0.f;
        for (int i = threadIdx.x; i < d; i += blockDim.x) s += ld(x, xt, base + i);
        float mu = block_sum(s, buf) / d;
        float q = 0.f;
        for (int i = threadIdx.x; i < d; i += blockDim.x) {
            float dv = ld(x, xt, base + i) - mu;
            q += dv * dv;
        }
        float va = block_sum(q, buf) / d;
        float inv = rsqrtf(va + eps);
        for (int i = threadIdx.x; i < d; i += blockDim.x) {
            float v = (ld(x, xt, base + i) - mu) * inv * ld(scale, gt, i) + ld(bias, bt, i);
            st(y, yt, base + i, v);
        }
        if (threadIdx.x == 0) {
            if (mean) mean[r] = mu;
            if (var) var[r] = va;
        }
    }
}

// dx for one row per block: dx = rstd * (dn - mean(dn) - xhat * mean(dn * xhat)), dn = dy * scale.
extern "C" __global__ void lit4j_layernorm_backward(const void* x, int xt, const void* scale, int gt, const float* mean,
                                                    const float* var, const float* dy, float* dx, i64 rows, int d, float eps) {
    __shared__ float buf[32];
    ROW_STRIDE(r, rows) {
        i64 base = r * d;
        float mu = mean[r], rstd = rsqrtf(var[r] + eps);
        float a = 0.f, b = 0.f;
        for (int i = threadIdx.x; i < d; i += blockDim.x) {
            float xhat = (ld(x, xt, base + i) - mu) * rstd;
            float dn = dy[base + i] * ld(scale, gt, i);
            a += dn;
            b += dn * xhat;
        }
        float meanD = block_sum(a, buf) / d;
        float meanDX = block_sum(b, buf) / d;
        for (int i = threadIdx.x; i < d; i += blockDim.x) {
            float xhat = (ld(x, xt, base + i) - mu) * rstd;
            float dn = dy[base + i] * ld(scale, gt, i);
            dx[base + i] = rstd * (dn - meanD - xhat * meanDX);
        }
    }
}

// dscale[j] = sum_r dy[r,j] * xhat[r,j], dbias[j] = sum_r dy[r,j]: one thread per column,
// rows in order (deterministic). Either output may be null.
extern "C" __global__ void lit4j_layernorm_backward_params(const void* x, int xt, const float* mean, const float* var,
                                                           const float* dy, float* dscale, float* dbias, i64 rows, int d,
                                                           float eps) {
    GRID_STRIDE(j, (i64) d) {
        float gs = 0.f, gb = 0.f;
        for (i64 r = 0; r < rows; r++) {
            float g = dy[r * d + j];
            float xhat = (ld(x, xt, r * d + j) - mean[r]) * rsqrtf(var[r] + eps);
            gs += g * xhat;
            gb += g;
        }
        if (dscale) dscale[j] = gs;
        if (dbias) dbias[j] = gb;
    }
}

// ------------------------------------------------------------------------------ softmax

// One block per row of x[rows,c]: y = softmax(alpha * x + mask) where, when keyMask is not null,
// key j of row r is masked (-inf) if keyMask[(r / rowsPerBatch) * c + j] == 0 (attention scores
// [B,H,T,T]: rowsPerBatch = H*T), and with `causal` (square scores, c = T) key j of query
// i = r % c is masked when j > i. A row with every key masked becomes zeros.
#define KEEP(j) ((!mrow || mrow[j] != 0.f) && (!causal || (j) <= q))
extern "C" __global__ void lit4j_softmax(const void* x, int xt, void* y, int yt, i64 rows, int c, float alpha,
                                         const float* keyMask, i64 rowsPerBatch, int causal) {
    __shared__ float buf[32];
    ROW_STRIDE(r, rows) {
        i64 base = r * c;
        const float* mrow = keyMask ? keyMask + (r / rowsPerBatch) * c : 0;
        int q = (int) (r % c);
        float mx = -INFINITY;
        for (int i = threadIdx.x; i < c; i += blockDim.x) {
            if (KEEP(i)) mx = fmaxf(mx, alpha * ld(x, xt, base + i));
        }
        mx = block_max(mx, buf);
        if (mx == -INFINITY) {
            for (int i = threadIdx.x; i < c; i += blockDim.x) st(y, yt, base + i, 0.f);
            continue; // uniform across the block: every thread saw the same mx
        }
        float s = 0.f;
        for (int i = threadIdx.x; i < c; i += blockDim.x) {
            if (KEEP(i)) s += expf(alpha * ld(x, xt, base + i) - mx);
        }
        float inv = 1.f / block_sum(s, buf);
        for (int i = threadIdx.x; i < c; i += blockDim.x) {
            float e = KEEP(i) ? expf(alpha * ld(x, xt, base + i) - mx) * inv : 0.f;
            st(y, yt, base + i, e);
        }
    }
}
#undef KEEP

// dx = alpha * y * (dy - sum(dy * y)) row-wise (alpha = 1 for softmaxBackward, 1/sqrt(dh) for
// attention's scores).
extern "C" __global__ void lit4j_softmax_backward(const void* y, int yt, const void* dy, int dyt, void* dx, int dxt,
                                                  i64 rows, int c, float alpha) {
    __shared__ float buf[32];
    ROW_STRIDE(r, rows) {
        i64 base = r * c;
        float s = 0.f;
        for (int i = threadIdx.x; i < c; i += blockDim.x) s += ld(y, yt, base + i) * ld(dy, dyt, base + i);
        float dot = block_sum(s, buf);
        for (int i = threadIdx.x; i < c; i += blockDim.x) {
            float yv = ld(y, yt, base + i);
            st(dx, dxt, base + i, alpha * yv * (ld(dy, dyt, base + i) - dot));
        }
    }
}

// ------------------------------------------------------------------------------ attention's head layout

// src[B,T,count*D] (count 3: q, k, v side by side, each head-major; count 1: one [B,T,D]) to
// heads[count,B,H,T,dh], contiguous per head: what a uniformly strided batched GEMM needs.
extern "C" __global__ void lit4j_split_heads(const void* src, int srct, void* heads, int ht, int count, int b, int t, int h,
                                             int dh) {
    i64 d = (i64) h * dh, n = (i64) count * b * t * d;
    GRID_STRIDE(i, n) {
        // i indexes heads[s, nb, hd, tok, c]
        i64 c = i % dh, rest = i / dh;
        i64 tok = rest % t; rest /= t;
        i64 hd = rest % h; rest /= h;
        i64 nb = rest % b;
        i64 s = rest / b;
        st(heads, ht, i, ld(src, srct, (nb * t + tok) * count * d + s * d + hd * dh + c));
    }
}

// The inverse for `count` blocks of heads: heads[count,B,H,T,dh] back to out[B,T,count*D]
// (count 1: the attention output [B,T,D]; count 3: dqkv[B,T,3D]).
extern "C" __global__ void lit4j_merge_heads(const void* heads, int ht, void* out, int ot, int count, int b, int t, int h,
                                             int dh) {
    i64 d = (i64) h * dh, n = (i64) count * b * t * d;
    GRID_STRIDE(i, n) {
        i64 c = i % dh, rest = i / dh;
        i64 tok = rest % t; rest /= t;
        i64 hd = rest % h; rest /= h;
        i64 nb = rest % b;
        i64 s = rest / b;
        st(out, ot, (nb * t + tok) * count * d + s * d + hd * dh + c, ld(heads, ht, i));
    }
}

// ------------------------------------------------------------------------------ data movement

// out[i, :] = table[ids[i], :]. An id outside [0, v) leaves its row zero and records the first
// bad position + 1 in *bad (atomicMin over positions; *bad starts at INT_MAX: no bad id).
extern "C" __global__ void lit4j_embedding(const int* ids, const void* table, void* out, int esize, i64 count, int d, int v,
                                           int* bad) {
    i64 n = count * d;
    GRID_STRIDE(i, n) {
        i64 row = i / d, j = i % d;
        int id = ids[row];
        if (id < 0 || id >= v) {
            if (j == 0) atomicMin(bad, (int) row);
            if (esize == 4) ((float*) out)[i] = 0.f; else ((unsigned short*) out)[i] = 0;
            continue;
        }
        if (esize == 4) ((float*) out)[i] = ((const float*) table)[(i64) id * d + j];
        else ((unsigned short*) out)[i] = ((const unsigned short*) table)[(i64) id * d + j];
    }
}

// dtable[ids[i], :] += dout[i, :] (fp32 atomics: the order of additions into one row varies
// from run to run, so repeated ids give results equal to a few ulps, not bit for bit). dtable
// is zeroed by the caller; bad ids were reported by the forward and are skipped here.
extern "C" __global__ void lit4j_embedding_backward(const int* ids, const float* dout, float* dtable, i64 count, int d, int v) {
    i64 n = count * d;
    GRID_STRIDE(i, n) {
        int id = ids[i / d];
        if (id >= 0 && id < v) atomicAdd(dtable + (i64) id * d + i % d, dout[i]);
    }
}

// NHWC images[B,H,W,C] to out[B, (H/p)(W/p), p*p*C], patches row-major, each (row, col, channel).
extern "C" __global__ void lit4j_patchify(const void* images, void* out, int esize, int b, int h, int w, int c, int p) {
    int gw = w / p, gh = h / p;
    i64 per = (i64) p * p * c, n = (i64) b * gh * gw * per;
    GRID_STRIDE(i, n) {
        i64 e = i % per, patchIdx = i / per;
        int ch = (int) (e % c), col = (int) ((e / c) % p), row = (int) (e / ((i64) c * p));
        i64 px = patchIdx % gw, py = (patchIdx / gw) % gh, nb = patchIdx / ((i64) gw * gh);
        i64 src = (((nb * h + py * p + row) * w) + px * p + col) * c + ch;
        if (esize == 4) ((float*) out)[i] = ((const float*) images)[src];
        else ((unsigned short*) out)[i] = ((const unsigned short*) images)[src];
    }
}

// out[B,1+T,D] = concat(token[D], x[B,T,D]) on the token axis (all one dtype of `esize` bytes).
extern "C" __global__ void lit4j_prepend_token(const void* token, const void* x, void* out, int esize, int b, int t, int d) {
    i64 n = (i64) b * (t + 1) * d;
    GRID_STRIDE(i, n) {
        i64 j = i % d, tok = (i / d) % (t + 1), nb = i / ((i64) d * (t + 1));
        i64 src = (nb * t + tok - 1) * d + j;
        if (esize == 4) ((float*) out)[i] = tok == 0 ? ((const float*) token)[j] : ((const float*) x)[src];
        else ((unsigned short*) out)[i] = tok == 0 ? ((const unsigned short*) token)[j] : ((const unsigned short*) x)[src];
    }
}

// dtoken[j] = sum_b dout[b,0,j]; dx[b,t,j] = dout[b,1+t,j] (fp32). dtoken may be null. The
// loop covers max(B*T*D, D) so dtoken is written even when T = 0.
extern "C" __global__ void lit4j_prepend_token_backward(const float* dout, float* dtoken, float* dx, int b, int t, int d) {
    i64 n = (i64) b * t * d, all = n > d ? n : d;
    GRID_STRIDE(i, all) {
        if (i < n) {
            i64 j = i % d, tok = (i / d) % t, nb = i / ((i64) d * t);
            dx[i] = dout[(nb * (t + 1) + tok + 1) * d + j];
        }
        if (dtoken && i < d) {
            float s = 0.f;
            for (int q = 0; q < b; q++) s += dout[(i64) q * (t + 1) * d + i];
            dtoken[i] = s;
        }
    }
}

// out[B,D] from x[B,T,D]: mode 0 token 0, 1 the last token, 2 the mean of tokens [from, T) (CudaBackend.poolCode).
extern "C" __global__ void lit4j_pool(const void* x, int xt, void* out, int ot, int b, int t, int d, int mode, int from) {
    i64 n = (i64) b * d;
    GRID_STRIDE(i, n) {
        i64 j = i % d, nb = i / d;
        float v;
        if (mode == 2) {
            float s = 0.f;
            for (int q = from; q < t; q++) s += ld(x, xt, (nb * t + q) * d + j);
            v = s / (t - from);
        } else {
            v = ld(x, xt, (nb * t + (mode == 0 ? 0 : t - 1)) * d + j);
        }
        st(out, ot, i, v);
    }
}

// dx[B,T,D] (fp32): dout put back where pool read it, zero elsewhere.
extern "C" __global__ void lit4j_pool_backward(const float* dout, float* dx, int b, int t, int d, int mode, int from) {
    i64 n = (i64) b * t * d;
    GRID_STRIDE(i, n) {
        i64 j = i % d, tok = (i / d) % t, nb = i / ((i64) d * t);
        float g = dout[nb * d + j], v = 0.f;
        if (mode == 2) v = tok >= from ? g / (t - from) : 0.f;
        else if (tok == (mode == 0 ? 0 : t - 1)) v = g;
        dx[i] = v;
    }
}

// db[j] = sum_i dy[j + i*bn]: the backward of a broadcast add (one thread per output, in order).
extern "C" __global__ void lit4j_sum_to_shape(const void* dy, int dyt, void* db, int dbt, i64 n, i64 bn) {
    GRID_STRIDE(j, bn) {
        float s = 0.f;
        for (i64 i = j; i < n; i += bn) s += ld(dy, dyt, i);
        st(db, dbt, j, s);
    }
}

// ------------------------------------------------------------------------------ L2 normalisation

// y = x / (|x| + 1e-8) row-wise, one block per row; norms[rows] (fp32) may be null.
extern "C" __global__ void lit4j_l2_normalize(const void* x, int xt, void* y, int yt, float* norms, i64 rows, int c) {
    __shared__ float buf[32];
    ROW_STRIDE(r, rows) {
        i64 base = r * c;
        float s = 0.f;
        for (int i = threadIdx.x; i < c; i += blockDim.x) {
            float v = ld(x, xt, base + i);
            s += v * v;
        }
        float nrm = sqrtf(block_sum(s, buf));
        float inv = 1.f / (nrm + 1e-8f);
        for (int i = threadIdx.x; i < c; i += blockDim.x) st(y, yt, base + i, ld(x, xt, base + i) * inv);
        if (norms && threadIdx.x == 0) norms[r] = nrm;
    }
}

// dx = dy / (n + e) - x (x.dy) / (n (n + e)^2), e = 1e-8; zero correction for a zero row.
extern "C" __global__ void lit4j_l2_normalize_backward(const void* x, int xt, const float* norms, const float* dy, float* dx,
                                                       i64 rows, int c) {
    __shared__ float buf[32];
    ROW_STRIDE(r, rows) {
        i64 base = r * c;
        float s = 0.f;
        for (int i = threadIdx.x; i < c; i += blockDim.x) s += ld(x, xt, base + i) * dy[base + i];
        float dot = block_sum(s, buf);
        float n = norms[r], ne = n + 1e-8f;
        float k = n > 0.f ? dot / (n * ne * ne) : 0.f;
        for (int i = threadIdx.x; i < c; i += blockDim.x) dx[base + i] = dy[base + i] / ne - ld(x, xt, base + i) * k;
    }
}

// ------------------------------------------------------------------------------ reductions for losses and clipping

// *out += sum t[i]^2 in double (one double atomic per block; *out zeroed by the caller).
extern "C" __global__ void lit4j_sum_of_squares(const void* t, int tt, i64 n, double* out) {
    __shared__ double buf[32];
    double s = 0.0;
    GRID_STRIDE(i, n) {
        double v = ld(t, tt, i);
        s += v * v;
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) buf[warp] = s;
    __syncthreads();
    if (warp == 0) {
        double r = lane < warps ? buf[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) r += __shfl_xor_sync(0xffffffffu, r, o);
        if (lane == 0) atomicAdd(out, r);
    }
}

// The contrastive losses' row pieces over logits[rows,c] (fp32): lse[r] = log sum_j exp(x[r,j]),
// one block per row (the softmax cross-entropy's log-sum-exp; the sigmoid loss uses softplus,
// lit4j_softplus_sum below). A column log-sum-exp is this kernel over the transposed logits.
extern "C" __global__ void lit4j_row_logsumexp(const float* x, float* lse, i64 rows, int c) {
    __shared__ float buf[32];
    ROW_STRIDE(r, rows) {
        i64 base = r * c;
        float mx = -INFINITY;
        for (int i = threadIdx.x; i < c; i += blockDim.x) mx = fmaxf(mx, x[base + i]);
        mx = block_max(mx, buf);
        float s = 0.f;
        for (int i = threadIdx.x; i < c; i += blockDim.x) s += expf(x[base + i] - mx);
        s = block_sum(s, buf);
        if (threadIdx.x == 0) lse[r] = mx + logf(s);
    }
}

// The sigmoid loss's pieces (SigLIP): for logits z[n,n] and labels +1 on the diagonal, -1 off it,
// loss[r] = sum_j softplus(-label * z[r,j]) and dz[r,j] = -label * sigmoid(-label * z[r,j]).
extern "C" __global__ void lit4j_sigmoid_loss_rows(const float* z, float* loss, float* dz, int n) {
    __shared__ float buf[32];
    ROW_STRIDE(r, (i64) n) {
        float s = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            float lab = j == r ? 1.f : -1.f;
            float u = -lab * z[r * n + j];
            float sp = fmaxf(u, 0.f) + log1pf(expf(-fabsf(u))); // softplus(u), stable
            s += sp;
            if (dz) dz[r * n + j] = -lab / (1.f + expf(-u));
        }
        s = block_sum(s, buf);
        if (threadIdx.x == 0) loss[r] = s;
    }
}

// ------------------------------------------------------------------------------ AdamW

// torch.optim.AdamW (decoupled decay first, bias-corrected moments), fp32 param/grad/m/v.
// c1 = 1 - beta1^t, c2 = 1 - beta2^t (computed on the host in double).
extern "C" __global__ void lit4j_adamw(float* p, const float* g, float* m, float* v, i64 n, float lr, float beta1, float beta2,
                                       float eps, float wd, float c1, float c2) {
    GRID_STRIDE(i, n) {
        float gi = g[i];
        float pi = p[i] * (1.f - lr * wd);
        float mi = beta1 * m[i] + (1.f - beta1) * gi;
        float vi = beta2 * v[i] + (1.f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - lr * (mi / c1) / (sqrtf(vi / c2) + eps);
    }
}
