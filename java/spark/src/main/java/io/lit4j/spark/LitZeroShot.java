package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.eval.Templates;
import io.lit4j.eval.ZeroShotClassifier;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Zero-shot labels in a Spark pipeline: an image-embedding column (from {@link LitImageEmbedder})
 * in; the most probable label, its probability and the top {@code k} as
 * {@code array<struct<label, probability, cosine>>} out. Labels are "name" or "name,alias,..."
 * (aliases are other names of the class, averaged in as the CLI's {@code --label} does); templates
 * are {@code clip_best}, {@code clip_80} or a file of one template per line, read on the driver.
 * A row with a null embedding (an image that did not decode) gets null labels; the reason is already
 * in the embedder's error column, so this transformer adds none (its inherited {@code errorCol} is unused).
 */
public final class LitZeroShot extends LitTransformer<LitZeroShot> {
    private final StringArrayParam labels = new StringArrayParam(this, "labels", "classes: \"name\" or \"name,alias,...\"");
    private final Param<String> templates = new Param<>(this, "templates", "clip_best, clip_80 or a file of one template per line");
    private final IntParam topK = new IntParam(this, "topK", "how many labels the top_k column holds");
    private final Param<String> probabilityCol = new Param<>(this, "probabilityCol", "the probability of the label");
    private final Param<String> topKCol = new Param<>(this, "topKCol", "the top k labels with probabilities and cosines");

    static final StructType SCORED = new StructType().add("label", DataTypes.StringType).add("probability", DataTypes.FloatType)
            .add("cosine", DataTypes.FloatType);

    public LitZeroShot(String uid) {
        super(uid, "embedding", "label");
        setDefault(templates, Templates.CLIP_BEST);
        setDefault(topK, 5);
        setDefault(probabilityCol, "probability");
        setDefault(topKCol, "top_k");
    }

    public LitZeroShot() {
        this(Identifiable.randomUID("litZeroShot"));
    }

    public static MLReader<LitZeroShot> read() {
        return new DefaultParamsReader<>();
    }

    public static LitZeroShot load(String path) {
        return read().load(path);
    }

    public StringArrayParam labels() {
        return labels;
    }

    public Param<String> templates() {
        return templates;
    }

    public IntParam topK() {
        return topK;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public Param<String> topKCol() {
        return topKCol;
    }

    public LitZeroShot setLabels(String... v) {
        set(labels, v);
        return this;
    }

    public LitZeroShot setTemplates(String v) {
        set(templates, v);
        return this;
    }

    public LitZeroShot setTopK(int v) {
        set(topK, v);
        return this;
    }

    /** The classes the labels name. */
    List<ZeroShotClassifier.Label> classes() {
        if (!isDefined(labels) || getOrDefault(labels).length == 0) {
            throw new LitException("LitZeroShot: no labels; setLabels(\"cat\", \"dog\") or \"sneaker,trainer\" for a class with aliases");
        }
        List<ZeroShotClassifier.Label> out = new ArrayList<>();
        for (String l : getOrDefault(labels)) {
            List<String> names = Arrays.stream(l.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
            if (names.isEmpty()) {
                throw new LitException("LitZeroShot: an empty label in " + Arrays.toString(getOrDefault(labels)));
            }
            out.add(ZeroShotClassifier.Label.of(names.get(0), names.subList(1, names.size()).toArray(String[]::new)));
        }
        return out;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        inputIndex(schema, DataTypes.createArrayType(DataTypes.FloatType, false), DataTypes.createArrayType(DataTypes.FloatType, true));
        return plus(schema, DataTypes.createStructField(getOutputCol(), DataTypes.StringType, true),
                DataTypes.createStructField(getOrDefault(probabilityCol), DataTypes.FloatType, true),
                DataTypes.createStructField(getOrDefault(topKCol), DataTypes.createArrayType(SCORED, false), true));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType in = dataset.schema(), out = transformSchema(in);
        int col = inputIndex(in, DataTypes.createArrayType(DataTypes.FloatType, false), DataTypes.createArrayType(DataTypes.FloatType, true));
        ModelSpec spec = modelSpec();
        List<ZeroShotClassifier.Label> classes = classes();
        // what travels to the executors: plain strings (a Label is not serialisable)
        String[][] names = classes.stream().map(l -> l.aliases().toArray(String[]::new)).toArray(String[][]::new); // the name first
        String[] temps = Templates.load(getOrDefault(templates)).toArray(String[]::new); // a template file is read here, once
        int k = Math.max(1, Math.min((Integer) getOrDefault(topK), classes.size()));
        checkLoads(spec);
        MapPartitionsFunction<Row, Row> f = rows -> {
            ModelSpec task = spec.forThisTask();
            List<ZeroShotClassifier.Label> cls = Arrays.stream(names)
                    .map(n -> new ZeroShotClassifier.Label(n[0], List.of(n))).toList();
            return new Chunks(rows, 4 * task.batchSize(), c -> label(ExecutorModels.get(task), c, col, cls, List.of(temps), k));
        };
        return dataset.toDF().mapPartitions(f, Encoders.row(out));
    }

    static List<Row> label(LitModel model, List<Row> rows, int col, List<ZeroShotClassifier.Label> classes, List<String> templates, int k) {
        ZeroShotClassifier zs = model.classifier(classes, templates); // built once per executor and class list
        int dim = model.embedDim();
        List<Integer> present = new ArrayList<>();
        float[] z = new float[rows.size() * dim];
        for (int i = 0; i < rows.size(); i++) {
            if (rows.get(i).isNullAt(col)) {
                continue;
            }
            float[] e = Chunks.floats(rows.get(i), col);
            if (e.length != dim) {
                throw new LitException("LitZeroShot: an embedding of " + e.length + " values, but the model's have " + dim
                        + ": embed with the same model");
            }
            System.arraycopy(e, 0, z, present.size() * dim, dim);
            present.add(i);
        }
        List<List<ZeroShotClassifier.Scored>> scored = present.isEmpty() ? List.of()
                : zs.classify(Arrays.copyOf(z, present.size() * dim), k);
        Object[][] extra = new Object[rows.size()][];
        for (int p = 0; p < present.size(); p++) {
            List<ZeroShotClassifier.Scored> s = scored.get(p);
            Row[] top = s.stream().map(x -> RowFactory.create(x.label(), x.probability(), x.cosine())).toArray(Row[]::new);
            extra[present.get(p)] = new Object[] {s.get(0).label(), s.get(0).probability(), top};
        }
        List<Row> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            out.add(Chunks.append(rows.get(i), extra[i] == null ? new Object[] {null, null, null} : extra[i]));
        }
        return out;
    }
}
