package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.Gelu;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

import static io.lit4j.Assertions2.assertClose;
import static io.lit4j.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whether oneDNN's results depend on the OpenMP team they run on ({@link OneDnnBackend#useThreads}):
 * each op the towers' inference uses, on random data at odd sizes and at the default towers'
 * shapes, run on the whole team and on smaller ones, gives the same bits. They can differ: beneath
 * a tiny output a long reduction is split over the threads (oneDNN 3.13, avx512, 1x16384x16 at 2
 * and 8 threads), and the sums' order, so the last bits, follow the team; those shapes are held to
 * a tolerance only. The batcher therefore checks a batch size before it runs it on one thread.
 */
class TeamSizeTest {
    /** Rows, K and M of the linears: odd sizes and the default towers' shapes (text 24 rows a text, image 65, patches of 48). */
    static final int[][] LINEARS = {{1, 3, 5}, {3, 4099, 17}, {24, 128, 384}, {24, 384, 128}, {48, 128, 128}, {65, 48, 128},
            {197, 1000, 33}, {1536, 128, 384}};
    /** A long K beneath a tiny output: where oneDNN may split the reduction over the threads. */
    static final int[][] LONG_REDUCTIONS = {{1, 16384, 16}, {2, 8191, 3}};

    @ParameterizedTest
    @ValueSource(ints = {2, 8})
    void everyOpGivesTheSameBitsOnASmallerTeam(int threads) {
        try (OneDnnBackend be = new OneDnnBackend(threads)) {
            List<Integer> teams = threads == 2 ? List.of(1) : List.of(1, 3);
            for (int[] s : LINEARS) {
                for (DType precision : new DType[] {DType.F32, DType.BF16}) {
                    for (Epilogue epi : new Epilogue[] {Epilogue.NONE, Epilogue.GELU_TANH}) {
                        same(be, teams, "packed " + precision + " linear " + s[0] + "x" + s[1] + "x" + s[2] + " " + epi,
                                (b, a) -> linear(b, a, s[0], s[1], s[2], precision, epi, true));
                    }
                }
                same(be, teams, "plain linear " + s[0] + "x" + s[1] + "x" + s[2],
                        (b, a) -> linear(b, a, s[0], s[1], s[2], DType.F32, Epilogue.NONE, false));
            }
            for (int[] s : LONG_REDUCTIONS) {
                float[] full;
                try (TensorArena a = be.newArena()) {
                    full = linear(be, a, s[0], s[1], s[2], DType.F32, Epilogue.NONE, true);
                }
                be.useThreads(1);
                try (TensorArena a = be.newArena()) {
                    assertClose("packed linear " + s[0] + "x" + s[1] + "x" + s[2] + " on one thread", full,
                            linear(be, a, s[0], s[1], s[2], DType.F32, Epilogue.NONE, true), 1e-6 * Math.sqrt(s[1]));
                } finally {
                    be.useThreads(threads);
                }
            }
            for (int[] m : new int[][] {{5, 17, 197, 3}, {12, 24, 32, 24}, {1, 3, 4099, 7}}) {
                same(be, teams, "matmul " + m[0] + "x" + m[1] + "x" + m[2] + "x" + m[3], (b, a) -> {
                    Tensor x = upload(b, a, new Random(3), m[0], m[1], m[2]), y = upload(b, a, new Random(4), m[0], m[3], m[2]);
                    Tensor c = a.allocate(DType.F32, m[0], m[1], m[3]);
                    b.matmul(x, false, y, true, c, 0.37f);
                    return b.download(c);
                });
            }
            for (int[] r : new int[][] {{1, 128}, {24, 128}, {197, 1000}, {3, 4099}}) {
                same(be, teams, "layerNorm " + r[0] + "x" + r[1], (b, a) -> {
                    Tensor x = upload(b, a, new Random(5), r[0], r[1]), g = upload(b, a, new Random(6), r[1]), bias = upload(b, a, new Random(7), r[1]);
                    Tensor y = a.allocate(DType.F32, r[0], r[1]);
                    b.layerNorm(x, g, bias, 1e-6f, y, null, null);
                    return b.download(y);
                });
                same(be, teams, "softmax, gelu and add " + r[0] + "x" + r[1], (b, a) -> {
                    Tensor x = upload(b, a, new Random(8), r[0], r[1]), bias = upload(b, a, new Random(9), r[1]);
                    Tensor y = a.allocate(DType.F32, r[0], r[1]), z = a.allocate(DType.F32, r[0], r[1]), w = a.allocate(DType.F32, r[0], r[1]);
                    b.softmax(x, y);
                    b.gelu(x, z, Gelu.ERF);
                    b.add(z, bias, w);
                    float[] out = new float[3 * r[0] * r[1]];
                    System.arraycopy(b.download(y), 0, out, 0, r[0] * r[1]);
                    System.arraycopy(b.download(z), 0, out, r[0] * r[1], r[0] * r[1]);
                    System.arraycopy(b.download(w), 0, out, 2 * r[0] * r[1], r[0] * r[1]);
                    return out;
                });
            }
            for (int[] t : new int[][] {{1, 24, 128, 4}, {3, 17, 36, 3}, {7, 65, 128, 4}}) {
                same(be, teams, "attention B=" + t[0] + " T=" + t[1] + " D=" + t[2], (b, a) -> {
                    Tensor qkv = upload(b, a, new Random(10), t[0], t[1], 3 * t[2]);
                    float[] keep = new float[t[0] * t[1]];
                    Random r = new Random(11);
                    for (int i = 0; i < keep.length; i++) {
                        keep[i] = i % t[1] == 0 || r.nextFloat() < 0.7f ? 1f : 0f;
                    }
                    Tensor mask = a.allocate(DType.F32, t[0], t[1]);
                    b.upload(keep, mask);
                    Tensor p = a.allocate(DType.F32, t[0], t[3], t[1], t[1]), o = a.allocate(DType.F32, t[0], t[1], t[2]);
                    b.attention(qkv, mask, false, t[3], p, o);
                    return b.download(o);
                });
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void theTeamIsTheCallingThreadsAndWithinTheBackendsThreads(int threads) throws Exception {
        try (OneDnnBackend be = new OneDnnBackend(threads)) {
            be.useThreads(1);
            assertTrue(be.describe().get(1).contains("oneDNN threads (OpenMP): 1,"), be.describe().toString());
            String[] other = new String[1];
            Thread t = Thread.ofPlatform().start(() -> other[0] = be.describe().get(1));
            t.join();
            assertTrue(other[0].contains("oneDNN threads (OpenMP): " + threads + ","), other[0]);
            be.useThreads(threads);
            assertTrue(be.describe().get(1).contains("oneDNN threads (OpenMP): " + threads + ","), be.describe().toString());
            for (int bad : new int[] {0, threads + 1}) {
                LitException e = assertThrows(LitException.class, () -> be.useThreads(bad));
                assertTrue(e.getMessage().contains("team of " + bad + " threads") && e.getMessage().contains("1 to " + threads), e.getMessage());
            }
            be.releaseThread();
        }
    }

    /** {@code op}'s result on the whole team, then on each of {@code teams}: the same bits. */
    private static void same(OneDnnBackend be, List<Integer> teams, String what, BiFunction<OneDnnBackend, TensorArena, float[]> op) {
        float[] full;
        try (TensorArena a = be.newArena()) {
            full = op.apply(be, a);
        }
        for (int team : teams) {
            be.useThreads(team);
            try (TensorArena a = be.newArena()) {
                assertArrayEquals(full, op.apply(be, a), what + ": a team of " + team + " of " + be.threads());
            } finally {
                be.useThreads(be.threads());
            }
        }
    }

    private static float[] linear(OneDnnBackend be, TensorArena a, int n, int k, int m, DType precision, Epilogue epi, boolean packed) {
        Tensor x = upload(be, a, new Random(1), n, k), w = upload(be, a, new Random(2), k, m), bias = upload(be, a, new Random(12), m);
        Tensor y = a.allocate(DType.F32, n, m);
        be.linear(x, packed ? be.packWeights(w, precision, a) : w, bias, y, epi);
        return be.download(y);
    }

    private static Tensor upload(OneDnnBackend be, TensorArena a, Random r, int... shape) {
        Tensor t = a.allocate(DType.F32, shape);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        be.upload(random(r, n, 1f), t);
        return t;
    }
}
