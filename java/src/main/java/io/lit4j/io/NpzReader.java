package io.lit4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads the arrays of a NumPy {@code .npz} archive (a zip of {@code .npy} entries, stored or
 * deflated, ZIP64 included), as big_vision saves its checkpoints. Keys are the entry names without
 * {@code .npy}. Every entry's declared sizes are checked against its header before anything is
 * allocated, and arrays are streamed into their segment in chunks, so arrays of any size can be read
 * and a damaged archive gives a {@link CheckpointException}. Safe to use from several threads.
 */
public final class NpzReader extends ArrayFile<ZipEntry> {
    /** Deflate expands at most about 1032:1; anything that claims more is damaged or hostile. */
    private static final long MAX_DEFLATE_RATIO = 1100;

    private final ZipFile zip;
    private volatile boolean closed;

    private NpzReader(Path file, ZipFile zip, Map<String, ZipEntry> entries) {
        super(file, entries);
        this.zip = zip;
    }

    /** Opens {@code file} and reads its table of contents (not the arrays). */
    public static NpzReader open(Path file) {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file, "is a folder, not an .npz file");
        }
        if (!Files.exists(file)) {
            throw CheckpointException.io(file, null, "open", new NoSuchFileException(file.toString()));
        }
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(file, null, "not a zip archive (npz): " + e.getMessage()
                    + "; the file is damaged, truncated or of another format", e);
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "open", e);
        }
        try {
            return new NpzReader(file, zip, index(file, zip));
        } catch (RuntimeException e) {
            try {
                zip.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static Map<String, ZipEntry> index(Path file, ZipFile zip) {
        Map<String, ZipEntry> entries = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        try {
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                String name = e.getName();
                if (e.isDirectory() || !name.endsWith(".npy") || name.length() == 4) {
                    bad.add(name);
                    continue;
                }
                String key = name.substring(0, name.length() - 4);
                if (entries.putIfAbsent(key, e) != null) {
                    throw new CheckpointException(file, key, "the archive holds two entries named '" + name + "'");
                }
            }
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, "not a valid zip archive (npz): " + e.getMessage(), e);
        }
        if (!bad.isEmpty()) {
            throw new CheckpointException(file, (bad.size() == 1 ? "entry " + quoted(bad) + " is not a .npy array"
                    : bad.size() + " entries (" + quoted(bad) + ") are not .npy arrays")
                    + "; an .npz holds only '<key>.npy' entries (is this really a numpy .npz?)");
        }
        return entries;
    }

    /** The type and shape of {@code key}, from its header alone. */
    @Override
    public ArrayInfo info(String key) {
        ZipEntry e = entry(key);
        try (InputStream in = zip.getInputStream(e)) {
            return header(e, in, key).info(key);
        } catch (IOException ex) {
            throw CheckpointException.io(file, key, "read", ex);
        }
    }

    @Override
    public float[] readFloats(String key) {
        try (Arena a = Arena.ofConfined()) {
            return read(key, a).toFloatArray();
        }
    }

    /** Reads {@code key} into a new segment of exactly its data size, allocated in {@code arena}. */
    public HostArray read(String key, Arena arena) {
        ZipEntry e = entry(key);
        try (InputStream in = zip.getInputStream(e)) {
            Npy.Header h = header(e, in, key);
            MemorySegment data = arena.allocate(h.dataBytes(), 64);
            Npy.readData(in, data, file, key);
            Npy.expectEnd(in, h, file, key);
            return new HostArray(h.info(key), data);
        } catch (IOException ex) {
            throw CheckpointException.io(file, key, "read", ex);
        }
    }

    /** Checks the entry's declared sizes, then reads and checks the array header. */
    private Npy.Header header(ZipEntry e, InputStream in, String key) throws IOException {
        long size = e.getSize();
        long csize = e.getCompressedSize();
        long cap;
        if (e.getMethod() == ZipEntry.DEFLATED) {
            long most = csize < 0 || csize > Long.MAX_VALUE / (2 * MAX_DEFLATE_RATIO) ? Long.MAX_VALUE
                    : csize * MAX_DEFLATE_RATIO + 1024;
            if (size > most) {
                throw new CheckpointException(file, key, "the zip entry claims " + size + " bytes from only "
                        + csize + " compressed bytes, more than deflate can expand; the archive is damaged");
            }
            cap = size >= 0 ? size : most;
        } else {
            if (size >= 0 && csize >= 0 && size != csize) {
                throw new CheckpointException(file, key, "the stored zip entry's sizes disagree (" + size
                        + " and " + csize + " bytes); the archive is damaged");
            }
            cap = size >= 0 ? size : csize;
        }
        if (cap < 0) {
            throw new CheckpointException(file, key, "the zip entry does not record its size");
        }
        return Npy.readHeader(in, size, cap, file, key);
    }

    @Override
    protected void requireOpen() {
        if (closed) {
            throw new IllegalStateException("NpzReader for " + file + " is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            zip.close();
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "close", e);
        }
    }
}
