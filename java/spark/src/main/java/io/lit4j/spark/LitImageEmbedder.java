package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.data.BadRows;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Images to embeddings in a Spark pipeline: the input column holds encoded image bytes (as
 * {@code spark.read.format("binaryFile")} gives them in {@code content}) or a path every executor
 * can read; the output is the model's L2-normalised image embedding, {@code array<float>}. Rows are
 * embedded in batches inside each partition by lit4j's one {@link ImageEmbedder}, so the
 * embeddings are those of {@code lit4j embed} bit for bit (a row's embedding does not depend on
 * its batch: {@code BatchRowIndependenceTest}). A row whose image is missing, unreadable or does
 * not decode gets a null embedding and the reason in the error column; it never fails the job.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("photos/");
 * Dataset<Row> z = new LitImageEmbedder().setModel("default").setBatchSize(32).transform(images);
 * }</pre>
 */
public final class LitImageEmbedder extends LitTransformer<LitImageEmbedder> {
    /**
     * Rows a task takes from its partition at a time, in batches. The decoding thread runs ahead
     * only within a chunk, so each chunk ends with the tower waiting for the next one's first
     * batch: a long chunk makes that rare (a chunk holds only encoded images, a few KiB each).
     */
    static final int CHUNK_BATCHES = 16;

    /**
     * How a chunk's rows give their images: why a row has none (null when it has one), its name in
     * messages, and its encoded bytes, which {@link ImageEmbedder} reads on its decoding thread,
     * overlapped with the tower.
     */
    interface RowImages extends Serializable {
        String missing(Row r);

        String name(Row r);

        byte[] read(Row r);
    }

    /** A column of encoded bytes or of paths; {@code nameCol}: the column that names the image in messages (-1: none). */
    private record ColumnImages(int col, boolean paths, int nameCol) implements RowImages {
        @Override
        public String missing(Row r) {
            return r.isNullAt(col) ? "no image (null " + (paths ? "path" : "bytes") + ")" : null;
        }

        @Override
        public String name(Row r) {
            return nameCol >= 0 && !r.isNullAt(nameCol) ? r.getString(nameCol) : "image";
        }

        @Override
        public byte[] read(Row r) {
            return paths ? readPath(r.getString(col)) : (byte[]) r.get(col);
        }
    }

    public LitImageEmbedder(String uid) {
        super(uid, "content", "embedding");
    }

    public LitImageEmbedder() {
        this(Identifiable.randomUID("litImageEmbedder"));
    }

    public static MLReader<LitImageEmbedder> read() {
        return new DefaultParamsReader<>();
    }

    public static LitImageEmbedder load(String path) {
        return read().load(path);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        inputIndex(schema, DataTypes.BinaryType, DataTypes.StringType);
        return plus(schema, DataTypes.createStructField(getOutputCol(), DataTypes.createArrayType(DataTypes.FloatType, false), true),
                DataTypes.createStructField(getErrorCol(), DataTypes.StringType, true));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType in = dataset.schema(), out = transformSchema(in);
        int col = inputIndex(in, DataTypes.BinaryType, DataTypes.StringType);
        boolean paths = in.fields()[col].dataType().sameType(DataTypes.StringType);
        List<String> names = Arrays.asList(in.fieldNames()); // messages name the image by its path (binaryFile's column) or id
        int nameCol = paths ? col : names.contains("path") ? names.indexOf("path") : names.indexOf("id");
        ModelSpec spec = modelSpec();
        checkLoads(spec);
        return dataset.toDF().mapPartitions(partitions(spec, new ColumnImages(col, paths, nameCol)), Encoders.row(out));
    }

    /**
     * The partition function that embeds each row's image as {@code how} gives it, appending the
     * embedding (or null) and the error (or null) to the row; {@code spec}'s model is loaded once
     * per executor.
     */
    static MapPartitionsFunction<Row, Row> partitions(ModelSpec spec, RowImages how) {
        int chunk = spec.batchSize() * CHUNK_BATCHES;
        return rows -> {
            ModelSpec task = spec.forThisTask();
            LitModel model = ExecutorModels.get(task);
            // the model is shared by the executor's tasks, but each task decodes on a thread of its own
            // (as lit4j embed does per process): one shared decoding thread would serialise them
            ImageEmbedder images = ImageEmbedder.of(model.twoTower(), ImageEmbedder.Options.of(task.batchSize(), 1));
            TaskContext tc = TaskContext.get();
            if (tc != null) {
                tc.addTaskCompletionListener((TaskCompletionListener) done -> images.close());
            }
            return new Chunks(rows, chunk, c -> embed(images, c, how));
        };
    }

    /** Embeds one chunk of rows: each row plus its embedding (or null) and its error (or null). */
    static List<Row> embed(ImageEmbedder images, List<Row> rows, RowImages how) {
        int n = rows.size();
        float[][] z = new float[n][];
        String[] error = new String[n];
        List<Integer> present = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            error[i] = how.missing(rows.get(i));
            if (error[i] == null) {
                present.add(i);
            }
        }
        ImageSource source = new ImageSource() {
            @Override
            public int size() {
                return present.size();
            }

            @Override
            public String name(int i) {
                return how.name(rows.get(present.get(i)));
            }

            @Override
            public byte[] read(int i) {
                return how.read(rows.get(present.get(i)));
            }
        };
        int dim = images.dim();
        images.embed(source, true, new ImageEmbedder.Sink() {
            @Override
            public void embedded(int[] indices, float[] embeddings) {
                for (int j = 0; j < indices.length; j++) {
                    z[present.get(indices[j])] = Arrays.copyOfRange(embeddings, j * dim, (j + 1) * dim);
                }
            }

            @Override
            public void skipped(int index, BadRows.Reason reason, String why) {
                error[present.get(index)] = why;
            }
        }, done -> { });
        List<Row> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Chunks.append(rows.get(i), z[i], error[i]));
        }
        return out;
    }

    /** The bytes of a local path or a {@code file:} URI (what binaryFile's path column holds). */
    static byte[] readPath(String p) {
        Path path = p.startsWith("file:") ? Path.of(URI.create(p)) : Path.of(p);
        try {
            return Files.readAllBytes(path);
        } catch (IOException | RuntimeException e) {
            throw new LitException(p + ": cannot read: " + e.getMessage(), e);
        }
    }
}
