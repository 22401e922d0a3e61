package io.lit4j.backend;

import io.lit4j.LitException;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Floats;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static io.lit4j.Assertions2.assertClose;
import static io.lit4j.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every arithmetic op, oneDNN against the scalar oracle, on random data over odd sizes. The
 * tolerance grows with the reduction length (fp32 rounding accumulates like sqrt(k)).
 */
class BackendEquivalenceTest {
    static final int[] SIZES = {1, 3, 17, 197, 1000, 4099};

    @AutoClose
    static final ScalarBackend scalar = new ScalarBackend();
    @AutoClose
    static final Backend fast = UnderTest.open();

    @BeforeAll
    static void theBackendUnderTestCanRun() {
        UnderTest.assumeAvailable();
    }

    static double tol(int k) {
        return 2e-6 * Math.max(1, Math.sqrt(k));
    }

    /** Runs {@code op} on both backends with the same inputs; returns {scalar result, fast result}. */
    static float[][] both(int[][] inShapes, float[][] inputs, int[] outShape, float[] outInit, OpRunner op) {
        float[][] results = new float[2][];
        Backend[] bes = {scalar, fast};
        for (int i = 0; i < 2; i++) {
            Backend be = bes[i];
            try (TensorArena a = be.newArena()) {
                Tensor[] in = new Tensor[inputs.length];
                for (int j = 0; j < inputs.length; j++) {
                    in[j] = a.allocate(DType.F32, inShapes[j]);
                    be.upload(inputs[j], in[j]);
                }
                Tensor out = a.allocate(DType.F32, outShape);
                if (outInit != null) {
                    be.upload(outInit, out);
                }
                op.run(be, a, in, out);
                results[i] = be.download(out);
            }
        }
        return results;
    }

    interface OpRunner {
        void run(Backend be, TensorArena a, Tensor[] in, Tensor out);
    }

    static void check(String what, float[][] r, double tol) {
        assertClose(what + " (" + UnderTest.NAME + " vs scalar)", r[0], r[1], tol);
    }

    @ParameterizedTest
    @EnumSource(Epilogue.class)
    void linearOverOddSizes(Epilogue epi) {
        Random rnd = new Random(11 + epi.ordinal());
        for (int s : SIZES) {
            linearCase(rnd, s, 17, 33, epi, true);   // rows
            linearCase(rnd, 3, s, 5, epi, true);     // reduction length
            linearCase(rnd, 3, 7, s, epi, s % 2 == 1); // output features, with and without bias
        }
    }

    static void linearCase(Random rnd, int n, int k, int m, Epilogue epi, boolean bias) {
        float[] x = random(rnd, n * k, 1f), w = random(rnd, k * m, 1f), b = random(rnd, m, 1f), y0 = random(rnd, n * m, 1f);
        float[][] r = bias
                ? both(new int[][] {{n, k}, {k, m}, {m}}, new float[][] {x, w, b}, new int[] {n, m}, y0,
                        (be, a, in, out) -> be.linear(in[0], in[1], in[2], out, epi))
                : both(new int[][] {{n, k}, {k, m}}, new float[][] {x, w}, new int[] {n, m}, y0,
                        (be, a, in, out) -> be.linear(in[0], in[1], null, out, epi));
        check("linear " + epi + " n=" + n + " k=" + k + " m=" + m, r, tol(k));
    }

    @Test
    void batchedAndTransposedMatmul() {
        Random rnd = new Random(5);
        int[][] cases = {{3, 1, 1, 1}, {3, 17, 3, 5}, {2, 5, 197, 3}, {4, 7, 3, 1000}, {1, 197, 64, 197}};
        for (int[] c : cases) {
            int batch = c[0], m = c[1], k = c[2], n = c[3];
            for (int flags = 0; flags < 4; flags++) {
                boolean ta = (flags & 1) != 0, tb = (flags & 2) != 0;
                for (boolean broadcastB : new boolean[] {false, true}) {
                    int bb = broadcastB ? 1 : batch;
                    int[] aShape = ta ? new int[] {batch, k, m} : new int[] {batch, m, k};
                    int[] bShape = tb ? new int[] {bb, n, k} : new int[] {bb, k, n};
                    float alpha = 0.37f;
                    float[][] r = both(new int[][] {aShape, bShape},
                            new float[][] {random(rnd, batch * m * k, 1f), random(rnd, bb * k * n, 1f)}, new int[] {batch, m, n}, null,
                            (be, a, in, out) -> be.matmul(in[0], ta, in[1], tb, out, alpha));
                    check("matmul " + java.util.Arrays.toString(c) + " ta=" + ta + " tb=" + tb + " bcastB=" + broadcastB, r, tol(k));
                }
            }
        }
    }

