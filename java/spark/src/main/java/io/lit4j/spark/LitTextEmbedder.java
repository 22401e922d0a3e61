package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Texts to embeddings in a Spark pipeline: a string column in, the model's L2-normalised text
 * embedding ({@code array<float>}) out, through lit4j's one {@code TextEmbedder}, in batches formed
 * inside each partition. A null or blank text gets a null embedding and a reason in the error
 * column; a text the tokenizer rejects gets its message there; neither fails the job.
 */
public final class LitTextEmbedder extends LitTransformer<LitTextEmbedder> {
    public LitTextEmbedder(String uid) {
        super(uid, "caption", "text_embedding");
    }

    public LitTextEmbedder() {
        this(Identifiable.randomUID("litTextEmbedder"));
    }

    public static MLReader<LitTextEmbedder> read() {
        return new DefaultParamsReader<>();
    }

    public static LitTextEmbedder load(String path) {
        return read().load(path);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        inputIndex(schema, DataTypes.StringType);
        return plus(schema, DataTypes.createStructField(getOutputCol(), DataTypes.createArrayType(DataTypes.FloatType, false), true),
                DataTypes.createStructField(getErrorCol(), DataTypes.StringType, true));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType in = dataset.schema(), out = transformSchema(in);
        int col = inputIndex(in, DataTypes.StringType);
        ModelSpec spec = modelSpec();
        checkLoads(spec);
        MapPartitionsFunction<Row, Row> f = rows -> {
            ModelSpec task = spec.forThisTask();
            return new Chunks(rows, task.batchSize(), c -> embed(ExecutorModels.get(task), c, col));
        };
        return dataset.toDF().mapPartitions(f, Encoders.row(out));
    }

    static List<Row> embed(LitModel model, List<Row> rows, int col) {
        int n = rows.size(), dim = model.embedDim();
        float[][] z = new float[n][];
        String[] error = new String[n];
        List<Integer> present = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String t = rows.get(i).isNullAt(col) ? null : rows.get(i).getString(col);
            if (t == null || t.isBlank()) {
                error[i] = t == null ? "no text (null)" : "empty text";
            } else {
                present.add(i);
                texts.add(t);
            }
        }
        try {
            float[] all = model.texts().embed(texts);
            for (int j = 0; j < present.size(); j++) {
                z[present.get(j)] = Arrays.copyOfRange(all, j * dim, (j + 1) * dim);
            }
        } catch (LitException batchFailed) {
            for (int j = 0; j < present.size(); j++) { // one text spoiled the batch: embed each alone to say which
                try {
                    z[present.get(j)] = model.texts().embed(List.of(texts.get(j)));
                } catch (LitException e) {
                    error[present.get(j)] = e.getMessage();
                }
            }
        }
        List<Row> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Chunks.append(rows.get(i), z[i], error[i]));
        }
        return out;
    }
}
