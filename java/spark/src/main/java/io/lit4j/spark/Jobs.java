package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.Version;
import io.lit4j.dedup.DedupRule;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The jobs a user can {@code spark-submit}: {@code embed}, {@code label} and {@code neighbours}.
 *
 * <pre>
 * spark-submit --class io.lit4j.spark.Jobs --master local[*] ... lit4j-spark.jar embed --images corpus/ --out z.parquet --cache cache/
 * </pre>
 * Outside {@code spark-submit} (plain {@code java -cp}), {@code --master} picks the master
 * ({@code local[*]} when neither says). Errors are one line on stderr and exit status 1.
 */
@Command(name = "lit4j-spark", mixinStandardHelpOptions = true, versionProvider = Jobs.VersionInfo.class, subcommands = {Jobs.Embed.class, Jobs.Label.class, Jobs.Neighbours.class},
        description = "lit4j on Apache Spark: embed, label and de-duplicate image corpora across a cluster.")
public final class Jobs {
    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        System.exit(status);
    }

    /** lit4j's version and the Spark it runs on. */
    static final class VersionInfo implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"lit4j-spark " + Version.lit4j() + " on Apache Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION()};
        }
    }

    /** Where the jobs report (stderr, or what a caller of {@link #run} gives). */
    private final PrintStream log;

    private Jobs(PrintStream log) {
        this.log = log;
    }

    /** Runs one job; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cmd = new CommandLine(new Jobs(err));
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            Throwable t = ex;
            while (!(t instanceof LitException) && t.getCause() != null) {
                t = t.getCause();
            }
            err.println("lit4j-spark: " + (t instanceof LitException ? t.getMessage() : ex.toString()));
            return 1;
        });
        cmd.setOut(new java.io.PrintWriter(out, true));
        cmd.setErr(new java.io.PrintWriter(err, true));
        return cmd.execute(args);
    }

    /** What every job takes: the master, the model, and where the images are. */
    static final class Common {
        @Option(names = "--master", paramLabel = "URL", description = "Spark master when not run by spark-submit (default local[*])")
        String master;

        @Option(names = "--model", defaultValue = "default", description = "\"default\", a path every executor reads, or a --files name")
        String model;

        @Option(names = "--backend", defaultValue = "auto", description = "auto, onednn or scalar")
        String backend;

        @Option(names = "--threads", defaultValue = "0", description = "oneDNN threads per task (0: spark.task.cpus)")
        int threads;

        @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or bf16")
        String precision;

        @Option(names = "--batch", defaultValue = "32", description = "images per forward pass")
        int batch;

        @Option(names = "--images", arity = "1..*", paramLabel = "PATH",
                description = "lit4j datasets: folders, .tar shards or .zip files, with captions.jsonl/tsv or just images")
        List<String> images;

        @Option(names = "--table", paramLabel = "PARQUET", description = "instead: a table with id, image (binary) or path, [caption(s)]")
        String table;

        @Option(names = "--partitions", defaultValue = "0", description = "partitions of the image list (0: twice the default parallelism)")
        int partitions;

        ModelSpec spec() {
            return new ModelSpec(model, backend, threads, precision, batch);
        }

        SparkSession session(String job) {
            SparkConf conf = new SparkConf();
            SparkSession.Builder b = SparkSession.builder().appName("lit4j-spark " + job);
            if (master != null) {
                b.master(master);
            } else if (!conf.contains("spark.master")) {
                b.master("local[*]");
            }
            return b.getOrCreate();
        }

        Dataset<Row> read(SparkSession spark, PrintStream log) {
            if ((images == null) == (table == null)) {
                throw new LitException("give the images as --images PATH... or as --table PARQUET (one of the two)");
            }
            return images != null ? Inputs.datasets(spark, images, partitions, log) : Inputs.table(spark, table);
        }
    }

    @Command(name = "embed", mixinStandardHelpOptions = true, description = {"Embed a corpus: Parquet of id, captions, embedding, error,",
            "the image tower's digest in the embedding column's metadata; with --cache also lit4j's embedding cache for lit4j tune."})
    static final class Embed implements Callable<Integer> {
        @Mixin
        Common common;

        @CommandLine.ParentCommand
        Jobs jobs;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "the Parquet output (must not exist)")
        String out;

        @Option(names = "--cache", paramLabel = "DIR", description = "also write the embeddings into lit4j's cache here (lit4j tune --cache DIR)")
        String cache;

        @Override
        public Integer call() {
            SparkSession spark = common.session("embed");
            boolean listed = common.images != null && common.table == null; // datasets: each image is read where it is decoded
            Dataset<Row> images = listed ? Inputs.listed(spark, common.images, common.partitions, false, jobs.log) : common.read(spark, jobs.log);
            EmbedJob.run(spark, images, listed, common.spec(), out, cache, jobs.log);
            return 0;
        }
    }

    @Command(name = "label", mixinStandardHelpOptions = true, description = "Zero-shot labels for a corpus: Parquet of id, label, probability, top_k, error.")
    static final class Label implements Callable<Integer> {
        @Mixin
        Common common;

        @CommandLine.ParentCommand
        Jobs jobs;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "the Parquet output (must not exist)")
        String out;

        @Option(names = "--label", required = true, arity = "1..*", paramLabel = "NAME[,ALIAS...]", description = "a class, with aliases after commas")
        List<String> labels;

        @Option(names = "--templates", defaultValue = "clip_best", description = "clip_best, clip_80 or a file of one template per line")
        String templates;

        @Option(names = "--top", defaultValue = "5", description = "labels in the top_k column")
        int top;

        @Override
        public Integer call() {
            SparkSession spark = common.session("label");
            LabelJob.run(spark, common.read(spark, jobs.log), common.spec(), labels, templates, top, out, jobs.log);
            return 0;
        }
    }

    @Command(name = "neighbours", mixinStandardHelpOptions = true, description = {"Duplicate pairs: same pixels, same normalised caption,",
            "or near (perceptual hash within --max-hamming, confirmed by embedding cosine), within the corpus and against --eval sets."})
    static final class Neighbours implements Callable<Integer> {
        @Mixin
        Common common;

        @CommandLine.ParentCommand
        Jobs jobs;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "the Parquet output of pairs (must not exist)")
        String out;

        @Option(names = "--eval", arity = "1..*", paramLabel = "PATH", description = "evaluation datasets to check the corpus against")
        List<String> eval;

        @Option(names = "--max-hamming", defaultValue = "10", description = "most differing hash bits of a candidate pair")
        int maxHamming;

        @Option(names = "--cosine", defaultValue = "0.95", description = "least embedding cosine of a near pair")
        float cosine;

        @Option(names = "--eval-cosine", defaultValue = "0.9", description = "least cosine of a pair against an evaluation image")
        float evalCosine;

        @Option(names = "--bands", defaultValue = "6", description = "hash bands (blocks); more: smaller blocks, more keys per image")
        int bands;

        @Override
        public Integer call() {
            DedupRule rule = new DedupRule(maxHamming, cosine, evalCosine, bands);
            SparkSession spark = common.session("neighbours");
            Dataset<Row> ev = eval == null ? null : Inputs.datasets(spark, eval, common.partitions, true, jobs.log);
            NeighboursJob.run(spark, common.read(spark, jobs.log), ev, common.spec(), rule, out, jobs.log);
            return 0;
        }
    }
}
