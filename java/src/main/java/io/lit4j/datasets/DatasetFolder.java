package io.lit4j.datasets;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Writes a dataset folder so that it is complete or absent: everything goes into a hidden temp
 * folder beside the target ({@code .NAME.tmp-XXXX}), each file itself written to a temp file and
 * renamed into place with {@code ATOMIC_MOVE}, and {@link #commit()} renames the temp folder to the
 * target. Closing without committing deletes the temp folder.
 *
 * <p>The target must be absent or an empty folder, unless {@code replace} is set: then an existing
 * folder is renamed aside, the new one renamed in, and the old one deleted.
 *
 * <p>Also the one place that formats {@code captions.jsonl} lines, the format lit4j trains from:
 * {@code {"image": "images/000001.png", "captions": ["...", "..."], "label": "red circle"}}.
 */
public final class DatasetFolder implements AutoCloseable {
    /** Name of the caption index at the root of every dataset folder. */
    public static final String CAPTIONS = "captions.jsonl";

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final Path target;
    private final Path temp;
    private final boolean replace;
    private final boolean durable;
    private boolean committed;

    private DatasetFolder(Path target, Path temp, boolean replace, boolean durable) {
        this.target = target;
        this.temp = temp;
        this.replace = replace;
        this.durable = durable;
    }

    /**
     * Starts writing {@code target}. {@code durable} also syncs every file to disk before the
     * final rename (a crash then cannot leave the renamed folder with empty files; it costs one
     * fsync per file).
     */
    public static DatasetFolder begin(Path target, boolean replace, boolean durable) {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null) {
            throw new LitException("cannot write a dataset to the file-system root: " + target);
        }
        checkTarget(abs, replace);
        try {
            Files.createDirectories(parent);
            for (int attempt = 0; ; attempt++) {
                Path temp = parent.resolve("." + abs.getFileName() + ".tmp-"
                        + Long.toHexString(ThreadLocalRandom.current().nextLong()));
                try {
                    Files.createDirectory(temp);
                    return new DatasetFolder(abs, temp, replace, durable);
                } catch (FileAlreadyExistsException e) {
                    if (attempt >= 10) {
                        throw e;
                    }
                }
            }
        } catch (IOException e) {
            throw new LitException("cannot create a temp folder beside " + abs + ": " + e.getMessage(), e);
        }
    }

    private static void checkTarget(Path abs, boolean replace) {
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new LitException(abs + " exists and is not a folder; choose another output path");
        }
        if (!replace && !isEmptyFolder(abs)) {
            throw new LitException(abs + " already exists and is not empty; delete it, choose another"
                    + " output folder, or ask for it to be replaced");
        }
    }

    private static boolean isEmptyFolder(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new LitException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The final path (absolute). */
    public Path target() {
        return target;
    }

    /** The temp folder being filled (becomes {@link #target()} on commit). */
    public Path tempRoot() {
        return temp;
    }

    /**
     * Writes {@code bytes} to {@code relative} (a '/'-separated path inside the folder) via a
     * temp file and an atomic rename; parent folders are created.
     */
    public void write(String relative, byte[] bytes) {
        if (committed) {
            throw new IllegalStateException("dataset folder " + target + " is already committed");
        }
        Path file = resolveInside(relative);
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                if (durable) {
                    ch.force(true);
                }
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the whole temp folder is deleted on close anyway
            }
            throw new LitException("cannot write " + relative + " into " + temp + ": " + e.getMessage(), e);
        }
    }

    /** Writes UTF-8 text to {@code relative}. */
    public void writeString(String relative, String text) {
        write(relative, text.getBytes(StandardCharsets.UTF_8));
    }

    private Path resolveInside(String relative) {
        if (relative.isEmpty() || relative.startsWith("/") || relative.contains("\\")) {
            throw new LitException("bad relative path '" + relative + "' (use '/'-separated paths inside the folder)");
        }
        Path p = temp.resolve(relative).normalize();
        if (!p.startsWith(temp) || p.equals(temp)) {
            throw new LitException("path '" + relative + "' leaves the dataset folder");
        }
        return p;
    }

    /** Renames the finished temp folder to the target. */
    public void commit() {
        if (committed) {
            return;
        }
        try {
            if (durable) {
                syncFolders(temp);
            }
            Path aside = null;
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                checkTarget(target, replace);
                if (!isEmptyFolder(target)) {
                    aside = target.resolveSibling("." + target.getFileName() + ".old-"
                            + Long.toHexString(ThreadLocalRandom.current().nextLong()));
                    Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (DirectoryNotEmptyException | FileAlreadyExistsException e) {
                throw new LitException(target + " appeared while the dataset was being written; "
                        + "left the new data in " + temp, e);
            }
            committed = true;
            syncFolder(target.getParent());
            if (aside != null) {
                deleteTree(aside);
            }
        } catch (IOException e) {
            throw new LitException("cannot move " + temp + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the temp folder unless committed. Never throws. */
    @Override
    public void close() {
        if (!committed) {
            try {
                deleteTree(temp);
            } catch (IOException | UncheckedIOException ignored) {
                // best effort: a hidden leftover temp folder is harmless
            }
        }
    }

    private static void syncFolders(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isDirectory).toList()) {
                syncFolder(p);
            }
        }
    }

    private static void syncFolder(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: not every platform can sync a folder
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * One {@code captions.jsonl} line (without the newline): {@code image}, then {@code captions}
     * (always the list form), then {@code label} when not null. Keys in this fixed order.
     */
    public static String captionLine(String image, List<String> captions, String label) {
        if (captions.isEmpty()) {
            throw new LitException("image " + image + " has no caption");
        }
        JsonObject o = new JsonObject();
        o.addProperty("image", image);
        JsonArray a = new JsonArray();
        for (String c : captions) {
            a.add(c);
        }
        o.add("captions", a);
        if (label != null) {
            o.addProperty("label", label);
        }
        return GSON.toJson(o);
    }

    /** Pretty-free JSON of a tree, with the same settings as the caption lines. */
    static String json(JsonObject o) {
        return GSON.toJson(o);
    }
}
