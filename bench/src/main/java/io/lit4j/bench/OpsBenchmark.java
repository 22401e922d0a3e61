package io.lit4j.bench;

import io.lit4j.backend.Backend;
import io.lit4j.backend.Epilogue;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import io.lit4j.train.ContrastiveLoss;
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
 * The engine's hot ops at ViT-B/16 and BERT-base sizes, on the oneDNN backend. Each setup first
 * checks the op against the scalar oracle on a cut-down copy of the same shapes, so a benchmark
 * never times a wrong answer. Run: {@code bench/run-jmh.sh} (or {@code mvn -Pbench package} and
 * {@code java -jar bench/target/lit4j-benchmarks.jar}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class OpsBenchmark {
    /** rows x in x out: ViT-B/16 batch 32 (6304 tokens) qkv, fc1, fc2; BERT-base batch 256 x 16 tokens fc1. */
    @Param({"6304x768x2304", "6304x768x3072", "6304x3072x768", "4096x768x3072"})
    public String linearShape;

    @Param({"2"})
    public int threads;

    private OneDnnBackend be;
    private TensorArena arena;
    private Tensor x, w, packed, bias, y;
    private Tensor qkv, probs, attnOut;
    private Tensor lnX, lnScale, lnBias, lnY;
    private Tensor zimg, ztxt, dzimg, dztxt;
    private ContrastiveLoss loss;

    static float[] random(Random r, long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }

    static Tensor filled(Backend be, TensorArena a, Random r, int... shape) {
        Tensor t = a.allocate(DType.F32, shape);
        be.upload(random(r, t.numel()), t);
        return t;
    }

    @Setup(Level.Trial)
    public void setUp() {
        be = new OneDnnBackend(threads);
        arena = be.newArena();
        Random r = new Random(1);
        String[] s = linearShape.split("x");
        int n = Integer.parseInt(s[0]), k = Integer.parseInt(s[1]), m = Integer.parseInt(s[2]);
        verifyLinear(k, m);
        x = filled(be, arena, r, n, k);
        w = filled(be, arena, r, k, m);
        bias = filled(be, arena, r, m);
        y = arena.allocate(DType.F32, n, m);
        packed = be.packWeights(w, DType.F32, arena);
        qkv = filled(be, arena, r, 32, 197, 3 * 768);
        probs = arena.allocate(DType.F32, 32, 12, 197, 197);
        attnOut = arena.allocate(DType.F32, 32, 197, 768);
        lnX = filled(be, arena, r, 6304, 768);
        lnScale = filled(be, arena, r, 768);
        lnBias = filled(be, arena, r, 768);
        lnY = arena.allocate(DType.F32, 6304, 768);
        zimg = filled(be, arena, r, 1024, 768);
        ztxt = filled(be, arena, r, 1024, 768);
        be.l2Normalize(zimg, zimg, null);
        be.l2Normalize(ztxt, ztxt, null);
        dzimg = arena.allocate(DType.F32, 1024, 768);
        dztxt = arena.allocate(DType.F32, 1024, 768);
        loss = new ContrastiveLoss(TwoTowerConfig.Loss.SOFTMAX, arena, 1024, 768, 4096);
    }

    /** The same linear on 7 rows against the scalar oracle: a benchmark must not time a wrong answer. */
    private void verifyLinear(int k, int m) {
        Random r = new Random(2);
        float[] xs = random(r, 7L * k), ws = random(r, (long) k * m), bs = random(r, m);
        float[][] out = new float[2][];
        Backend[] bes = {new ScalarBackend(), be};
        for (int i = 0; i < 2; i++) {
            try (TensorArena a = bes[i].newArena()) {
                Tensor tx = a.allocate(DType.F32, 7, k), tw = a.allocate(DType.F32, k, m), tb = a.allocate(DType.F32, m), ty = a.allocate(DType.F32, 7, m);
                bes[i].upload(xs, tx);
                bes[i].upload(ws, tw);
                bes[i].upload(bs, tb);
                bes[i].linear(tx, i == 1 ? bes[i].packWeights(tw, DType.F32, a) : tw, tb, ty, Epilogue.GELU_TANH);
                out[i] = bes[i].download(ty);
            }
        }
        double num = 0, den = 0;
        for (int i = 0; i < out[0].length; i++) {
            num += (out[0][i] - out[1][i]) * (double) (out[0][i] - out[1][i]);
            den += out[0][i] * (double) out[0][i];
        }
        if (Math.sqrt(num / den) > 1e-4) {
            throw new IllegalStateException("oneDNN linear " + k + "x" + m + " disagrees with the scalar oracle: " + Math.sqrt(num / den));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        be.close();
    }

    @Benchmark
    public Tensor linearPlainWeights() {
        be.linear(x, w, bias, y, Epilogue.NONE);
        return y;
    }

    @Benchmark
    public Tensor linearPackedWeights() {
        be.linear(x, packed, bias, y, Epilogue.NONE);
        return y;
    }

    @Benchmark
    public Tensor linearPackedGelu() {
        be.linear(x, packed, bias, y, Epilogue.GELU_TANH);
        return y;
    }

    /** ViT-B/16 batch 32: 12 heads over 197 tokens. */
    @Benchmark
    public Tensor attentionVitB32() {
        be.attention(qkv, null, 12, probs, attnOut);
        return attnOut;
    }

    @Benchmark
    public Tensor layerNorm6304x768() {
        be.layerNorm(lnX, lnScale, lnBias, 1e-6f, lnY, null, null);
        return lnY;
    }

    @Benchmark
    public Tensor softmaxScores() {
        be.softmax(probs.view(32 * 12 * 197, 197), probs.view(32 * 12 * 197, 197));
        return probs;
    }

    /** Softmax contrastive loss, forward and backward, 1024 pairs of 768-d embeddings. */
    @Benchmark
    public double contrastiveLoss1024() {
        return loss.compute(be, zimg, ztxt, 2.3f, 0f, dzimg, dztxt).loss();
    }
}
