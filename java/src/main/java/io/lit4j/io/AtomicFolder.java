package io.lit4j.io;

import io.lit4j.LitException;

import java.io.IOException;
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
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A folder written so that it is complete or absent (a model checkpoint, a generated dataset):
 * everything goes into a hidden temp folder beside the target ({@code .NAME.RANDOM.tmp}), and
 * {@link #commit()} renames it to the target. Closing without committing deletes the temp folder.
 *
 * <p>The target must be absent or an empty folder, unless {@code replace} is set: then an existing
 * folder is first renamed aside ({@code .NAME.RANDOM.old}), the new one renamed in, and the old one
 * deleted. A crash between those two renames leaves the target missing and its old version aside;
 * {@link #recover} puts it back. With {@code durable}, every file and folder is synced to disk before
 * the rename, so a crash cannot leave a renamed folder with empty files (it costs an fsync per file:
 * checkpoints want it, a generated dataset of thousands of images does not).
 * {@link AtomicFile} is the same for one file.
 */
public final class AtomicFolder implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final boolean replace;
    private final boolean durable;
    private boolean committed;

    private AtomicFolder(Path target, Path temp, boolean replace, boolean durable) {
        this.target = target;
        this.temp = temp;
        this.replace = replace;
        this.durable = durable;
    }

    /** Starts writing {@code target} (see the class comment for {@code replace} and {@code durable}). */
    public static AtomicFolder begin(Path target, boolean replace, boolean durable) {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null) {
            throw new LitException("cannot write a folder at the file-system root: " + target);
        }
        checkTarget(abs, replace);
        try {
            Files.createDirectories(parent);
            for (int attempt = 0; ; attempt++) {
                Path temp = sibling(abs, "tmp");
                try {
                    Files.createDirectory(temp);
                    return new AtomicFolder(abs, temp, replace, durable);
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

    private static Path sibling(Path abs, String suffix) {
        return abs.resolveSibling("." + abs.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "." + suffix);
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

    /** The temp folder being filled (it becomes {@link #target()} on commit), for writers that fill a folder. */
    public Path tempRoot() {
        return temp;
    }

    /**
     * The file {@code relative} ('/'-separated) inside the temp folder, its parent folders created:
     * for writers that take a path. An error if it would leave the folder.
     */
    public Path resolve(String relative) {
        if (committed) {
            throw new IllegalStateException("folder " + target + " is already committed");
        }
        if (relative.isEmpty() || relative.startsWith("/") || relative.contains("\\")) {
            throw new LitException("bad relative path '" + relative + "' (use '/'-separated paths inside the folder)");
        }
        Path p = temp.resolve(relative).normalize();
        if (!p.startsWith(temp) || p.equals(temp)) {
            throw new LitException("path '" + relative + "' leaves the folder " + target);
        }
        try {
            Files.createDirectories(p.getParent());
        } catch (IOException e) {
            throw new LitException("cannot create " + p.getParent() + ": " + e.getMessage(), e);
        }
        return p;
    }

    /** Writes {@code bytes} to {@code relative}; parent folders are created. */
    public void write(String relative, byte[] bytes) {
        Path file = resolve(relative);
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new LitException("cannot write " + relative + " into " + temp + ": " + e.getMessage(), e);
        }
    }

    /** Writes UTF-8 text to {@code relative}. */
    public void writeString(String relative, String text) {
        write(relative, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Renames the finished temp folder to the target (the old one, when replacing, goes aside and is deleted). */
    public void commit() {
        if (committed) {
            return;
        }
        try {
            if (durable) {
                syncTree(temp);
            }
            Path aside = null;
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                checkTarget(target, replace);
                if (!isEmptyFolder(target)) {
                    aside = sibling(target, "old");
                    Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (DirectoryNotEmptyException | FileAlreadyExistsException e) {
                throw new LitException(target + " appeared while it was being written; left the new files in " + temp, e);
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
            deleteTree(temp);
        }
    }

    /**
     * After a crash between the two renames of a replacing {@link #commit()}, {@code dir} is missing
     * while its previous version waits beside it as {@code .dir.*.old}: puts that back. Returns
     * whether {@code dir} exists afterwards.
     */
    public static boolean recover(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            return true;
        }
        if (!Files.isDirectory(abs.getParent())) {
            return false;
        }
        String prefix = "." + abs.getFileName() + ".";
        try (Stream<Path> s = Files.list(abs.getParent())) {
            Path old = s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(".old"))
                    .findFirst().orElse(null);
            if (old != null) {
                Files.move(old, abs, StandardCopyOption.ATOMIC_MOVE);
                return true;
            }
        } catch (IOException e) {
            throw new LitException("cannot recover " + dir + ": " + e.getMessage(), e);
        }
        return false;
    }

    /** Deletes a file or folder tree if it exists; best effort (a leftover hidden folder is harmless). */
    public static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort
        }
    }

    /** Syncs every file, then every folder, under {@code root}. */
    private static void syncTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) { // a copied read-only file syncs too
                        ch.force(true);
                    }
                }
            }
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isDirectory).toList()) {
                syncFolder(p);
            }
        }
    }

    /** Makes renames in {@code dir} durable where the platform can sync a folder (not on Windows). */
    static void syncFolder(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort
        }
    }
}
