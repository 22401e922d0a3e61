package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.data.Images;
import io.lit4j.dedup.DedupRule;
import io.lit4j.dedup.ExactKeys;
import io.lit4j.dedup.NearDuplicates;
import io.lit4j.dedup.PerceptualHash;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;
import scala.Tuple3;
import scala.Tuple4;

import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

import static org.apache.spark.sql.functions.lit;

/**
 * The {@code neighbours} job: duplicate pairs in a corpus, and between the corpus and evaluation
 * sets, by lit4j's one rule ({@link DedupRule}, {@link ExactKeys}, {@link PerceptualHash}; the same
 * classes {@code lit4j dedup} is to use):
 * <ul>
 *   <li>{@code pixels}: the same decoded pixels; {@code caption}: the same normalised caption;</li>
 *   <li>{@code near}: perceptual hashes within the rule's Hamming bound, confirmed by the cosine of
 *       the locked image tower's embeddings (a looser bound against evaluation images).</li>
 * </ul>
 * Blocked, not all against all: images go to their hash-band blocks ({@link DedupRule#blockKeys}),
 * each block is one group on some executor and yields its candidates ({@link DedupRule#candidates},
 * each pair once over all blocks), and only candidates are joined with their embeddings. An exact
 * group of k images gives k - 1 pairs (each with its first member), not k². Output: Parquet of
 * {@code a, b, kind, hamming, cosine, against_eval} (ids; {@code b} is the evaluation image in a
 * pair against one, else the larger id of a near pair or a later member of an exact group; hamming and
 * cosine are null for the exact kinds).
 */
final class NeighboursJob {
    static final StructType KEYED = new StructType().add("row_id", DataTypes.StringType).add("eval", DataTypes.BooleanType)
            .add("pixel_key", DataTypes.StringType).add("phash", DataTypes.LongType)
            .add("caption_keys", DataTypes.createArrayType(DataTypes.StringType, false))
            .add("vector", DataTypes.createArrayType(DataTypes.FloatType, false));

    static final StructType PAIRS = new StructType().add("a", DataTypes.StringType, false).add("b", DataTypes.StringType, false)
            .add("kind", DataTypes.StringType, false).add("hamming", DataTypes.IntegerType).add("cosine", DataTypes.FloatType)
            .add("against_eval", DataTypes.BooleanType, false);

    private NeighboursJob() {
    }

