package io.lit4j.spark;

import io.lit4j.LitException;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;

/**
 * What lit4j's Spark transformers share: the model parameters (model, backend, threads per task,
 * precision, batch size), the input, output and error columns, and ML persistence (each is saved
 * as its parameters; the model itself stays where the model path says). Setters return the
 * concrete transformer, so they chain.
 *
 * @param <T> the concrete transformer
 */
public abstract class LitTransformer<T extends LitTransformer<T>> extends Transformer implements DefaultParamsWritable {
    private final String uid;
    private final Param<String> model;
    private final Param<String> backend;
    private final IntParam threads;
    private final Param<String> precision;
    private final IntParam batchSize;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> errorCol;

    protected LitTransformer(String uid, String input, String output) {
        this.uid = uid;
        model = new Param<>(this, "model", "the model: \"default\" (the shipped one), a path every executor can read, "
                + "or the file name of one shipped with spark-submit --files");
        backend = new Param<>(this, "backend", "auto, onednn or scalar");
        threads = new IntParam(this, "threads", "oneDNN threads per task; 0: the task's spark.task.cpus");
        precision = new Param<>(this, "precision", "fp32 or bf16");
        batchSize = new IntParam(this, "batchSize", "rows per forward pass");
        inputCol = new Param<>(this, "inputCol", "the input column");
        outputCol = new Param<>(this, "outputCol", "the output column");
        errorCol = new Param<>(this, "errorCol", "why a row has no output (null when it has one)");
        setDefault(model, "default");
        setDefault(backend, "auto");
        setDefault(threads, 0);
        setDefault(precision, "fp32");
        setDefault(batchSize, 32);
        setDefault(inputCol, input);
        setDefault(outputCol, output);
        setDefault(errorCol, "error");
    }

    @Override
    public String uid() {
        return uid;
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    public Param<String> model() {
        return model;
    }

    public Param<String> backend() {
        return backend;
    }

    public IntParam threads() {
        return threads;
    }

    public Param<String> precision() {
        return precision;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> errorCol() {
        return errorCol;
    }

    public T setModel(String v) {
        set(model, v);
        return self();
    }

    public T setBackend(String v) {
        set(backend, v);
        return self();
    }

    public T setThreads(int v) {
        set(threads, v);
        return self();
    }

    public T setPrecision(String v) {
        set(precision, v);
        return self();
    }

    public T setBatchSize(int v) {
        set(batchSize, v);
        return self();
    }

    public T setInputCol(String v) {
        set(inputCol, v);
        return self();
    }

    public T setOutputCol(String v) {
        set(outputCol, v);
        return self();
    }

    public T setErrorCol(String v) {
        set(errorCol, v);
        return self();
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public String getErrorCol() {
        return getOrDefault(errorCol);
    }

    /** The model these parameters name (checked: a bad batch size or precision fails here, on the driver). */
    public ModelSpec modelSpec() {
        return new ModelSpec(getOrDefault(model), getOrDefault(backend), (Integer) getOrDefault(threads), getOrDefault(precision),
                (Integer) getOrDefault(batchSize));
    }

    /**
     * Loads the model once on the driver before any task runs, so that a model that cannot load
     * fails the job once, with its own message, rather than every task in turn.
     */
    protected static void checkLoads(ModelSpec spec) {
        ExecutorModels.get(spec.forThisTask());
    }

    /** The input column's index, checked to be one of {@code types}. */
    protected int inputIndex(StructType schema, DataType... types) {
        String col = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new LitException(getClass().getSimpleName() + ": no column '" + col + "' in " + schema.simpleString());
        }
        StructField f = schema.fields()[schema.fieldIndex(col)];
        if (Arrays.stream(types).noneMatch(t -> t.sameType(f.dataType()))) {
            throw new LitException(getClass().getSimpleName() + ": column '" + col + "' is " + f.dataType().simpleString() + ", not "
                    + String.join(" or ", Arrays.stream(types).map(DataType::simpleString).toList()));
        }
        return schema.fieldIndex(col);
    }

    /** {@code schema} with {@code added}, none of which may already be there. */
    protected StructType plus(StructType schema, StructField... added) {
        StructType out = schema;
        for (StructField f : added) {
            if (Arrays.asList(out.fieldNames()).contains(f.name())) {
                throw new LitException(getClass().getSimpleName() + ": the output column '" + f.name() + "' already exists");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public T copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
