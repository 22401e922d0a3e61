package io.lit4j.data;

import io.lit4j.LitException;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Where a {@link CaptionDataset}'s files are: a folder, an uncompressed tar or a zip. Paths are
 * normalised, relative and '/'-separated; nothing outside the folder or archive can be named, and
 * no file larger than {@link CaptionDataset#MAX_IMAGE_BYTES} is read.
 */
sealed interface DatasetStorage extends Closeable permits DatasetStorage.Folder, DatasetStorage.Archive {
    boolean isFile(String path);

    byte[] read(String path) throws IOException;

    /** Every regular file, sorted. */
    List<String> list() throws IOException;

    String kind();

    /** A path for messages. */
    String display(String path);

    /** The storage of a folder, or of an archive recognised by its first bytes (compressed archives are refused, saying why). */
    static DatasetStorage open(Path path) {
        if (Files.isDirectory(path)) {
            return new Folder(path);
        }
        if (!Files.exists(path)) {
            throw new LitException(path + ": no such file or folder");
        }
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new LitException(path + ": cannot read: " + e, e);
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6)) {
            return new Zip(path);
        }
        if ((n >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B)
                || (n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h')
                || (n >= 6 && (head[0] & 0xFF) == 0xFD && head[1] == '7' && head[2] == 'z' && head[3] == 'X')
                || (n >= 4 && (head[0] & 0xFF) == 0x28 && (head[1] & 0xFF) == 0xB5 && (head[2] & 0xFF) == 0x2F
                    && (head[3] & 0xFF) == 0xFD)) {
            throw new LitException(path + ": compressed archive (gzip, bzip2, xz or zstd) - lit4j reads plain .tar "
                    + "and .zip because it needs random access; decompress it first (e.g. gunzip)");
        }
        boolean ustar = n >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a'
                && head[261] == 'r';
        if (ustar || name.endsWith(".tar")) {
            return new Tar(path);
        }
        throw new LitException(path + ": not a folder, .tar or .zip");
    }

    /**
     * Reads the {@code declared} bytes (at most {@link CaptionDataset#MAX_IMAGE_BYTES}; a negative
     * size means unknown, and then the limit applies): data that runs past the declared size, as a
     * zip entry that inflates beyond what its header says, is an error and is not read on.
     */
    private static byte[] readLimited(InputStream in, long declared, String what) throws IOException {
        long max = CaptionDataset.MAX_IMAGE_BYTES;
        if (declared > max) {
            throw new LitException(what + ": file too large (" + declared + " bytes; limit " + max + ")");
        }
        long expect = declared >= 0 ? declared : max;
        byte[] b = in.readNBytes((int) expect + 1);
        if (b.length > expect) {
            throw new LitException(what + (declared >= 0
                    ? ": holds more data than the " + declared + " bytes its header declares (corrupt, or a zip bomb)"
                    : ": file too large (more than " + max + " bytes)"));
        }
        if (declared >= 0 && b.length < declared) {
            throw new LitException(what + ": truncated (" + b.length + " of the " + declared + " bytes its header declares)");
        }
        return b;
    }

    /**
     * A folder; a path that would resolve outside it names nothing, through {@code ..} or through a
     * symbolic link (links are followed, and what they lead to must lie inside the folder too).
     */
    final class Folder implements DatasetStorage {
        private final Path root;
        private final Path realRoot;

        Folder(Path root) {
            this.root = root.toAbsolutePath().normalize();
            try {
                this.realRoot = this.root.toRealPath();
            } catch (IOException e) {
                throw new LitException(this.root + ": cannot open the folder: " + e.getMessage(), e);
            }
        }

        /** The real file {@code path} names inside the folder, or null when it is missing or leads outside. */
        private Path resolve(String path) {
            try {
                Path p = root.resolve(path).normalize();
                if (!p.startsWith(root)) {
                    return null;
                }
                Path real = p.toRealPath();
                return real.startsWith(realRoot) ? real : null;
            } catch (InvalidPathException | IOException e) {
                return null;
            }
        }

        @Override
        public boolean isFile(String path) {
            Path p = resolve(path);
            return p != null && Files.isRegularFile(p);
        }

        @Override
        public byte[] read(String path) throws IOException {
            Path p = resolve(path);
            if (p == null) {
                throw new LitException(display(path) + ": no such file inside " + root
                        + " (missing, or a link that leads outside the folder)");
            }
            long size = Files.size(p);
            try (InputStream in = Files.newInputStream(p)) {
                return readLimited(in, size, display(path));
            }
        }

        @Override
        public List<String> list() throws IOException {
            TreeSet<String> out = new TreeSet<>();
            try (Stream<Path> s = Files.walk(root)) {
                s.forEach(p -> {
                    StringBuilder sb = new StringBuilder();
                    for (Path seg : root.relativize(p)) {
                        if (!sb.isEmpty()) {
                            sb.append('/');
                        }
                        sb.append(seg);
                    }
                    if (!sb.isEmpty() && isFile(sb.toString())) {
                        out.add(sb.toString());
                    }
                });
            }
            return List.copyOf(out);
        }

        @Override
        public String kind() {
            return "folder";
        }

        @Override
        public String display(String path) {
            return path.isEmpty() ? root.toString() : root.resolve(path).toString();
        }

        @Override
        public void close() {
        }
    }

    /** An archive indexed once on open: member name to its entry {@code E}. */
    abstract sealed class Archive<E> implements DatasetStorage permits Tar, Zip {
        protected final Path file;
        protected final Map<String, E> members;

        Archive(Path file, Map<String, E> members) {
            this.file = file;
            this.members = members;
        }

        @Override
        public boolean isFile(String path) {
            return members.containsKey(path);
        }

        /** The member {@code path}, or an error naming it. */
        protected E member(String path) {
            E m = members.get(path);
            if (m == null) {
                throw new LitException(display(path) + ": no such member");
            }
            return m;
        }

        @Override
        public List<String> list() {
            return List.copyOf(new TreeMap<>(members).keySet());
        }

        @Override
        public String display(String path) {
            return file + "!" + path;
        }
    }

    /** An uncompressed tar, read in place through its index ({@link TarIndex}). */
    final class Tar extends Archive<TarIndex.Member> {
        private final FileChannel ch;

        Tar(Path file) {
            super(file, TarIndex.scan(file));
            try {
                this.ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException e) {
                throw new LitException(file + ": cannot open: " + e, e);
            }
        }

        @Override
        public byte[] read(String path) throws IOException {
            TarIndex.Member m = member(path);
            if (m.size() > CaptionDataset.MAX_IMAGE_BYTES) {
                throw new LitException(display(path) + ": file too large (" + m.size() + " bytes)");
            }
            return TarIndex.read(ch, m, file, path);
        }

        @Override
        public String kind() {
            return "tar";
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /** A zip, through the JDK's {@link ZipFile}. */
    final class Zip extends Archive<ZipEntry> {
        private final ZipFile zip;

        Zip(Path file) {
            this(file, openZip(file));
        }

        private Zip(Path file, ZipFile zip) {
            super(file, entries(zip));
            this.zip = zip;
        }

        private static ZipFile openZip(Path file) {
            try {
                return new ZipFile(file.toFile(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new LitException(file + ": not a readable zip: " + e, e);
            }
        }

        private static Map<String, ZipEntry> entries(ZipFile zip) {
            Map<String, ZipEntry> out = new LinkedHashMap<>();
            Enumeration<? extends ZipEntry> en = zip.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                String n = e.isDirectory() ? null : TarIndex.normalise(e.getName());
                if (n != null) {
                    out.put(n, e);
                }
            }
            return out;
        }

        @Override
        public byte[] read(String path) throws IOException {
            ZipEntry e = member(path);
            try (InputStream in = zip.getInputStream(e)) {
                return readLimited(in, e.getSize(), display(path));
            }
        }

        @Override
        public String kind() {
            return "zip";
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }
    }
}