    /** Writes the pairs to {@code out}; returns how many there are. {@code eval} may be null. */
    static long run(SparkSession spark, Dataset<Row> corpus, Dataset<Row> eval, ModelSpec spec, DedupRule rule, String out, PrintStream log) {
        Dataset<Row> all = corpus.withColumn("eval", lit(false));
        if (eval != null) {
            all = all.unionByName(eval.withColumn("eval", lit(true)));
        }
        LitImageEmbedder embed = new LitImageEmbedder().setModel(spec.model()).setBackend(spec.backend()).setThreads(spec.threads())
                .setPrecision(spec.precision()).setBatchSize(spec.batchSize()).setErrorCol("embed_error");
        Dataset<Row> z = embed.transform(all);
        StructType zs = z.schema();
        int id = zs.fieldIndex("id"), ev = zs.fieldIndex("eval"), content = zs.fieldIndex("content"), caps = zs.fieldIndex("captions"),
                vec = zs.fieldIndex("embedding");
        MapPartitionsFunction<Row, Row> keys = rows -> new Chunks(rows, 1, c -> List.of(keys(c.get(0), id, ev, content, caps, vec)));
        Dataset<Row> keyed = z.mapPartitions(keys, Encoders.row(KEYED)).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            JavaRDD<Row> pairs = exact(keyed, 2, "pixels").union(exact(keyed, 4, "caption")).union(near(keyed, rule));
            spark.createDataFrame(pairs, PAIRS).write().parquet(out);
        } finally {
            keyed.unpersist();
        }
        long n = spark.read().parquet(out).count();
        log.println("lit4j-spark neighbours: " + n + " duplicate pairs into " + out);
        return n;
    }

    /** A row's keys: decoded once more here (the embedder decoded it for the tower); nulls for an image that does not decode. */
    private static Row keys(Row r, int id, int ev, int content, int caps, int vec) {
        String pixel = null;
        Long phash = null;
        if (!r.isNullAt(content) && !r.isNullAt(vec)) {
            try {
                BufferedImage img = Images.decode((byte[]) r.get(content), r.getString(id));
                pixel = ExactKeys.pixels(img);
                phash = PerceptualHash.of(img);
            } catch (LitException e) {
                // it embedded, so it decodes; a decoder that changed its mind leaves the row out of the image kinds
            }
        }
        List<String> captionKeys = new ArrayList<>();
        if (!r.isNullAt(caps)) {
            for (String c : Chunks.strings(r, caps)) {
                String k = ExactKeys.caption(c);
                if (k != null && !captionKeys.contains(k)) {
                    captionKeys.add(k);
                }
            }
        }
        return RowFactory.create(r.getString(id), r.getBoolean(ev), pixel, phash, captionKeys.toArray(String[]::new), r.get(vec));
    }

    /** Pairs of rows sharing a key (column {@code keyCol}: the pixel key, or the caption keys): each with the group's first corpus row. */
    private static JavaRDD<Row> exact(Dataset<Row> keyed, int keyCol, String kind) {
        JavaPairRDD<String, Tuple2<String, Boolean>> byKey = keyed.javaRDD().flatMapToPair(r -> {
            List<Tuple2<String, Tuple2<String, Boolean>>> out = new ArrayList<>();
            if (!r.isNullAt(keyCol)) {
                List<String> ks = keyCol == 4 ? Chunks.strings(r, keyCol) : List.of(r.getString(keyCol));
                for (String k : ks) {
                    out.add(new Tuple2<>(k, new Tuple2<>(r.getString(0), r.getBoolean(1))));
                }
            }
            return out.iterator();
        });
        return byKey.groupByKey().flatMap(g -> {
            List<Tuple2<String, Boolean>> members = new ArrayList<>();
            g._2().forEach(members::add);
            members.sort(Comparator.comparing((Tuple2<String, Boolean> m) -> m._2()).thenComparing(Tuple2::_1)); // corpus rows first, by id
            List<Row> out = new ArrayList<>();
            if (members.size() > 1 && !members.get(0)._2()) {
                Tuple2<String, Boolean> first = members.get(0);
                for (Tuple2<String, Boolean> m : members.subList(1, members.size())) {
                    if (!m._1().equals(first._1())) {
                        out.add(RowFactory.create(first._1(), m._1(), kind, null, null, m._2()));
                    }
                }
            }
            return out.iterator();
        });
    }

    /** Near-duplicate pairs: blocks by hash band, candidates per block, cosine confirmation on the candidates only. */
    private static JavaRDD<Row> near(Dataset<Row> keyed, DedupRule rule) {
        int maxHamming = rule.maxHamming(), bands = rule.bands();
        float cosine = rule.cosine(), evalCosine = rule.evalCosine();
        // row number, (id, eval, phash, embedding) of every image with a hash and an embedding
        JavaPairRDD<Long, Row> items = keyed.javaRDD().filter(r -> !r.isNullAt(3) && !r.isNullAt(5)).zipWithIndex()
                .mapToPair(t -> new Tuple2<>(t._2(), t._1()));
        JavaPairRDD<Long, Tuple4<Long, Long, Boolean, Boolean>> members = items.flatMapToPair(t -> {
            DedupRule r = new DedupRule(maxHamming, cosine, evalCosine, bands);
            long hash = t._2().getLong(3);
            boolean eval = t._2().getBoolean(1);
            List<Tuple2<Long, Tuple4<Long, Long, Boolean, Boolean>>> out = new ArrayList<>();
            for (boolean home : new boolean[] {true, false}) {
                for (long key : r.blockKeys(hash, home)) {
                    out.add(new Tuple2<>(key, new Tuple4<>(t._1(), hash, eval, home)));
                }
            }
            return out.iterator();
        });
        // (a, (b, hamming, againstEval)) for every candidate, found block by block
        JavaPairRDD<Long, Tuple3<Long, Integer, Boolean>> candidates = members.groupByKey().flatMapToPair(block -> {
            DedupRule r = new DedupRule(maxHamming, cosine, evalCosine, bands);
            List<DedupRule.Member> ms = new ArrayList<>();
            block._2().forEach(m -> ms.add(new DedupRule.Member(m._1(), m._2(), m._3(), m._4())));
            List<Tuple2<Long, Tuple3<Long, Integer, Boolean>>> out = new ArrayList<>();
            for (DedupRule.Candidate c : r.candidates(block._1(), ms)) {
                out.add(new Tuple2<>(c.a(), new Tuple3<>(c.b(), c.hamming(), c.againstEval())));
            }
            return out.iterator();
        });
        JavaPairRDD<Long, Row> rowsById = items;
        return candidates.join(rowsById)
                .mapToPair(t -> new Tuple2<>(t._2()._1()._1(), new Tuple2<>(t._2()._1(), t._2()._2())))
                .join(rowsById)
                .flatMap(t -> {
                    DedupRule r = new DedupRule(maxHamming, cosine, evalCosine, bands);
                    Tuple3<Long, Integer, Boolean> c = t._2()._1()._1();
                    Row a = t._2()._1()._2(), b = t._2()._2();
                    DedupRule.Candidate cand = new DedupRule.Candidate(0, t._1(), c._2(), c._3());
                    NearDuplicates.Pair p = NearDuplicates.confirm(r, cand, Chunks.floats(a, 5), Chunks.floats(b, 5));
                    if (p == null) {
                        return Collections.emptyIterator();
                    }
                    boolean aFirst = b.getBoolean(1) || (!a.getBoolean(1) && a.getString(0).compareTo(b.getString(0)) < 0);
                    Row x = aFirst ? a : b, y = aFirst ? b : a; // an evaluation image second, else by id
                    return List.of(RowFactory.create(x.getString(0), y.getString(0), "near", p.hamming(), p.cosine(), p.againstEval())).iterator();
                });
    }
}
