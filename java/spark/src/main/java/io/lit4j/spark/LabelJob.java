package io.lit4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.List;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;

/** The {@code label} job: zero-shot labels for a corpus, Parquet of {@code id, label, probability, top_k, error}. */
final class LabelJob {
    private LabelJob() {
    }

    static long run(SparkSession spark, Dataset<Row> images, ModelSpec spec, List<String> labels, String templates, int k, String out,
                    PrintStream log) {
        LitImageEmbedder embed = new LitImageEmbedder().setModel(spec.model()).setBackend(spec.backend()).setThreads(spec.threads())
                .setPrecision(spec.precision()).setBatchSize(spec.batchSize()).setErrorCol("embed_error");
        LitZeroShot zs = new LitZeroShot().setModel(spec.model()).setBackend(spec.backend()).setThreads(spec.threads())
                .setPrecision(spec.precision()).setBatchSize(spec.batchSize()).setLabels(labels.toArray(String[]::new))
                .setTemplates(templates).setTopK(k);
        zs.classes(); // no labels: fail before any task
        Dataset<Row> labelled = zs.transform(embed.transform(images));
        labelled.select(col("id"), col("label"), col("probability"), col("top_k"), coalesce(col("read_error"), col("embed_error")).as("error"))
                .write().parquet(out);
        long n = spark.read().parquet(out).count();
        log.println("lit4j-spark label: " + n + " images labelled into " + out);
        return n;
    }
}
