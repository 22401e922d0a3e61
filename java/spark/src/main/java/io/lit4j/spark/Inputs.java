package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.data.CaptionDataset;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A job's images as one table: {@code id}, {@code captions}, {@code content} (the encoded image, or
 * null) and {@code read_error} (why it could not be read, or null).
 *
 * <p>From lit4j datasets: folders, {@code .tar} shards or {@code .zip} files, each with a
 * {@code captions.jsonl}/{@code captions.tsv} (read by lit4j's {@link CaptionDataset}, the same
 * rules as {@code lit4j tune}) or, without one, every image inside. The driver lists the rows;
 * executors read the images from the same paths, so the inputs must be on a path every executor
 * can read (a shared file system). An image's id is its name inside its dataset, as
 * {@code lit4j tune}'s embedding cache keys it.
 *
 * <p>From a table (Parquet): a column {@code id}, the image as {@code image} (binary) or
 * {@code path} (a path every executor can read), and optionally {@code caption} or {@code captions}.
 */
final class Inputs {
    static final StructType SCHEMA = new StructType().add("id", DataTypes.StringType, false)
            .add("captions", DataTypes.createArrayType(DataTypes.StringType, false), true).add("content", DataTypes.BinaryType, true)
            .add("read_error", DataTypes.StringType, true);

    /** The rows the driver lists from datasets, before any image is read: the dataset, the id, the image's name in it, the captions. */
    static final StructType LISTED = new StructType().add("source", DataTypes.StringType, false)
            .add("id", DataTypes.StringType, false).add("image", DataTypes.StringType, false)
            .add("captions", DataTypes.createArrayType(DataTypes.StringType, false), true);

    /** Datasets an executor has opened, by path: each is indexed once per JVM. */
    private static final Map<String, CaptionDataset> OPEN = new ConcurrentHashMap<>();

    private Inputs() {
    }

    /** The images of lit4j datasets, in about {@code partitions} partitions (0: twice the default parallelism). */
    static Dataset<Row> datasets(SparkSession spark, List<String> paths, int partitions, PrintStream log) {
        return datasets(spark, paths, partitions, false, log);
    }

    /** As above; {@code qualified}: ids are "dataset path:image name" (evaluation sets, whose names would clash with the corpus's). */
    static Dataset<Row> datasets(SparkSession spark, List<String> paths, int partitions, boolean qualified, PrintStream log) {
        MapPartitionsFunction<Row, Row> read = rows -> new Chunks(rows, 1, c -> List.of(readListed(c.get(0))));
        return listed(spark, paths, partitions, qualified, log).mapPartitions(read, Encoders.row(SCHEMA));
    }

    /**
     * The images of lit4j datasets as {@link #LISTED} rows, not read yet, in about
     * {@code partitions} partitions: for a job that reads each image where it decodes it
     * ({@link #LISTED_IMAGES}).
     */
    static Dataset<Row> listed(SparkSession spark, List<String> paths, int partitions, boolean qualified, PrintStream log) {
        List<Row> listed = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (String p : paths) {
            String source = Path.of(p).toAbsolutePath().normalize().toString();
            try (CaptionDataset ds = open(source)) {
                if (!ds.badRows().isEmpty()) {
                    log.println("lit4j-spark: " + source + ": left out " + ds.badRows().summary());
                }
                for (CaptionDataset.Row r : ds.rows()) {
                    String id = qualified ? source + ":" + r.image() : r.image();
                    String before = seen.put(id, source);
                    if (before != null) {
                        throw new LitException("image id '" + id + "' is in both " + before + " and " + source
                                + "; ids must be unique across the inputs");
                    }
                    listed.add(RowFactory.create(source, id, r.image(), r.captions().toArray(String[]::new)));
                }
            }
        }
        if (listed.isEmpty()) {
            throw new LitException("no images in " + String.join(" ", paths));
        }
        int n = partitions > 0 ? partitions : 2 * spark.sparkContext().defaultParallelism();
        // the listing is on the driver already: cut it into n contiguous slices, one per partition, rather
        // than shuffling it (a job of its own before the embedding, writing and reading every row once more);
        // each partition is a run of the listing, in its order, so the output's files are too
        JavaRDD<Row> slices = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(listed, Math.min(n, listed.size()));
        return spark.createDataFrame(slices, LISTED);
    }

    /** How a {@link #LISTED} row gives its image to the embedder: named by its id, read from its dataset. */
    static final LitImageEmbedder.RowImages LISTED_IMAGES = new ListedImages();

    private static final class ListedImages implements LitImageEmbedder.RowImages {
        @Override
        public String missing(Row r) {
            return null;
        }

        @Override
        public String name(Row r) {
            return r.getString(1);
        }

        @Override
        public byte[] read(Row r) {
            return readImage(r);
        }
    }

    private static Row readListed(Row r) {
        String id = r.getString(1);
        try {
            return RowFactory.create(id, r.get(3), readImage(r), null);
        } catch (LitException e) {
            return RowFactory.create(id, r.get(3), null, e.getMessage());
        }
    }

    /** A {@link #LISTED} row's image bytes, from its dataset (opened once per JVM); a {@link LitException} naming it when unreadable. */
    private static byte[] readImage(Row listed) {
        return OPEN.computeIfAbsent(listed.getString(0), Inputs::open).readImage(listed.getString(2));
    }

    private static CaptionDataset open(String source) {
        Path p = Path.of(source);
        return CaptionDataset.hasCaptions(p) ? CaptionDataset.open(p) : CaptionDataset.ofImagesOnly(p);
    }

    /** A table of images (see the class comment) in the same shape. */
    static Dataset<Row> table(SparkSession spark, String path) {
        Dataset<Row> t = spark.read().parquet(path);
        List<String> cols = Arrays.asList(t.columns());
        if (!cols.contains("id") || !(cols.contains("image") || cols.contains("path"))) {
            throw new LitException(path + ": a table of images needs columns id and image (binary) or path (string); it has " + cols);
        }
        int id = cols.indexOf("id"), image = cols.indexOf("image"), file = cols.indexOf("path");
        int caption = cols.indexOf("caption"), captions = cols.indexOf("captions");
        MapPartitionsFunction<Row, Row> f = rows -> new Chunks(rows, 1, c -> {
            Row r = c.get(0);
            Object caps = captions >= 0 ? r.get(captions) : caption >= 0 && !r.isNullAt(caption) ? new String[] {r.getString(caption)} : null;
            String rid = String.valueOf(r.get(id));
            if (image >= 0) {
                return List.of(RowFactory.create(rid, caps, r.isNullAt(image) ? null : r.get(image), r.isNullAt(image) ? "no image (null bytes)" : null));
            }
            if (r.isNullAt(file)) {
                return List.of(RowFactory.create(rid, caps, null, "no image (null path)"));
            }
            try {
                return List.of(RowFactory.create(rid, caps, LitImageEmbedder.readPath(r.getString(file)), null));
            } catch (LitException e) {
                return List.of(RowFactory.create(rid, caps, null, e.getMessage()));
            }
        });
        return t.mapPartitions(f, Encoders.row(SCHEMA));
    }
}
