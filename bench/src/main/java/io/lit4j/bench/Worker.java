package io.lit4j.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.backend.Backend;
import io.lit4j.backend.Backends;
import io.lit4j.backend.Epilogue;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.data.TokenBatch;
import io.lit4j.model.BertConfig;
import io.lit4j.model.Precision;
import io.lit4j.model.TwoTower;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Tensor;
import io.lit4j.tensor.TensorArena;
import io.lit4j.train.AdamW;
import io.lit4j.train.LockSpec;
import io.lit4j.train.Schedule;
import io.lit4j.train.TrainingSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * One lit4j measurement in its own JVM (so each workload's peak RSS is its own), printing one
 * JSON object like the PyTorch peer's: inference of a tower at a batch size, a LiT training step
 * (text tower, image embeddings given), or the backend's GEMM rate used as the roofline.
 * {@code --backend onednn|cuda} (default onednn) picks the engine; every timed call ends with
 * its result on the host (embeddings, the loss, or one element of the GEMM output), so a GPU's
 * asynchronous work is inside the time.
 */
public final class Worker {
    private Worker() {
    }

    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        int threads = a.i("--threads", 2), warmup = a.i("--warmup", 2), iters = a.i("--iters", 5);
        String backend = a.s("--backend", "onednn");
        JsonObject out = new JsonObject();
        out.addProperty("peer", "lit4j");
        out.addProperty("backend", backend);
        out.addProperty("threads", threads);
        List<Double> times = new ArrayList<>();
        if (a.has("--stream-mb")) {
            streamCopy(a.i("--stream-mb", 512), threads, warmup, iters, times, out);
        } else if (a.has("--gemm")) {
            String[] s = a.s("--gemm", "").split("x");
            int m = Integer.parseInt(s[0]), k = Integer.parseInt(s[1]), n = Integer.parseInt(s[2]);
            DType dt = Precision.parse(a.s("--dtype", "fp32")) == Precision.BF16 ? DType.BF16 : DType.F32;
            out.addProperty("dtype", a.s("--dtype", "fp32"));
            try (Backends.Choice engine = Backends.open(backend, threads); TensorArena ar = engine.backend().newArena()) {
                Backend be = engine.backend();
                Tensor x = ar.allocate(dt, n, k), w = ar.allocate(DType.F32, k, m), y = ar.allocate(dt, n, m);
                be.upload(random(new Random(1), x.numel()), x);
                be.upload(random(new Random(2), w.numel()), w);
                Tensor p = be.packWeights(w, dt, ar);
                Tensor one = y.view(Math.toIntExact(y.numel())).slice(0, 1);
                timeCalls(warmup, iters, times, i -> {
                    be.linear(x, p, null, y, Epilogue.NONE);
                    return be.download(one)[0]; // waits for the product (y may be bf16)
                });
                out.addProperty("gflops", 2.0 * m * k * n / median(times) / 1e9);
            }
        } else if (a.has("--step-products")) {
            stepProducts(Path.of(a.s("--model", null)), a.i("--batch", 64) * a.i("--tokens", 16), backend, threads, warmup, iters, times, out);
        } else {
            Path model = Path.of(a.s("--model", null));
            String tower = a.s("--tower", "image");
            int batch = a.i("--batch", 1), tokens = a.i("--tokens", 16);
            Precision precision = Precision.parse(a.s("--dtype", "fp32"));
            out.addProperty("tower", tower);
            out.addProperty("batch", batch);
            out.addProperty("dtype", a.s("--dtype", "fp32"));
            boolean train = a.has("--train");
            out.addProperty("train", train);
            try (Backends.Choice engine = Backends.open(backend, threads); TwoTower m = Checkpoints.load(engine.backend(), model)) {
                m.setPrecision(precision);
                out.addProperty("rss_after_load_mb", procStatusMb("VmRSS:"));
                out.addProperty("peak_rss_load_mb", procStatusMb("VmHWM:"));
                Random r = new Random(7);
                if (train) {
                    int e = m.config().embedDim();
                    float[] zimg = unitRows(r, batch, e);
                    TokenBatch tb = tokens(r, m, batch, tokens);
                    AdamW.Config opt = new AdamW.Config(new Schedule(1e-4, 0, 1_000_000, 0), 0.9f, 0.999f, 1e-8f, 1e-4f, 0f,
                            AdamW.Config.kernelsOnly());
                    try (TrainingSession s = new TrainingSession(m, LockSpec.parse("Lu", List.of(), List.of()), opt,
                            TrainingSession.Options.of(batch).withPrecision(precision))) {
                        out.addProperty("loss", timeCalls(warmup, iters, times, i -> s.step(i, null, zimg, tb)).loss());
                        out.addProperty("optimizer_bytes_per_step", s.optimizer().bytesPerStep());
                        if (io.lit4j.backend.OpProfile.enabled()) {
                            profile(out, iters, s.optimizer().bytesPerStep());
                        }
                    }
                } else if (tower.equals("image")) {
                    m.freezeForInference();
                    int sz = m.config().image().imageSize();
                    float[] px = random(r, (long) batch * sz * sz * 3);
                    float[] z = timeCalls(warmup, iters, times, i -> m.embedImages(px, batch));
                    dump(a, out, z, m.config().embedDim());
                } else {
                    m.freezeForInference();
                    TokenBatch tb = tokens(r, m, batch, tokens);
                    float[] z = timeCalls(warmup, iters, times, i -> m.embedTexts(tb));
                    dump(a, out, z, m.config().embedDim());
                }
            }
        }
        JsonArray ts = new JsonArray();
        times.forEach(ts::add);
        out.add("times_s", ts);
        out.addProperty("median_s", median(times));
        // as the PyTorch peer: other processes used more than 5% of this one's thread-time. Not the
        // run-queue wait, which also counts this process's threads queued behind each other (a bf16
        // step's Java pool and OpenMP team on 2 cores waited 1-5 s per run on an idle machine)
        double sum = times.stream().mapToDouble(Double::doubleValue).sum();
        out.addProperty("runq_wait_s", timedRunqWaitS);
        out.addProperty("others_cpu_s", timedOthersCpuS);
        out.addProperty("contended", timedOthersCpuS > 0.05 * threads * sum);
        out.addProperty("peak_rss_mb", peakRssMb());
        // what the engine itself held at most (weights, packed weights, activations, gradients, moments, scratch)
        out.addProperty("engine_peak_mb", io.lit4j.backend.HostMemory.peak() / (1024.0 * 1024.0));
        if (io.lit4j.backend.OpProfile.enabled()) {
            System.err.println(io.lit4j.backend.OpProfile.report());
        }
        System.out.println(out);
    }

    /**
     * The op profile of the timed calls into {@code out}: {@code "profile"} (op kind to ms and calls
     * per call of the workload) and {@code "optimizer_gbs"}: the bytes AdamW moves per step (the
     * norm's pass and the update's) over the time its two ops took.
     */
    static void profile(JsonObject out, int iters, long optimizerBytes) {
        JsonObject p = new JsonObject();
        double optimizerNs = 0;
        for (var e : io.lit4j.backend.OpProfile.snapshot().entrySet()) {
            JsonObject op = new JsonObject();
            op.addProperty("ms", e.getValue()[0] / 1e6 / iters);
            op.addProperty("calls", (double) e.getValue()[1] / iters);
            p.add(e.getKey(), op);
            if (e.getKey().startsWith("adamw") || e.getKey().startsWith("sumOfSquares")) {
                optimizerNs += e.getValue()[0];
            }
        }
        out.add("profile", p);
        if (optimizerNs > 0) {
            out.addProperty("optimizer_gbs", optimizerBytes * (double) iters / optimizerNs);
        }
    }

    /**
     * The linear products of a LiT step on the text tower of {@code model} at {@code rows} token rows,
     * each alone in bf16 with its operands ready in bf16 (no conversion, no other op, caches warm):
     * per linear shape the forward {@code x·w}, {@code dx = dy·wᵀ} and {@code dw = xᵀ·dy}, as the
     * step's backward runs them. {@code "products_s"} sums each product's median over the tower (four
     * linears a layer, times its depth, and the projection); {@code times_s} gets one entry, that sum.
     * The attention's small batched products are left out, so a step cannot beat this.
     */
    static void stepProducts(Path model, int rows, String backend, int threads, int warmup, int iters, List<Double> times, JsonObject out)
            throws java.io.IOException {
        int width, mlp, depth, embed;
        try (Backends.Choice probe = Backends.open("scalar", 1); TwoTower m = Checkpoints.load(probe.backend(), model)) {
            var t = m.config().text();
            width = t.width();
            mlp = t.mlpDim();
            depth = t.depth();
            embed = m.config().embedDim();
        }
        // {in, out, count}: fused qkv, attention output, MLP up, MLP down, then the projection
        String[] names = {"qkv", "attention out", "mlp up", "mlp down", "projection"};
        int[][] linears = {{width, 3 * width, depth}, {width, width, depth}, {width, mlp, depth}, {mlp, width, depth}, {width, embed, 1}};
        double total = 0, others = 0, timed = 0;
        JsonObject each = new JsonObject();
        try (Backends.Choice engine = Backends.open(backend, threads); TensorArena ar = engine.backend().newArena()) {
            Backend be = engine.backend();
            Random r = new Random(3);
            for (int li = 0; li < linears.length; li++) {
                int[] l = linears[li];
                int k = l[0], n = l[1];
                Tensor x = ar.allocate(DType.BF16, rows, k), w = ar.allocate(DType.BF16, k, n), dy = ar.allocate(DType.BF16, rows, n);
                Tensor y = ar.allocate(DType.F32, rows, n), dx = ar.allocate(DType.F32, rows, k), dw = ar.allocate(DType.F32, k, n);
                be.upload(random(r, x.numel()), x);
                be.upload(random(r, w.numel()), w);
                be.upload(random(r, dy.numel()), dy);
                double s = 0;
                for (Runnable product : new Runnable[] {() -> be.matmul(x, false, w, false, y, 1f), () -> be.matmul(dy, false, w, true, dx, 1f),
                        () -> be.matmul(x, true, dy, false, dw, 1f)}) {
                    List<Double> t = new ArrayList<>();
                    timeCalls(warmup, iters, t, i -> {
                        product.run();
                        return be.download(dw.view(Math.toIntExact(dw.numel())).slice(0, 1))[0]; // waits for a GPU's work
                    });
                    s += median(t);
                    others += timedOthersCpuS;
                    timed += t.stream().mapToDouble(Double::doubleValue).sum();
                }
                each.addProperty(names[li] + " " + k + "x" + n, s * 1e3);
                total += s * l[2];
            }
        }
        // other processes' CPU over all the timed calls, scaled to the one figure reported, so that
        // main's contended test (more than 5 % of the thread-time) asks the right question
        timedOthersCpuS = others * total / timed;
        out.addProperty("rows", rows);
        out.add("products_ms_per_linear", each);
        out.addProperty("products_s", total);
        times.add(total);
    }

    /**
     * A STREAM-like copy on {@code threads} threads: {@code mb} MiB from one buffer to another
     * (both touched first), each thread copying its contiguous share; {@code "gbs"} counts the bytes
     * read plus the bytes written, as STREAM's copy does. The same-run memory bandwidth AdamW is held to.
     */
    static void streamCopy(int mb, int threads, int warmup, int iters, List<Double> times, JsonObject out) {
        long bytes = (long) mb << 20;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
             io.lit4j.simd.WorkerPool pool = new io.lit4j.simd.WorkerPool(threads, "stream")) {
            java.lang.foreign.MemorySegment src = arena.allocate(bytes, 64), dst = arena.allocate(bytes, 64);
            int chunks = Math.toIntExact(bytes >> 20); // 1 MiB pieces
            pool.parallelFor(chunks, 1, (from, to) -> { // first touch on the threads that copy
                src.asSlice((long) from << 20, (long) (to - from) << 20).fill((byte) 1);
                dst.asSlice((long) from << 20, (long) (to - from) << 20).fill((byte) 0);
            });
            timeCalls(warmup, iters, times, i -> {
                pool.parallelFor(chunks, 1, (from, to) -> java.lang.foreign.MemorySegment.copy(src, (long) from << 20, dst,
                        (long) from << 20, (long) (to - from) << 20));
                return dst.get(java.lang.foreign.ValueLayout.JAVA_BYTE, bytes - 1);
            });
        }
        out.addProperty("stream_mb", mb);
        out.addProperty("gbs", 2.0 * bytes / median(times) / 1e9);
    }

    /**
     * Runs {@code call} warmup + iters times, adding the seconds of the timed ones to {@code times};
     * returns the last result. The op profile covers only the timed calls: the warm-up's primitive
     * creation, packing and JIT compilation are not the steady state.
     */
    static <T> T timeCalls(int warmup, int iters, List<Double> times, java.util.function.IntFunction<T> call) {
        T last = null;
        double wait0 = Double.NaN, others0 = Double.NaN;
        for (int i = 0; i < warmup + iters; i++) {
            if (i == warmup) {
                io.lit4j.backend.OpProfile.reset();
                wait0 = runqWaitS();
                others0 = othersCpuS();
            }
            long t0 = System.nanoTime();
            last = call.apply(i);
            if (i >= warmup) {
                times.add((System.nanoTime() - t0) / 1e9);
            }
        }
        timedRunqWaitS = runqWaitS() - wait0;
        timedOthersCpuS = othersCpuS() - others0;
        return last;
    }

    /** Seconds the timed calls' threads spent runnable but waiting for a CPU (NaN before any). */
    static double timedRunqWaitS = Double.NaN;

    /** CPU seconds every other process (and the hypervisor, as steal) used during the timed calls (NaN before any). */
    static double timedOthersCpuS = Double.NaN;

    /**
     * CPU seconds used since boot by everything but this process: the busy time of /proc/stat's
     * {@code cpu} line (user, nice, system, irq, softirq, steal) less this process's utime and
     * stime from /proc/self/stat (proc(5); both in USER_HZ, 100 on Linux); NaN where unreadable.
     */
    static double othersCpuS() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(cpu[i]);
            }
            String self = Files.readString(Path.of("/proc/self/stat"));
            String[] f = self.substring(self.lastIndexOf(')') + 2).trim().split("\\s+"); // f[0] is field 3, state
            return (busy - Long.parseLong(f[11]) - Long.parseLong(f[12])) / 100.0;
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * Seconds this process's threads have spent runnable but waiting for a CPU, from
     * /proc/self/task/N/schedstat (as the PyTorch peer's {@code runq_wait_s}); NaN where unreadable.
     */
    static double runqWaitS() {
        long total = 0;
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    total += Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split("\\s+")[1]);
                } catch (java.io.IOException | RuntimeException e) {
                    // a thread that ended while we listed
                }
            }
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
        return total / 1e9;
    }

    static void dump(Args a, JsonObject out, float[] z, int dim) throws java.io.IOException {
        double sum = 0;
        for (int i = 0; i < dim; i++) {
            sum += z[i];
        }
        out.addProperty("embedding_checksum", sum);
        if (a.has("--dump-output")) {
            float[] two = Arrays.copyOf(z, Math.min(z.length, 2 * dim));
            StringBuilder b = new StringBuilder();
            for (float f : two) {
                b.append(f).append('\n');
            }
            Files.writeString(Path.of(a.s("--dump-output", null)), b.toString());
        }
    }

    static TokenBatch tokens(Random r, TwoTower m, int batch, int tokens) {
        int vocab = m.config().text().vocabSize();
        int[] ids = new int[batch * tokens];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1 + r.nextInt(vocab - 1);
        }
        if (m.config().text() instanceof BertConfig) {
            for (int b = 0; b < batch; b++) {
                ids[b * tokens] = Math.min(101, vocab - 1);
            }
        }
        return new TokenBatch(ids, batch, tokens);
    }

    static float[] random(Random r, long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return v;
    }

    static float[] unitRows(Random r, int n, int e) {
        float[] v = new float[n * e];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int k = 0; k < e; k++) {
                v[i * e + k] = (float) r.nextGaussian();
                ss += v[i * e + k] * v[i * e + k];
            }
            for (int k = 0; k < e; k++) {
                v[i * e + k] /= (float) Math.sqrt(ss);
            }
        }
        return v;
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return s.isEmpty() ? Double.NaN : s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    /** VmHWM from /proc/self/status: the process's peak resident set. */
    static double peakRssMb() {
        return procStatusMb("VmHWM:");
    }

    /** A memory figure (kB in the file) from /proc/self/status, in MiB. */
    static double procStatusMb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** Minimal "--key value" / "--flag" parsing for worker processes. */
    static final class Args {
        private final List<String> a;

        Args(String[] args) {
            this.a = List.of(args);
        }

        boolean has(String k) {
            return a.contains(k);
        }

        String s(String k, String dflt) {
            int i = a.indexOf(k);
            return i >= 0 && i + 1 < a.size() ? a.get(i + 1) : dflt;
        }

        int i(String k, int dflt) {
            return Integer.parseInt(s(k, Integer.toString(dflt)));
        }
    }
}
