package io.lit4j.bench;

import io.lit4j.DefaultModel;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.embed.Batcher;
import io.lit4j.model.BertConfig;
import io.lit4j.model.Presets;
import io.lit4j.model.TextConfig;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.train.Init;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * In-process text throughput with and without micro-batching: {@code N} short texts embedded one
 * after another at batch 1, then by {@code clients} concurrent submitters through a {@link Batcher},
 * then (the ceiling) in full batches of {@code clients}; checks the batched vectors equal the batch-1
 * ones bit for bit. {@code --model default} is the shipped model; a text preset ({@code bert-base},
 * {@code text-B}) gets random weights (written once under {@code --out}) and the shipped tokenizer.
 *
 * <p>{@code bench/run-batcher.sh [--model default|bert-base|text-B] [--texts N] [--clients C] [--threads T] [--warm SECONDS]}
 */
public final class BatcherThroughput {
    private BatcherThroughput() {
    }

    public static void main(String[] args) throws Exception {
        Worker.Args a = new Worker.Args(args);
        String name = a.s("--model", "default");
        int n = a.i("--texts", 512), clients = a.i("--clients", 64), threads = a.i("--threads", 2), warm = a.i("--warm", 60);
        Path tokenizer = DefaultModel.path().resolve(LitFormat.TOKENIZER);
        LitModel.Options opts = LitModel.Options.defaults().withThreads(threads).withTokenizer(tokenizer);
        try (LitModel model = name.equals("default") ? LitModel.loadDefault(opts)
                : LitModel.load(randomModel(name, Path.of(a.s("--out", "bench/results/models")), threads), opts)) {
            List<String> texts = texts(new Random(1), n);
            // One thread at a time runs the model, and each lets its OpenMP team go before the next
            // starts (LitModel.releaseThread): two idle-spinning teams on 2 CPUs slow both.
            for (int i = 0; i < Math.min(n, 200); i++) {
                model.embedTexts(List.of(texts.get(i))); // warm the batch-1 path
            }
            long t0 = System.nanoTime();
            List<float[]> alone = new ArrayList<>();
            for (String t : texts) {
                alone.add(model.embedTexts(List.of(t)));
            }
            double seq = n / seconds(t0);
            model.releaseThread();

            Batcher.Options bo = Batcher.Options.defaults().withMaxBatchTexts(clients).withQueueCapacity(Math.max(1024, clients));
            LongAdder batches = new LongAdder();
            float[][] batched = new float[n][];
            double conc;
            Batcher.Warmup w;
            try (Batcher batcher = model.batcher(bo)) { // closing it ends its model thread, and with it that thread's team
                w = batcher.warm(Duration.ofSeconds(warm));
                batcher.setListener((tower, size, tokens, queueMax, inference) -> batches.increment());
                AtomicInteger next = new AtomicInteger();
                long t1 = System.nanoTime();
                try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int c = 0; c < clients; c++) {
                        callers.submit(() -> {
                            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                                batched[i] = batcher.text(texts.get(i), Instant.now().plusSeconds(600)).join().vector();
                            }
                        });
                    }
                }
                conc = n / seconds(t1);
            }
            boolean same = true;
            for (int i = 0; i < n; i++) {
                same &= Arrays.equals(alone.get(i), batched[i]);
            }

            batchThroughput(model, texts, clients); // warm the full-batch path on this thread
            double full = batchThroughput(model, texts, clients);
            System.out.printf("%s, %d texts, %d threads, warm-up %d passes in %.1f s (settled %b)%n", name, n, threads, w.passes(),
                    w.took().toMillis() / 1e3, w.settled());
            System.out.printf("batch 1, one after another:   %8.1f texts/s%n", seq);
            System.out.printf("batcher, %3d submitters:      %8.1f texts/s (%.2fx), mean batch %.1f, identical to batch 1: %b%n", clients,
                    conc, conc / seq, n / (double) batches.sum(), same);
            System.out.printf("batches of %3d, one caller:   %8.1f texts/s (%.2fx)%n", clients, full, full / seq);
            if (!same) {
                throw new LitException("batched embeddings differ from batch-1 ones");
            }
        }
    }

    /** Texts per second embedding {@code texts} in batches of {@code batch}, one caller (the in-process ceiling for that batch size). */
    static double batchThroughput(LitModel model, List<String> texts, int batch) {
        long t0 = System.nanoTime();
        for (int s = 0; s < texts.size(); s += batch) {
            model.embedTexts(texts.subList(s, Math.min(texts.size(), s + batch)));
        }
        return texts.size() / seconds(t0);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** Search-query-like texts: 1 to 8 words of lower-case letters. */
    static List<String> texts(Random r, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 1 + r.nextInt(8); w > 0; w--) {
                for (int c = 2 + r.nextInt(7); c > 0; c--) {
                    sb.append((char) ('a' + r.nextInt(26)));
                }
                sb.append(' ');
            }
            out.add(sb.toString().strip());
        }
        return out;
    }

    /** A text-only lit4j model of the preset with random weights, written once. */
    private static Path randomModel(String preset, Path models, int threads) {
        Path dir = models.resolve("batcher-" + preset.replaceAll("[^A-Za-z0-9]+", "-"));
        if (Files.isRegularFile(dir.resolve(LitFormat.WEIGHTS))) {
            return dir;
        }
        TextConfig t = Presets.text(preset);
        TwoTowerConfig cfg = new TwoTowerConfig(null, t.withHeadDim(768), null);
        try (OneDnnBackend be = new OneDnnBackend(threads); TwoTower m = TwoTower.allocate(be, cfg)) {
            Init.tower(be, m.params(), "txt.", t instanceof BertConfig, 2);
            LitFormat.save(m, dir, null);
        }
        return dir;
    }
}
