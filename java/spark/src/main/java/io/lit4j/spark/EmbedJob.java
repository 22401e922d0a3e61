package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.train.ImageEmbeddingCache;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructType;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;

/**
 * The {@code embed} job: a corpus to Parquet of {@code id, captions, embedding, error}, the image
 * tower's digest, preprocessing and dimension in the embedding column's metadata
 * ({@code lit4j.image_tower_digest}, {@code lit4j.preprocess}, {@code lit4j.dim}, {@code lit4j.model});
 * and, when asked, the same embeddings in lit4j's own embedding-cache format
 * ({@link ImageEmbeddingCache}, in the folder its digest names), which {@code lit4j tune --cache}
 * reads without Spark: a cluster embeds once and one machine tunes.
 */
final class EmbedJob {
    /** Column metadata keys. */
    static final String DIGEST = "lit4j.image_tower_digest", PREPROCESS = "lit4j.preprocess", DIM = "lit4j.dim", MODEL = "lit4j.model";

    /** The embedding column's values as Parquet names them (Spark writes arrays as three-level lists). */
    static final String EMBEDDING_PATH = "embedding.list.element";

    /** What an embed run wrote. */
    record Result(long rows, long errors, String digest, Path cacheFolder) {
    }

    private EmbedJob() {
    }

    /**
     * Embeds {@code images}: {@link Inputs#SCHEMA} rows (images already read, or why not), or,
     * when {@code listed}, {@link Inputs#LISTED} rows, whose images are read on the embedder's
     * decoding thread, overlapped with the tower, rather than on the task's thread before it.
     */
    static Result run(SparkSession spark, Dataset<Row> images, boolean listed, ModelSpec spec, String out, String cacheRoot, PrintStream log) {
        TowerDigest tower = TowerDigest.of(spec);
        Metadata meta = new MetadataBuilder().putString(DIGEST, tower.digest()).putString(PREPROCESS, tower.preprocess())
                .putLong(DIM, tower.dim()).putString(MODEL, spec.model()).build();
        LitImageEmbedder embedder = new LitImageEmbedder().setModel(spec.model()).setBackend(spec.backend()).setThreads(spec.threads())
                .setPrecision(spec.precision()).setBatchSize(spec.batchSize()).setErrorCol("embed_error");
        long start = System.nanoTime();
        ExecutorModels.get(spec.forThisTask()); // a model that cannot load fails once, here, not in every task
        double load = (System.nanoTime() - start) / 1e9;
        Dataset<Row> z;
        Column error;
        if (listed) {
            StructType schema = images.schema().add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true)
                    .add("embed_error", DataTypes.StringType, true);
            z = images.mapPartitions(LitImageEmbedder.partitions(spec, Inputs.LISTED_IMAGES), Encoders.row(schema));
            error = col("embed_error").as("error");
        } else {
            z = embedder.transform(images);
            error = coalesce(col("read_error"), col("embed_error")).as("error");
        }
        // an embedding's floats almost never repeat: Parquet's dictionary encoding, tried first on every
        // column, only fills a dictionary to throw it away (the profile's second cost after the tower)
        z.select(col("id"), col("captions"), col("embedding").as("embedding", meta), error).write()
                .option("parquet.enable.dictionary#" + EMBEDDING_PATH, "false").parquet(out);
        double seconds = (System.nanoTime() - start) / 1e9;
        Dataset<Row> written = spark.read().parquet(out);
        long rows = written.count(), errors = written.where(col("error").isNotNull()).count();
        log.println("lit4j-spark embed: " + rows + " images, " + errors + " not embedded (see the error column), into " + out
                + " (image tower " + tower.digest() + ")");
        log.println(String.format(Locale.ROOT, "lit4j-spark embed: %.1f s from loading the model to the Parquet committed (%.1f s of it loading the model), "
                + "%.0f images/s (%.0f after the load)", seconds, load, rows / seconds, rows / (seconds - load)));
        Path folder = cacheRoot == null ? null : toCache(written, tower, Path.of(cacheRoot), log);
        return new Result(rows, errors, tower.digest(), folder);
    }

    /**
     * Appends the embeddings of an {@code embed} job's Parquet to lit4j's embedding cache under
     * {@code root} (rows already there are kept), and records the images that did not decode, so
     * that {@code lit4j tune} neither embeds nor retries them. Streams the rows through the driver.
     */
    static Path toCache(Dataset<Row> written, TowerDigest tower, Path root, PrintStream log) {
        String digest = written.schema().apply("embedding").metadata().getString(DIGEST);
        if (!digest.equals(tower.digest())) {
            throw new LitException("the embeddings were made by image tower " + digest + ", not " + tower.digest() + " of this model");
        }
        try (ImageEmbeddingCache cache = ImageEmbeddingCache.openFor(root, tower.digest(), tower.preprocess(), tower.dim())) {
            List<String> ids = new ArrayList<>();
            float[] buf = new float[1024 * tower.dim()];
            long added = 0;
            Iterator<Row> it = written.select("id", "embedding", "error").toLocalIterator();
            while (it.hasNext()) {
                Row r = it.next();
                String id = r.getString(0);
                if (cache.contains(id)) {
                    continue;
                }
                if (r.isNullAt(1)) {
                    cache.markUndecodable(id, r.isNullAt(2) ? "not embedded" : r.getString(2));
                    continue;
                }
                float[] e = Chunks.floats(r, 1);
                if (e.length != tower.dim()) {
                    throw new LitException("row " + id + ": an embedding of " + e.length + " values, not " + tower.dim());
                }
                System.arraycopy(e, 0, buf, ids.size() * tower.dim(), e.length);
                ids.add(id);
                if (ids.size() == 1024) {
                    cache.put(ids, buf);
                    added += ids.size();
                    ids.clear();
                }
            }
            if (!ids.isEmpty()) {
                cache.put(ids, Arrays.copyOf(buf, ids.size() * tower.dim()));
                added += ids.size();
            }
            cache.flush();
            log.println("lit4j-spark embed: " + added + " embeddings added to the cache " + cache.folder() + " (lit4j tune --cache " + root + ")");
            return cache.folder();
        }
    }
}
