package io.lit4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** One ONNX Runtime (Java) measurement in its own JVM, on a model the PyTorch peer exported from lit4j's weights. */
public final class OrtWorker {
    private OrtWorker() {
    }

    public static void main(String[] args) throws Exception {
        Worker.Args a = new Worker.Args(args);
        int threads = a.i("--threads", 2), warmup = a.i("--warmup", 2), iters = a.i("--iters", 5), batch = a.i("--batch", 1);
        String tower = a.s("--tower", "image");
        JsonObject cfg = JsonParser.parseString(Files.readString(Path.of(a.s("--model", null)).resolve("config.json"))).getAsJsonObject();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<Double> times = new ArrayList<>();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession s = env.createSession(a.s("--onnx", null), so)) {
                Random r = new Random(7);
                OnnxTensor input;
                String name;
                if (tower.equals("image")) {
                    int sz = cfg.getAsJsonObject("image").get("image_size").getAsInt();
                    float[] px = Worker.random(r, (long) batch * sz * sz * 3);
                    input = OnnxTensor.createTensor(env, FloatBuffer.wrap(px), new long[] {batch, sz, sz, 3});
                    name = "images";
                } else {
                    int vocab = cfg.getAsJsonObject("text").get("vocab_size").getAsInt();
                    long[] ids = new long[batch * 16];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = 1 + r.nextInt(vocab - 1);
                    }
                    input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {batch, 16});
                    name = "tokens";
                }
                try (input) {
                    for (int i = 0; i < warmup + iters; i++) {
                        long t0 = System.nanoTime();
                        try (OrtSession.Result res = s.run(Map.of(name, input))) {
                            if (i >= warmup) {
                                times.add((System.nanoTime() - t0) / 1e9);
                            }
                        }
                    }
                }
            }
        }
        JsonObject out = new JsonObject();
        out.addProperty("peer", "onnxruntime");
        out.addProperty("threads", threads);
        out.addProperty("batch", batch);
        JsonArray ts = new JsonArray();
        times.forEach(ts::add);
        out.add("times_s", ts);
        out.addProperty("median_s", Worker.median(times));
        out.addProperty("peak_rss_mb", Worker.peakRssMb());
        System.out.println(out);
    }
}