    @Test
    void addBroadcastsTrailingShape() {
        Random rnd = new Random(7);
        for (int s : SIZES) {
            float[] a = random(rnd, 3 * s, 1f), b = random(rnd, s, 1f), full = random(rnd, 3 * s, 1f);
            check("add bias " + s, both(new int[][] {{3, s}, {s}}, new float[][] {a, b}, new int[] {3, s}, null,
                    (be, ar, in, out) -> be.add(in[0], in[1], out)), 1e-7);
            check("add same " + s, both(new int[][] {{3, s}, {3, s}}, new float[][] {a, full}, new int[] {3, s}, null,
                    (be, ar, in, out) -> be.add(in[0], in[1], out)), 1e-7);
        }
    }

    @Test
    void layerNormOverOddSizes() {
        Random rnd = new Random(13);
        for (int s : SIZES) {
            layerNormCase(rnd, 5, s);
            layerNormCase(rnd, s, 17);
        }
    }

    static void layerNormCase(Random rnd, int rows, int d) {
        // an offset of 3 makes cancellation visible if a backend computed E[x^2] - E[x]^2
        float[] x = random(rnd, rows * d, 1f);
        for (int i = 0; i < x.length; i++) {
            x[i] += 3f;
        }
        float[] g = random(rnd, d, 1f), b = random(rnd, d, 1f);
        for (boolean stats : new boolean[] {false, true}) {
            float[][] y = new float[2][];
            float[][] m = new float[2][];
            float[][] rs = new float[2][];
            Backend[] bes = {scalar, fast};
            for (int i = 0; i < 2; i++) {
                Backend be = bes[i];
                try (TensorArena a = be.newArena()) {
                    Tensor xt = a.allocate(DType.F32, rows, d), gt = a.allocate(DType.F32, d), bt = a.allocate(DType.F32, d);
                    Tensor yt = a.allocate(DType.F32, rows, d);
                    Tensor mt = stats ? a.allocate(DType.F32, rows) : null, rt = stats ? a.allocate(DType.F32, rows) : null;
                    be.upload(x, xt);
                    be.upload(g, gt);
                    be.upload(b, bt);
                    be.layerNorm(xt, gt, bt, 1e-6f, yt, mt, rt);
                    y[i] = be.download(yt);
                    if (stats) {
                        m[i] = be.download(mt);
                        rs[i] = be.download(rt);
                    }
                }
            }
            check("layerNorm rows=" + rows + " d=" + d + " stats=" + stats, y, tol(d) * 2);
            if (stats) {
                check("layerNorm mean rows=" + rows + " d=" + d, m, tol(d));
                check("layerNorm variance rows=" + rows + " d=" + d, rs, tol(d) * 2);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Gelu.class)
    void geluOverOddSizes(Gelu kind) {
        Random rnd = new Random(17);
        for (int s : SIZES) {
            float[] x = random(rnd, s, 6f);
            check("gelu " + kind + " n=" + s, both(new int[][] {{s}}, new float[][] {x}, new int[] {s}, null,
                    (be, a, in, out) -> be.gelu(in[0], out, kind)), 2e-6);
        }
    }

    @Test
    void softmaxOverOddSizes() {
        Random rnd = new Random(19);
        for (int s : SIZES) {
            check("softmax cols=" + s, both(new int[][] {{3, s}}, new float[][] {random(rnd, 3 * s, 20f)}, new int[] {3, s}, null,
                    (be, a, in, out) -> be.softmax(in[0], out)), 2e-6);
            check("softmax rows=" + s, both(new int[][] {{s, 17}}, new float[][] {random(rnd, 17 * s, 20f)}, new int[] {s, 17}, null,
                    (be, a, in, out) -> be.softmax(in[0], out)), 2e-6);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17, 197})
    void attentionWithAndWithoutMask(int t) {
        Random rnd = new Random(23 + t);
        int b = 2, d = 24, h = 3;
        float[] qkv = random(rnd, b * t * 3 * d, 2f);
        float[] mask = new float[b * t];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = (i % t == 0 || rnd.nextFloat() < 0.7f) ? 1f : 0f; // keep at least one key per row
        }
        for (int variant = 0; variant < 4; variant++) { // padding mask: off/on, causal: off/on
            boolean masked = (variant & 1) != 0, causal = (variant & 2) != 0;
            float[][] outs = new float[2][];
            float[][] probs = new float[2][];
            Backend[] bes = {scalar, fast};
            for (int i = 0; i < 2; i++) {
                Backend be = bes[i];
                try (TensorArena a = be.newArena()) {
                    Tensor q = a.allocate(DType.F32, b, t, 3 * d);
                    be.upload(qkv, q);
                    Tensor m = null;
                    if (masked) {
                        m = a.allocate(DType.F32, b, t);
                        be.upload(mask, m);
                    }
                    Tensor p = a.allocate(DType.F32, b, h, t, t), o = a.allocate(DType.F32, b, t, d);
                    be.attention(q, m, causal, h, p, o);
                    outs[i] = be.download(o);
                    probs[i] = be.download(p);
                }
            }
            String what = "attention T=" + t + " masked=" + masked + " causal=" + causal;
            check(what, outs, tol(t * d));
            check(what + " probs", probs, tol(d));
            if (causal) { // a query never sees a later key: exactly zero weight, and the first query sees only key 0
                for (int row = 0; row < b * h * t; row++) {
                    for (int j = row % t + 1; j < t; j++) {
                        assertEquals(0f, probs[1][row * t + j], what + ": weight of a later key");
                    }
                }
                if (!masked) {
                    assertEquals(1f, probs[1][0], 1e-6f, what + ": query 0 sees only key 0");
                }
            }
            if (masked) { // masked keys get exactly zero weight
                for (int n = 0; n < b; n++) {
                    for (int j = 0; j < t; j++) {
                        if (mask[n * t + j] == 0f) {
                            assertEquals(0f, probs[1][((n * h) * t) * t + j], "masked key weight");
                        }
                    }
                }
            }
        }
    }

    @Test
    void attentionRowWithEveryKeyMaskedIsZero() {
        for (Backend be : new Backend[] {scalar, fast}) {
            try (TensorArena a = be.newArena()) {
                Tensor q = a.allocate(DType.F32, 1, 3, 12), m = a.allocate(DType.F32, 1, 3);
                be.upload(random(new Random(1), 36, 1f), q);
                Tensor p = a.allocate(DType.F32, 1, 2, 3, 3), o = a.allocate(DType.F32, 1, 3, 4);
                be.attention(q, m, 2, p, o);
                for (float v : be.download(o)) {
                    assertEquals(0f, v, be.name());
                }
            }
        }
    }

    @Test
    void l2NormalizeOverOddSizes() {
        Random rnd = new Random(29);
        for (int s : SIZES) {
            float[] x = random(rnd, 3 * s, 1f);
            float[][] r = new float[2][];
            float[][] norms = new float[2][];
            Backend[] bes = {scalar, fast};
            for (int i = 0; i < 2; i++) {
                try (TensorArena a = bes[i].newArena()) {
                    Tensor xt = a.allocate(DType.F32, 3, s), yt = a.allocate(DType.F32, 3, s), nt = a.allocate(DType.F32, 3);
                    bes[i].upload(x, xt);
                    bes[i].l2Normalize(xt, yt, nt);
                    r[i] = bes[i].download(yt);
                    norms[i] = bes[i].download(nt);
                }
            }
            check("l2Normalize " + s, r, tol(s));
            check("l2 norms " + s, norms, tol(s));
        }
    }

    @Test
    void shapeErrorsNameTheOpAndShapes() {
        for (Backend be : new Backend[] {scalar, fast}) {
            try (TensorArena a = be.newArena()) {
                Tensor x = a.allocate(DType.F32, 3, 5), w = a.allocate(DType.F32, 4, 6), y = a.allocate(DType.F32, 3, 6);
                LitException e = assertThrows(LitException.class, () -> be.linear(x, w, null, y, Epilogue.NONE));
                assertTrue(e.getMessage().contains("linear") && e.getMessage().contains("[3, 5]") && e.getMessage().contains("[4, 6]"),
                        e.getMessage());
                Tensor q = a.allocate(DType.F32, 2, 4, 30);
                LitException e2 = assertThrows(LitException.class,
                        () -> be.attention(q, null, 3, a.allocate(DType.F32, 2, 3, 4, 4), a.allocate(DType.F32, 2, 4, 10)));
                assertTrue(e2.getMessage().contains("attention"), e2.getMessage());
            }
        }
    }


    // ------------------------------------------------------------------ backward ops and the optimizer

    /** Runs {@code op} on both backends; each returns the host values of its outputs. */
    interface MultiRunner {
        float[][] run(Backend be, TensorArena a);
    }

    static void checkBoth(String what, MultiRunner op, double tol) {
        float[][] s, o;
        try (TensorArena a = scalar.newArena()) {
            s = op.run(scalar, a);
        }
        try (TensorArena a = fast.newArena()) {
            o = op.run(fast, a);
        }
        for (int i = 0; i < s.length; i++) {
            assertClose(what + " output " + i + " (" + UnderTest.NAME + " vs scalar)", s[i], o[i], tol);
        }
    }

    static Tensor put(Backend be, TensorArena a, float[] v, int... shape) {
        Tensor t = a.allocate(DType.F32, shape);
        be.upload(v, t);
        return t;
    }

    @Test
    void linearBackwardOverOddSizes() {
        Random rnd = new Random(31);
        for (int s : SIZES) {
            for (int[] c : new int[][] {{s, 17, 33}, {3, s, 5}, {3, 7, s}}) {
                int n = c[0], k = c[1], m = c[2];
                float[] x = random(rnd, n * k, 1f), w = random(rnd, k * m, 1f), g = random(rnd, n * m, 1f);
                checkBoth("linearBackward " + java.util.Arrays.toString(c), (be, a) -> {
                    Tensor dx = a.allocate(DType.F32, n, k), dw = a.allocate(DType.F32, k, m), db = a.allocate(DType.F32, m);
                    be.linearBackward(put(be, a, x, n, k), put(be, a, w, k, m), put(be, a, g, n, m), dx, dw, db);
                    return new float[][] {be.download(dx), be.download(dw), be.download(db)};
                }, tol(Math.max(n, Math.max(k, m))));
            }
        }
    }

    @Test
    void layerNormGeluSoftmaxBackwardOverOddSizes() {
        Random rnd = new Random(37);
        for (int s : SIZES) {
            int rows = 5;
            float[] x = random(rnd, rows * s, 2f), g = random(rnd, rows * s, 1f), sc = random(rnd, s, 1f), sh = random(rnd, s, 1f);
            checkBoth("layerNormBackward d=" + s, (be, a) -> {
                Tensor xt = put(be, a, x, rows, s), st = put(be, a, sc, s), y = a.allocate(DType.F32, rows, s);
                Tensor mean = a.allocate(DType.F32, rows), var = a.allocate(DType.F32, rows);
                be.layerNorm(xt, st, put(be, a, sh, s), 1e-6f, y, mean, var);
                Tensor dx = a.allocate(DType.F32, rows, s), ds = a.allocate(DType.F32, s), db = a.allocate(DType.F32, s);
                be.layerNormBackward(xt, st, mean, var, 1e-6f, put(be, a, g, rows, s), dx, ds, db);
                return new float[][] {be.download(dx), be.download(ds), be.download(db)};
            }, tol(s) * 4);
            checkBoth("layerNormBackward, frozen scale and shift, d=" + s, (be, a) -> { // no dscale, dbias: dx alone
                Tensor xt = put(be, a, x, rows, s), st = put(be, a, sc, s), y = a.allocate(DType.F32, rows, s);
                Tensor mean = a.allocate(DType.F32, rows), var = a.allocate(DType.F32, rows);
                be.layerNorm(xt, st, put(be, a, sh, s), 1e-6f, y, mean, var);
                Tensor dx = a.allocate(DType.F32, rows, s);
                be.layerNormBackward(xt, st, mean, var, 1e-6f, put(be, a, g, rows, s), dx, null, null);
                return new float[][] {be.download(dx)};
            }, tol(s) * 4);
            for (Gelu kind : Gelu.values()) {
                checkBoth("geluBackward " + kind + " n=" + s, (be, a) -> {
                    Tensor dx = a.allocate(DType.F32, rows, s);
                    be.geluBackward(put(be, a, x, rows, s), put(be, a, g, rows, s), dx, kind);
                    return new float[][] {be.download(dx)};
                }, 5e-6);
            }
            checkBoth("softmaxBackward cols=" + s, (be, a) -> {
                Tensor y = a.allocate(DType.F32, rows, s), dx = a.allocate(DType.F32, rows, s);
                be.softmax(put(be, a, x, rows, s), y);
                be.softmaxBackward(y, put(be, a, g, rows, s), dx);
                return new float[][] {be.download(dx)};
            }, tol(s) * 2);
            checkBoth("sumToShape cols=" + s, (be, a) -> {
                Tensor db = a.allocate(DType.F32, s);
                be.sumToShape(put(be, a, g, rows, s), db);
                return new float[][] {be.download(db)};
            }, tol(rows));
            if (s == 1) { // x/|x| of a scalar is its sign: the gradient is 0 up to rounding, nothing to compare
                continue;
            }
            checkBoth("l2NormalizeBackward cols=" + s, (be, a) -> {
                Tensor xt = put(be, a, x, rows, s), y = a.allocate(DType.F32, rows, s), nrm = a.allocate(DType.F32, rows);
                be.l2Normalize(xt, y, nrm);
                Tensor dx = a.allocate(DType.F32, rows, s);
                be.l2NormalizeBackward(xt, nrm, put(be, a, g, rows, s), dx);
                return new float[][] {be.download(dx)};
            }, tol(s) * 2);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17, 197})
    void attentionBackwardOverOddSizes(int t) {
        Random rnd = new Random(41 + t);
        int b = 2, d = 24, h = 3;
        float[] qkv = random(rnd, b * t * 3 * d, 2f), g = random(rnd, b * t * d, 1f);
        float[] mask = new float[b * t];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = i % t == 0 || rnd.nextFloat() < 0.7f ? 1f : 0f;
        }
        for (boolean causal : new boolean[] {false, true}) {
            checkBoth("attentionBackward T=" + t + " causal=" + causal, (be, a) -> {
                Tensor q = put(be, a, qkv, b, t, 3 * d), p = a.allocate(DType.F32, b, h, t, t), o = a.allocate(DType.F32, b, t, d);
                be.attention(q, put(be, a, mask, b, t), causal, h, p, o);
                Tensor dq = a.allocate(DType.F32, b, t, 3 * d), scratch = a.allocate(DType.F32, b, h, t, t);
                be.attentionBackward(q, p, h, put(be, a, g, b, t, d), dq, scratch);
                return new float[][] {be.download(dq)};
            }, tol(t * d) * 2);
        }
    }

