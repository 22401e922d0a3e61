package io.lit4j.spark;

import io.lit4j.LitModel;
import io.lit4j.cli.Main;
import io.lit4j.data.CaptionDataset;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import io.lit4j.io.HostArray;
import io.lit4j.io.Npy;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.Metadata;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code embed} job on local[2]: the same bits as {@code lit4j embed} on the same images, bad
 * rows reported and not fatal, and its cache read by {@code lit4j tune} without embedding again.
 */
class EmbedJobTest {
    @TempDir
    static Path dir;
    static Path corpus;

    @BeforeAll
    static void corpus() throws Exception {
        corpus = SparkTests.scenes(dir, 60, 3, 21); // 5 % corrupt
    }

    /** The dotted paths of a Parquet file's leaf columns, as its footer names them. */
    private static Set<String> columnPaths(SparkSession spark, String file) throws Exception {
        Set<String> paths = new HashSet<>();
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file),
                spark.sparkContext().hadoopConfiguration()))) {
            for (BlockMetaData b : r.getFooter().getBlocks()) {
                for (ColumnChunkMetaData c : b.getColumns()) {
                    paths.add(c.getPath().toDotString());
                }
            }
        }
        return paths;
    }

    /** Two .tar shards (lit4j datasets) and a Parquet table of paths give the embeddings of the same files. */
    @Test
    void tarShardsAndATableOfPathsEmbedTheSameImages() throws Exception {
        SparkSession spark = SparkTests.local();
        List<String> shards = new ArrayList<>();
        List<Row> table = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            Path tar = dir.resolve("shard-" + s + ".tar");
            try (TarArchiveOutputStream t = new TarArchiveOutputStream(Files.newOutputStream(tar))) {
                StringBuilder jsonl = new StringBuilder();
                for (int i = 0; i < 4; i++) {
                    String name = String.format("images/%06d.png", s * 4 + i);
                    put(t, name, Files.readAllBytes(corpus.resolve(name)));
                    jsonl.append(CaptionDataset.captionLine(name, List.of("shard " + s + " image " + i), null)).append('\n');
                    table.add(RowFactory.create("t" + (s * 4 + i), corpus.resolve(name).toString()));
                }
                put(t, CaptionDataset.JSONL, jsonl.toString().getBytes(StandardCharsets.UTF_8));
            }
            shards.add(tar.toString());
        }
        table.add(RowFactory.create("missing", dir.resolve("no-such.png").toString()));
        Path tableDir = dir.resolve("table.parquet");
        spark.createDataFrame(table, new StructType().add("id", DataTypes.StringType).add("path", DataTypes.StringType)).write()
                .parquet(tableDir.toString());
        List<String> args = new ArrayList<>(List.of("embed", "--images"));
        args.addAll(shards);
        args.addAll(List.of("--out", dir.resolve("shards.parquet").toString()));
        SparkTests.job(args.toArray(String[]::new));
        SparkTests.job("embed", "--table", tableDir.toString(), "--out", dir.resolve("from-table.parquet").toString());
        try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults().withThreads(1))) {
            List<Row> fromShards = spark.read().parquet(dir.resolve("shards.parquet").toString()).collectAsList();
            assertEquals(8, fromShards.size());
            for (Row r : fromShards) {
                assertArrayEquals(model.embedImage(corpus.resolve(r.getString(0))), TransformersTest.floats(r.getList(2)), r.getString(0));
                assertTrue(r.<String>getList(1).get(0).startsWith("shard "), r.toString());
            }
            List<Row> fromTable = spark.read().parquet(dir.resolve("from-table.parquet").toString()).collectAsList();
            assertEquals(9, fromTable.size());
            for (Row r : fromTable) {
                if (r.getString(0).equals("missing")) {
                    assertNull(r.get(2));
                    assertTrue(r.getString(3).contains("no-such.png") && r.getString(3).contains("cannot read"), r.getString(3));
                } else {
                    int i = Integer.parseInt(r.getString(0).substring(1));
                    assertArrayEquals(model.embedImage(corpus.resolve(String.format("images/%06d.png", i))), TransformersTest.floats(r.getList(2)));
                }
            }
        }
    }

    private static void put(TarArchiveOutputStream t, String name, byte[] bytes) throws Exception {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(bytes.length);
        t.putArchiveEntry(e);
        t.write(bytes);
        t.closeArchiveEntry();
    }

    @Test
    void embeddingsEqualLit4jEmbedBitForBitAndBadRowsAreReported() throws Exception {
        SparkSession spark = SparkTests.local();
        Path out = dir.resolve("z.parquet"), cache = dir.resolve("cache");
        SparkTests.job("embed", "--images", corpus.toString(), "--out", out.toString(), "--cache", cache.toString(), "--batch", "7",
                "--partitions", "3");

        Map<String, Row> rows = new HashMap<>();
        for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
            rows.put(r.getString(r.fieldIndex("id")), r);
        }
        assertEquals(63, rows.size());
        for (int i = 0; i < 3; i++) {
            Row bad = rows.get(String.format("images/bad%02d.png", i));
            assertNull(bad.get(bad.fieldIndex("embedding")));
            assertTrue(bad.getString(bad.fieldIndex("error")).startsWith(String.format("images/bad%02d.png: ", i)), bad.toString());
        }
        assertEquals(List.of("a broken picture 0"), rows.get("images/bad00.png").getList(1));
        Metadata meta = spark.read().parquet(out.toString()).schema().apply("embedding").metadata();
        String[] files = spark.read().parquet(out.toString()).inputFiles();
        assertEquals(3, files.length, "one file per partition of the listing");
        for (String f : files) { // the path the job's dictionary option names (a wrong one would be ignored silently)
            assertTrue(columnPaths(spark, f).contains(EmbedJob.EMBEDDING_PATH), f + ": " + columnPaths(spark, f));
        }
        assertTrue(meta.getString(EmbedJob.DIGEST).matches("[0-9a-f]{16}"), meta.json());

        // lit4j embed on the same files, one oneDNN thread as each Spark task has (spark.task.cpus = 1), its default batch
        Path npy = dir.resolve("cli.npy");
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"embed", "--images", corpus.resolve("images").toString(), "--threads", "1", "--out", npy.toString(), "--quiet"},
                new PrintStream(o, true), new PrintStream(e, true));
        assertEquals(0, rc, e::toString);
        List<String> ids = Files.readAllLines(dir.resolve("cli.ids.txt"));
        assertEquals(60, ids.size(), "the CLI skips the 3 corrupt files of a folder");
        float[] cli;
        try (Arena a = Arena.ofConfined()) {
            HostArray arr = Npy.readFile(npy, a);
            cli = arr.toFloatArray();
        }
        int dim = cli.length / ids.size(), compared = 0;
        for (int i = 0; i < ids.size(); i++) {
            String id = "images/" + Path.of(ids.get(i)).getFileName(); // the CLI shows names under the folder it was given
            Row r = rows.get(id);
            assertNotNull(r, id);
            List<Float> z = r.getList(r.fieldIndex("embedding"));
            float[] spark1 = new float[z.size()];
            for (int j = 0; j < spark1.length; j++) {
                spark1[j] = z.get(j);
            }
            assertArrayEquals(Arrays.copyOfRange(cli, i * dim, (i + 1) * dim), spark1, id);
            compared++;
        }
        assertEquals(60, compared);

        // lit4j tune reads the cache the job wrote: it embeds nothing, and the cache does not grow
        Path folder = cache.resolve(meta.getString(EmbedJob.DIGEST));
        long before = Files.size(folder.resolve("vectors.f32"));
        assertEquals(60L * dim * 4, before);
        assertEquals(3, Files.readAllLines(folder.resolve("undecodable.tsv")).size());
        ByteArrayOutputStream to = new ByteArrayOutputStream(), te = new ByteArrayOutputStream();
        rc = Main.run(new String[] {"tune", "--model", "default", "--data", corpus.toString(), "--steps", "2", "--batch", "8", "--warmup", "1",
                "--cache", cache.toString(), "--out", dir.resolve("run").toString(), "--workers", "1"}, new PrintStream(to, true), new PrintStream(te, true));
        String log = to.toString(StandardCharsets.UTF_8) + te.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, log);
        assertTrue(log.contains("image embeddings are cached in " + folder), log);
        assertEquals(before, Files.size(folder.resolve("vectors.f32")), "tune embedded nothing");
    }
}
