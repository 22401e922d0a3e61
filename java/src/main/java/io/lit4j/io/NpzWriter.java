package io.lit4j.io;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes an {@code .npz} archive the way {@code numpy.savez} does: a zip of uncompressed
 * {@code key + ".npy"} entries, in the order they are put. The file appears atomically on
 * {@link #close()}; until then the data goes to a hidden temp file beside it, which is deleted if
 * anything fails (so an existing file is never left half-written). One writer is for one thread.
 */
public final class NpzWriter implements AutoCloseable {
    /** Entry time: the earliest a zip can record, so equal contents give equal files. */
    private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private final Path file;
    private final AtomicFile out;
    private final ZipOutputStream zip;
    private final Set<String> keys = new HashSet<>();
    private boolean failed;
    private boolean closed;

    private NpzWriter(Path file, AtomicFile out) {
        this.file = file;
        this.out = out;
        this.zip = new ZipOutputStream(out.stream());
    }

    /** Starts writing {@code file}; nothing appears there until {@link #close()}. */
    public static NpzWriter create(Path file) {
        try {
            return new NpzWriter(file, AtomicFile.create(file));
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "write", e);
        }
    }

    /**
     * Adds one array as entry {@code key + ".npy"}. {@code data} holds its raw little-endian C-order
     * bytes, exactly {@code numel * dtype.byteSize()} of them. If this throws, the writer is spoiled:
     * {@link #close()} then discards everything and reports it.
     */
    public void put(String key, DType dtype, long[] shape, MemorySegment data) {
        if (closed) {
            throw new IllegalStateException("NpzWriter for " + file + " is closed");
        }
        boolean ok = false;
        try {
            if (key == null || key.isEmpty()) {
                throw new CheckpointException(file, "an array key must not be empty");
            }
            if (!keys.add(key)) {
                throw new CheckpointException(file, key, "written twice; keys in an .npz must be unique");
            }
            ArrayInfo info;
            try {
                info = new ArrayInfo(key, dtype, shape);
            } catch (LitException e) {
                throw new CheckpointException(file, key, e.getMessage());
            }
            String problem = Npy.sizeProblem(info, data);
            if (problem != null) {
                throw new CheckpointException(file, key, problem);
            }
            byte[] header = Npy.header(dtype, shape);
            CRC32 crc = new CRC32();
            crc.update(header);
            updateCrc(crc, data);
            ZipEntry entry = new ZipEntry(key + ".npy");
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(header.length + info.byteSize());
            entry.setCompressedSize(header.length + info.byteSize());
            entry.setCrc(crc.getValue());
            entry.setTimeLocal(ENTRY_TIME);
            zip.putNextEntry(entry);
            zip.write(header);
            Npy.writeData(zip, data);
            zip.closeEntry();
            ok = true;
        } catch (IOException e) {
            throw CheckpointException.io(file, key, "write", e);
        } finally {
            failed |= !ok;
        }
    }

    /** Adds an F32 array holding {@code values} (C order). */
    public void put(String key, long[] shape, float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            HostArray a;
            try {
                a = HostArray.ofFloats(key, shape, values, arena);
            } catch (LitException e) {
                failed = true;
                throw new CheckpointException(file, key, e.getMessage());
            }
            put(a);
        }
    }

    /** Adds {@code array} under its own key. */
    public void put(HostArray array) {
        put(array.key(), array.dtype(), array.shape(), array.data());
    }

    /** Throws away everything written so far; the target file is left as it was. */
    public void abort() {
        closed = true;
        out.close();
    }

    /**
     * Finishes the archive and moves it into place atomically. If a {@code put} failed, nothing is
     * written: the temp file is deleted and this throws.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (out) {
            if (failed) {
                throw new CheckpointException(file, "not written, because adding an array failed earlier; "
                        + "the previous file (if any) is unchanged");
            }
            zip.finish();
            out.commit();
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "write", e);
        }
    }

    private static void updateCrc(CRC32 crc, MemorySegment data) {
        long total = data.byteSize();
        byte[] buf = new byte[(int) Math.min(total, Npy.CHUNK)];
        for (long done = 0; done < total; ) {
            int n = (int) Math.min(buf.length, total - done);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, done, buf, 0, n);
            crc.update(buf, 0, n);
            done += n;
        }
    }


}
