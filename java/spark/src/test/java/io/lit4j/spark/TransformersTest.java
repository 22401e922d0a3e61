package io.lit4j.spark;

import io.lit4j.DefaultModel;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.eval.ZeroShotClassifier;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transformers in a saved and reloaded Pipeline on local[2], against lit4j's own API on the same inputs. */
class TransformersTest {
    static final List<String> CLASSES = List.of("t-shirt,top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker,trainer", "bag",
            "ankle boot");

    @TempDir
    Path dir;

    @Test
    void aSavedPipelineEmbedsAndLabelsAsLitModelDoes() throws Exception {
        SparkSession spark = SparkTests.local();
        Path images = dir.resolve("images");
        Files.createDirectories(images);
        int samples = 0;
        try (Stream<Path> s = Files.list(DefaultModel.samples())) {
            for (Path p : s.filter(f -> f.toString().endsWith(".png")).toList()) {
                Files.copy(p, images.resolve(p.getFileName()));
                samples++;
            }
        }
        Files.writeString(images.resolve("broken.png"), "not a png");
        Dataset<Row> files = spark.read().format("binaryFile").load(images.toString());

        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {new LitImageEmbedder().setBatchSize(4).setThreads(1),
                new LitZeroShot().setLabels(CLASSES.toArray(String[]::new)).setTemplates("clip_80").setTopK(3).setThreads(1)});
        PipelineModel fitted = pipeline.fit(files);
        fitted.write().save(dir.resolve("pipeline").toString());
        PipelineModel loaded = PipelineModel.load(dir.resolve("pipeline").toString());
        assertEquals(3, ((LitZeroShot) loaded.stages()[1]).getOrDefault(((LitZeroShot) loaded.stages()[1]).topK()));
        List<Row> rows = loaded.transform(files).select("path", "embedding", "error", "label", "probability", "top_k").collectAsList();
        assertEquals(samples + 1, rows.size());

        List<ZeroShotClassifier.Label> classes = new LitZeroShot().setLabels(CLASSES.toArray(String[]::new)).classes();
        try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults().withThreads(1))) {
            int good = 0;
            for (Row r : rows) {
                Path file = Path.of(URI.create(r.getString(0)));
                if (file.getFileName().toString().equals("broken.png")) {
                    assertNull(r.get(1));
                    assertTrue(r.getString(2).contains("broken.png") && r.getString(2).contains("not an image"), r.getString(2));
                    assertNull(r.get(3));
                    continue;
                }
                assertNull(r.get(2));
                assertArrayEquals(model.embedImage(file), floats(r.getList(1)), file.toString());
                List<ZeroShotClassifier.Scored> expected = model.classify(List.of(file), classes, "clip_80", 3).get(0);
                assertEquals(expected.get(0).label(), r.getString(3), file.toString());
                assertEquals(expected.get(0).probability(), r.getFloat(4), 0f);
                List<Row> top = r.getList(5);
                assertEquals(3, top.size());
                for (int k = 0; k < 3; k++) {
                    assertEquals(expected.get(k).label(), top.get(k).getString(0));
                    assertEquals(expected.get(k).cosine(), top.get(k).getFloat(2), 0f);
                }
                good++;
            }
            assertEquals(samples, good);
        }
    }

    @Test
    void textsEmbedAsLitModelDoesAndEmptyOnesAreReported() {
        SparkSession spark = SparkTests.local();
        StructType schema = new StructType().add("caption", DataTypes.StringType, true);
        List<String> texts = Arrays.asList("a red circle", null, "", "   ", "two blue squares on a striped background", "ünïcödé 🐱");
        List<Row> in = new ArrayList<>();
        texts.forEach(t -> in.add(RowFactory.create(t)));
        List<Row> out = new LitTextEmbedder().setBatchSize(3).setThreads(1).transform(spark.createDataFrame(in, schema).coalesce(1)).collectAsList();
        try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults().withThreads(1))) {
            for (int i = 0; i < texts.size(); i++) {
                Row r = out.get(i);
                String t = texts.get(i);
                if (t == null || t.isBlank()) {
                    assertNull(r.get(1));
                    assertEquals(t == null ? "no text (null)" : "empty text", r.getString(2));
                } else {
                    assertArrayEquals(model.embedText(t), floats(r.getList(1)), t);
                    assertNull(r.get(2));
                }
            }
        }
    }

    @Test
    void aModelThatCannotLoadFailsOnceWithItsName() throws Exception {
        SparkSession spark = SparkTests.local();
        Dataset<Row> texts = spark.createDataFrame(List.of(RowFactory.create("a cat")), new StructType().add("caption", DataTypes.StringType));
        LitException missing = assertThrows(LitException.class, () -> new LitTextEmbedder().setModel(dir.resolve("nope").toString()).transform(texts));
        assertTrue(missing.getMessage().contains(dir.resolve("nope").toString()) && missing.getMessage().contains("--files"), missing.getMessage());
        Path broken = dir.resolve("broken");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("config.json"), "{ not json");
        LitException bad = assertThrows(LitException.class, () -> new LitTextEmbedder().setModel(broken.toString()).transform(texts));
        assertTrue(bad.getMessage().contains(broken.toString()), bad.getMessage());
        LitException col = assertThrows(LitException.class, () -> new LitImageEmbedder().transform(texts));
        assertEquals("LitImageEmbedder: no column 'content' in struct<caption:string>", col.getMessage());
        assertThrows(LitException.class, () -> new LitZeroShot().setLabels(" , ").classes());
    }

    static float[] floats(List<Float> list) {
        float[] f = new float[list.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = list.get(i);
        }
        return f;
    }
}