    /** The norm's partial sums over several blocks (the parallel, fixed-block path) against the oracle's double sum. */
    @Test
    void sumOfSquaresOverManyBlocks() {
        Random rnd = new Random(53);
        int n = 3 * (1 << 18) + 4099;
        float[] x = random(rnd, n, 1f);
        checkBoth("sumOfSquares n=" + n, (be, a) -> {
            double ss = be.sumOfSquares(put(be, a, x, n));
            return new float[][] {{(float) (ss / n)}};
        }, 1e-6);
    }

    /**
     * AdamW as the optimizer calls it, on odd sizes: the plain update, then the fused one (the
     * clip's scale read with the gradient, the bf16 shadow written in the same pass) against the
     * oracle's twin (scale the gradient, update, copy to bf16): weights and moments as close as the
     * plain update, the shadow the bf16 rounding of the new weight (exactly the fast backend's own,
     * within one bf16 step of the oracle's), the gradient only read.
     */
    @Test
    void adamwAndNormsOverOddSizes() {
        Random rnd = new Random(43);
        for (int s : SIZES) {
            float[] p = random(rnd, s, 1f), g = random(rnd, s, 1f), m = random(rnd, s, 0.1f), v = random(rnd, s, 0.1f);
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.abs(v[i]);
            }
            AdamWStep step = new AdamWStep(1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 3);
            checkBoth("adamw n=" + s, (be, a) -> {
                Tensor pt = put(be, a, p, s), mt = put(be, a, m, s), vt = put(be, a, v, s), gt = put(be, a, g, s);
                be.adamw(pt, gt, mt, vt, step);
                be.scale(gt, 0.37f);
                return new float[][] {be.download(pt), be.download(mt), be.download(vt), be.download(gt),
                        {(float) be.sumOfSquares(gt)}};
            }, 3e-6);
            float[][][] got = new float[2][][];
            int[] which = {0};
            checkBoth("fused adamw n=" + s, (be, a) -> {
                Tensor pt = put(be, a, p, s), mt = put(be, a, m, s), vt = put(be, a, v, s), gt = put(be, a, g, s);
                Tensor sh = a.allocate(DType.BF16, s);
                be.adamw(pt, gt, 0.37f, mt, vt, sh, step);
                float[][] r = {be.download(pt), be.download(mt), be.download(vt), be.download(sh), be.download(gt)};
                got[which[0]++] = r;
                return new float[][] {r[0], r[1], r[2]};
            }, 3e-6);
            float[][] fast = got[1];
            for (int i = 0; i < s; i++) {
                float expected = Floats.bf16ToF32(Floats.f32ToBf16(fast[0][i]));
                assertEquals(expected, fast[3][i], 0f, "fused adamw n=" + s + ": shadow[" + i + "] is bf16(p)");
                assertEquals(got[0][3][i], fast[3][i], Math.abs(got[0][3][i]) * 0x1p-7f, "fused adamw n=" + s + ": shadow[" + i + "] vs oracle");
            }
            assertArrayEquals(g, fast[4], 0f, "fused adamw n=" + s + ": the gradient is only read");
        }
    }
}
