package io.lit4j.train;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.data.BadRows;
import io.lit4j.data.CaptionDataset;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
import io.lit4j.model.Params;
import io.lit4j.report.ProgressBar;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Embeddings of a locked image tower, computed once per image and kept on disk. A locked tower is
 * deterministic, so an image's embedding depends only on (the tower's weights, the preprocessing,
 * the image): the cache folder is named by a digest of the first two, and inside it each image id
 * maps to one row of a float32 file that is memory-mapped for reading. Later epochs and later runs
 * read the rows instead of running the tower; tuning then costs only the text tower.
 *
 * <p>Layout: {@code vectors.f32} (rows × dim, little-endian) and {@code index.tsv} (id TAB row),
 * both append-only; a row counts only once its index line is written, so a crash mid-fill loses
 * at most the rows after the last flushed line and never yields a wrong vector.
 */
public final class ImageEmbeddingCache implements AutoCloseable {
    private final Path dir;
    private final int dim;
    private final Map<String, Integer> rows = new HashMap<>();
    private final FileChannel vectors;
    private final BufferedWriter index;
    private Arena mapArena;
    private MemorySegment mapped;
    private int mappedRows;

    private ImageEmbeddingCache(Path dir, int dim) throws IOException {
        this.dir = dir;
        this.dim = dim;
        Files.createDirectories(dir);
        Path idx = dir.resolve("index.tsv");
        if (Files.exists(idx)) {
            for (String line : Files.readAllLines(idx, StandardCharsets.UTF_8)) {
                int tab = line.lastIndexOf('\t');
                if (tab > 0) {
                    rows.put(line.substring(0, tab), Integer.parseInt(line.substring(tab + 1)));
                }
            }
        }
        this.vectors = FileChannel.open(dir.resolve("vectors.f32"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        long complete = (rows.values().stream().mapToLong(Integer::longValue).max().orElse(-1) + 1) * dim * 4;
        if (vectors.size() < complete) {
            throw new LitException(dir + ": vectors.f32 is shorter than index.tsv says (" + vectors.size() + " < " + complete
                    + " bytes); delete the folder to rebuild the cache");
        }
        vectors.truncate(complete); // drop vectors written after the last indexed row
        this.index = Files.newBufferedWriter(idx, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * Opens (or creates) the cache for an image tower under {@code root}: the folder is named by a
     * digest of the tower's parameters ({@code img.*}) and {@code preprocessing}.
     */
    public static ImageEmbeddingCache open(Path root, Backend be, Params params, String preprocessing, int dim) {
        String key = digest(be, params, preprocessing, dim);
        try {
            ImageEmbeddingCache c = new ImageEmbeddingCache(root.resolve(key), dim);
            Files.writeString(c.dir.resolve("about.txt"), "image tower digest + preprocessing: " + key + "\npreprocessing: "
                    + preprocessing + "\ndim: " + dim + "\n");
            return c;
        } catch (IOException e) {
            throw new LitException("cannot open the image-embedding cache under " + root + ": " + e.getMessage(), e);
        }
    }

    /**
     * SHA-256 over the image tower's parameter bytes, the preprocessing and the dimension (16 hex
     * digits): the name of the tower's cache folder, and what other writers of this cache (the Spark
     * {@code embed} job) record beside the embeddings they make.
     */
    public static String digest(Backend be, Params params, String preprocessing, int dim) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            for (var e : params.tensors().entrySet()) {
                if (!e.getKey().startsWith("img.")) {
                    continue;
                }
                md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                for (float f : be.download(e.getValue())) {
                    buf.clear();
                    buf.putFloat(f);
                    md.update(buf.array());
                }
            }
            md.update(preprocessing.getBytes(StandardCharsets.UTF_8));
            md.update(Integer.toString(dim).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new LitException("SHA-256 unavailable", e);
        }
    }

    public Path folder() {
        return dir;
    }

    public int size() {
        return rows.size();
    }

    public boolean contains(String id) {
        return rows.containsKey(id);
    }

    /** Ids of {@code wanted} not yet in the cache, in order. */
    public List<String> missing(List<String> wanted) {
        return wanted.stream().filter(id -> !rows.containsKey(id)).distinct().toList();
    }

    /** Appends embeddings ({@code ids.size()} rows of {@code dim}); they become readable after {@link #flush()}. */
    public synchronized void put(List<String> ids, float[] embeddings) {
        if (embeddings.length != ids.size() * dim) {
            throw new LitException("cache put: " + embeddings.length + " values for " + ids.size() + " ids of dim " + dim);
        }
        try {
            ByteBuffer bb = ByteBuffer.allocate(embeddings.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(embeddings);
            long start = vectors.size();
            int first = (int) (start / (4L * dim));
            while (bb.hasRemaining()) {
                vectors.write(bb, start + bb.position());
            }
            for (int i = 0; i < ids.size(); i++) {
                if (rows.putIfAbsent(ids.get(i), first + i) == null) {
                    index.write(ids.get(i) + "\t" + (first + i) + "\n");
                }
            }
        } catch (IOException e) {
            throw new LitException("cannot write the image-embedding cache in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Makes everything put so far durable and readable. */
    public synchronized void flush() {
        try {
            vectors.force(false);
            index.flush();
        } catch (IOException e) {
            throw new LitException("cannot flush the image-embedding cache in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Records that image {@code id} does not decode, so that later fills skip it instead of trying
     * again (the file {@code undecodable.tsv}: id TAB reason); returns the reason as recorded (one line).
     */
    public synchronized String markUndecodable(String id, String why) {
        String message = String.valueOf(why).replace('\n', ' ').replace('\r', ' ');
        Path badList = dir.resolve("undecodable.tsv");
        try {
            Files.writeString(badList, id + "\t" + message + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new LitException("cannot write " + badList + ": " + e.getMessage(), e);
        }
        return message;
    }

    /**
     * Embeds every image of {@code ds} not yet in the cache, batch by batch, and returns the rows whose image would not decode, by row index with the reason:
     * those found now and those an earlier fill recorded in {@code undecodable.tsv}.
     */
    public Map<Integer, String> fill(ImageEmbedder images, CaptionDataset ds, PrintStream log) {
        Map<String, Integer> rowOf = new HashMap<>();
        List<String> ids = new ArrayList<>();
        for (CaptionDataset.Row r : ds.rows()) {
            rowOf.put(r.image(), r.index());
            ids.add(r.image());
        }
        Map<Integer, String> bad = new HashMap<>();
        Path badList = dir.resolve("undecodable.tsv");
        try {
            if (Files.isRegularFile(badList)) {
                for (String line : Files.readAllLines(badList)) {
                    String[] kv = line.split("\t", 2);
                    if (rowOf.containsKey(kv[0])) {
                        bad.put(rowOf.get(kv[0]), kv.length > 1 ? kv[1] : "undecodable");
                    }
                }
            }
        } catch (IOException e) {
            throw new LitException("cannot read " + badList + ": " + e.getMessage(), e);
        }
        List<String> missing = missing(ids).stream().filter(id -> !bad.containsKey(rowOf.get(id))).toList();
        if (missing.isEmpty()) {
            log.println("lit4j tune: image tower locked; all " + ids.size() + " image embeddings are cached in " + dir);
            return bad;
        }
        log.println("lit4j tune: image tower locked; embedding " + missing.size() + " images once into " + dir);
        try (ProgressBar bar = new ProgressBar("embed images", missing.size(), log)) {
            images.embed(ImageSource.of(ds, missing), true, new ImageEmbedder.Sink() {
                @Override
                public void embedded(int[] indices, float[] embeddings) {
                    put(Arrays.stream(indices).mapToObj(missing::get).toList(), embeddings);
                }

                @Override
                public void skipped(int index, BadRows.Reason reason, String why) {
                    String id = missing.get(index);
                    bad.put(rowOf.get(id), markUndecodable(id, why));
                }
            }, bar::step);
        }
        flush();
        return bad;
    }

    /** Copies the embeddings of {@code ids} into {@code out} ([ids.length × dim]), from the memory map. */
    public void gather(String[] ids, float[] out) {
        MemorySegment m = map();
        for (int i = 0; i < ids.length; i++) {
            Integer row = rows.get(ids[i]);
            if (row == null) {
                throw new LitException("image '" + ids[i] + "' is not in the embedding cache " + dir);
            }
            MemorySegment.copy(m, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), (long) row * dim * 4, out,
                    i * dim, dim);
        }
    }

    private synchronized MemorySegment map() {
        if (mapped == null || mappedRows < rows.size()) {
            flush();
            if (mapArena != null) {
                mapArena.close();
            }
            mapArena = Arena.ofShared();
            try {
                mapped = vectors.map(FileChannel.MapMode.READ_ONLY, 0, vectors.size(), mapArena);
            } catch (IOException e) {
                throw new LitException("cannot map " + dir.resolve("vectors.f32") + ": " + e.getMessage(), e);
            }
            mappedRows = rows.size();
        }
        return mapped;
    }

    @Override
    public synchronized void close() {
        try {
            flush();
            index.close();
            vectors.close();
        } catch (IOException | LitException e) {
            // closing after a failure: nothing more to save
        } finally {
            if (mapArena != null) {
                mapArena.close();
            }
        }
    }
}
