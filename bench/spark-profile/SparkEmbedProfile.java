package io.lit4j.spark;

import io.lit4j.LitModel;
import io.lit4j.embed.ImageSource;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;

/**
 * Where the Spark embed job's time goes, against lit4j embed's: one variant per JVM, timed from
 * after the model is loaded to the output written, with the process's CPU time split by thread
 * (from /proc: task threads, JIT compiler threads, decoding threads, the driver), the JIT's and
 * the GC's time. In package io.lit4j.spark because it runs the job's own pieces (Inputs.listed,
 * LitImageEmbedder.partitions) with one of them swapped: the write (parquet: the job's options;
 * dict: Parquet's defaults; noop: Spark's no-op sink) or the partitions (direct: the job's; shuffle:
 * repartitioned as the job did before). A measuring tool, not part of lit4j: bench/spark-profile.sh
 * compiles and runs it.
 *
 * <pre>
 * SparkEmbedProfile cli THREADS DATASET
 * SparkEmbedProfile spark MASTER parquet|dict|noop direct|shuffle DATASET OUT
 * </pre>
 */
public final class SparkEmbedProfile {
    private SparkEmbedProfile() {
    }

    public static void main(String[] a) throws Exception {
        if (a[0].equals("cli")) {
            Path data = Path.of(a[2]);
            List<Path> files;
            try (Stream<Path> st = Files.list(data.resolve("images"))) {
                files = st.sorted().toList();
            }
            try (LitModel m = LitModel.open("default", LitModel.Options.defaults().withThreads(Integer.parseInt(a[1])))) {
                Phase p = new Phase();
                int n = m.images().embedAll(ImageSource.files(files), false, d -> { }).indices().length;
                System.out.println(p.report("lit4j embed, " + a[1] + " oneDNN threads, " + n + " images"));
            }
            System.exit(0);
        }
        String master = a[1], write = a[2], parts = a[3], out = a[5];
        SparkSession spark = SparkSession.builder().master(master).getOrCreate();
        Dataset<Row> images = Inputs.listed(spark, List.of(a[4]), 0, false, System.err);
        if (parts.equals("shuffle")) {
            images = images.repartition(images.rdd().getNumPartitions());
        }
        ModelSpec spec = new ModelSpec("default", "auto", 0, "fp32", 32);
        ExecutorModels.get(spec.forThisTask());
        Phase p = new Phase();
        StructType schema = images.schema().add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true)
                .add("embed_error", DataTypes.StringType, true);
        Dataset<Row> z = images.mapPartitions(LitImageEmbedder.partitions(spec, Inputs.LISTED_IMAGES), Encoders.row(schema))
                .select(col("id"), col("captions"), col("embedding"), col("embed_error").as("error"));
        switch (write) {
            case "noop" -> z.write().format("noop").mode("overwrite").save();
            case "dict" -> z.write().parquet(out);
            default -> z.write().option("parquet.enable.dictionary#" + EmbedJob.EMBEDDING_PATH, "false").parquet(out);
        }
        System.out.println(p.report("spark " + master + ", write " + write + ", partitions " + parts));
        spark.stop();
        System.exit(0);
    }

    /** A measured stretch: wall time, process CPU, CPU by thread name (from /proc), JIT and GC time. */
    private static final class Phase {
        private final long start = System.nanoTime(), jit = jit(), gc = gc();
        private final Map<String, Long> threads = threadTicks();

        String report(String what) {
            double wall = (System.nanoTime() - start) / 1e9;
            Map<String, Long> now = threadTicks(), byName = new HashMap<>();
            now.forEach((k, v) -> byName.merge(k.substring(k.indexOf(' ') + 1), v - threads.getOrDefault(k, 0L), Long::sum));
            long total = byName.values().stream().mapToLong(Long::longValue).sum();
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%s: %.2f s, CPU %.1f s (threads that exited are not counted), JIT %.1f s, GC %.2f s",
                    what, wall, total / 100.0, (jit() - jit) / 1e3, (gc() - gc) / 1e3));
            byName.entrySet().stream().filter(e -> e.getValue() > 0).sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(6)
                    .forEach(e -> b.append(String.format(Locale.ROOT, "%n    %6.2f s CPU  %s", e.getValue() / 100.0, e.getKey())));
            return b.toString();
        }

        private static long jit() {
            return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
        }

        private static long gc() {
            return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
        }

        /** CPU ticks (utime + stime, 1/100 s) per live thread, keyed "tid name" with digits in names folded to N. */
        private static Map<String, Long> threadTicks() {
            Map<String, Long> ticks = new HashMap<>();
            try (Stream<Path> st = Files.list(Path.of("/proc/self/task"))) {
                for (Path t : st.toList()) {
                    try {
                        String name = Files.readString(t.resolve("comm")).trim().replaceAll("[0-9]+", "N");
                        String stat = Files.readString(t.resolve("stat"));
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        ticks.put(t.getFileName() + " " + name, Long.parseLong(f[11]) + Long.parseLong(f[12]));
                    } catch (java.io.IOException e) {
                        // the thread ended while being read
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot list /proc/self/task (Linux only)", e);
            }
            return ticks;
        }
    }
}
