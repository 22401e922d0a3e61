package io.lit4j.bench;

import io.lit4j.backend.AdamWStep;
import io.lit4j.backend.Backend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Floats;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The optimizer's sweep alone, on {@code params} fp32 weights far larger than the caches: the
 * update with and without the bf16 shadow it writes in the same pass (issue 17 item 3). Bytes per
 * call: p, g, m, v read and p, m, v written (28 per weight), plus 2 per weight for the shadow; divide
 * by the score for GB/s and hold it against {@code Worker --stream-mb}'s copy. Setup first checks
 * the sweep, shadow included, against the scalar backend on an odd-sized slice.
 * Run: {@code bench/run-jmh.sh AdamWBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class AdamWBenchmark {
    /** Weights: 32 M is 128 MB per fp32 tensor, as many bytes per sweep as a 1/3.4 BERT-base. */
    @Param({"33554432"})
    public int params;

    @Param({"2"})
    public int threads;

    private OneDnnBackend be;
    private TensorArena arena;
    private Tensor p, g, m, v, shadow;
    private final AdamWStep step = new AdamWStep(1e-4f, 0.9f, 0.999f, 1e-8f, 1e-4f, 10);

    @Setup(Level.Trial)
    public void setUp() {
        be = new OneDnnBackend(threads);
        verify();
        arena = be.newArena();
        Random r = new Random(3);
        p = OpsBenchmark.filled(be, arena, r, params);
        g = OpsBenchmark.filled(be, arena, r, params);
        m = OpsBenchmark.filled(be, arena, r, params);
        v = arena.allocate(DType.F32, params);
        be.upload(squares(r, params), v);
        shadow = arena.allocate(DType.BF16, params);
    }

    /** Second moments: squares of uniform values, so never negative. */
    private static float[] squares(Random r, int n) {
        float[] v = OpsBenchmark.random(r, n);
        for (int i = 0; i < n; i++) {
            v[i] *= v[i];
        }
        return v;
    }

    /** An odd-sized sweep (several chunks and a ragged end) against the scalar backend; the shadow must be bf16 of the new weight. */
    private void verify() {
        int n = 3 * (1 << 15) + 1237;
        Random r = new Random(4);
        float[] ps = OpsBenchmark.random(r, n), gs = OpsBenchmark.random(r, n), ms = OpsBenchmark.random(r, n), vs = squares(r, n);
        float[][] weights = new float[2][], shadows = new float[2][];
        Backend[] bes = {new ScalarBackend(), be};
        for (int b = 0; b < 2; b++) {
            try (TensorArena a = bes[b].newArena()) {
                Tensor tp = a.allocate(DType.F32, n), tg = a.allocate(DType.F32, n), tm = a.allocate(DType.F32, n), tv = a.allocate(DType.F32, n);
                Tensor ts = a.allocate(DType.BF16, n);
                bes[b].upload(ps, tp);
                bes[b].upload(gs, tg);
                bes[b].upload(ms, tm);
                bes[b].upload(vs, tv);
                bes[b].adamw(tp, tg, 0.5f, tm, tv, ts, step);
                weights[b] = bes[b].download(tp);
                shadows[b] = bes[b].download(ts);
            }
        }
        for (int i = 0; i < n; i++) {
            if (Math.abs(weights[0][i] - weights[1][i]) > 1e-5 * (Math.abs(weights[0][i]) + 1e-3)) {
                throw new IllegalStateException("adamw weight " + i + ": oneDNN backend " + weights[1][i] + ", scalar " + weights[0][i]);
            }
            if (shadows[1][i] != Floats.bf16ToF32(Floats.f32ToBf16(weights[1][i]))) {
                throw new IllegalStateException("adamw shadow " + i + " is " + shadows[1][i] + ", not bf16 of the weight " + weights[1][i]);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        be.close();
    }

    @Benchmark
    public Tensor update() {
        be.adamw(p, g, 1f, m, v, null, step);
        return p;
    }

    @Benchmark
    public Tensor updateWithShadow() {
        be.adamw(p, g, 1f, m, v, shadow, step);
        return shadow;
    }
}
