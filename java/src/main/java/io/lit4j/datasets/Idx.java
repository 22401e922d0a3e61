package io.lit4j.datasets;

import io.lit4j.LitException;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader of IDX files (the MNIST / Fashion-MNIST format), plain or gzipped (detected by the gzip
 * magic, not the name). Only unsigned-byte data: {@code 0x00000803} image files ({@code [count,
 * rows, cols]}) and {@code 0x00000801} label files ({@code [count]}).
 *
 * <p>The header is untrusted: the magic, the dimensions and the size they imply are checked
 * against the file before anything is allocated (a plain file's length; a gzip file's trailer
 * size and the most its compressed bytes can expand to), and reading checks that the data ends
 * exactly where the header says. Every error names the file.
 */
public final class Idx {
    /** Magic of an unsigned-byte, 1-dimensional IDX file (labels). */
    public static final int MAGIC_LABELS = 0x00000801;
    /** Magic of an unsigned-byte, 3-dimensional IDX file (images). */
    public static final int MAGIC_IMAGES = 0x00000803;
    /** Largest accepted image side. */
    public static final int MAX_SIDE = 4096;

    /** Deflate cannot expand data by more than about 1032:1; with slack for headers. */
    private static final long MAX_GZIP_RATIO = 1040;

    private Idx() {
    }

    /** Images read from an IDX file: {@code pixels[i]} is image i, {@code rows*cols} bytes, row-major. */
    public record Images(int count, int rows, int cols, byte[][] pixels) {
        /** Image {@code i}'s pixels (the array itself, not a copy). */
        public byte[] image(int i) {
            return pixels[i];
        }
    }

    /** Reads an image file ({@code 0x00000803}, {@code [count, rows, cols]}). */
    public static Images readImages(Path file) {
        try (Source src = open(file)) {
            DataInputStream in = src.in;
            int magic = readHeaderInt(in, file, "magic");
            checkMagic(file, magic, MAGIC_IMAGES, "image");
            int count = readHeaderInt(in, file, "image count");
            int rows = readHeaderInt(in, file, "row count");
            int cols = readHeaderInt(in, file, "column count");
            if (count < 0 || rows <= 0 || cols <= 0 || rows > MAX_SIDE || cols > MAX_SIDE) {
                throw new LitException(file + ": implausible IDX image header: " + (count & 0xFFFFFFFFL)
                        + " images of " + (rows & 0xFFFFFFFFL) + "x" + (cols & 0xFFFFFFFFL)
                        + " (sides must be 1.." + MAX_SIDE + ")");
            }
            long bytes = 16L + (long) count * rows * cols;
            src.checkSize(bytes, count + " images of " + rows + "x" + cols);
            int n = rows * cols;
            byte[][] pixels = new byte[count][];
            for (int i = 0; i < count; i++) {
                byte[] img = new byte[n];
                if (in.readNBytes(img, 0, n) != n) {
                    throw new LitException(file + ": truncated: image " + i + " of " + count
                            + " ends past the end of the data");
                }
                pixels[i] = img;
            }
            src.checkEnd(count + " images");
            return new Images(count, rows, cols, pixels);
        } catch (IOException e) {
            throw readError(file, e);
        }
    }

    /** Reads a label file ({@code 0x00000801}, {@code [count]}); values are unsigned bytes. */
    public static byte[] readLabels(Path file) {
        try (Source src = open(file)) {
            DataInputStream in = src.in;
            int magic = readHeaderInt(in, file, "magic");
            checkMagic(file, magic, MAGIC_LABELS, "label");
            int count = readHeaderInt(in, file, "label count");
            if (count < 0) {
                throw new LitException(file + ": implausible IDX label count " + (count & 0xFFFFFFFFL));
            }
            src.checkSize(8L + count, count + " labels");
            byte[] labels = new byte[count];
            if (in.readNBytes(labels, 0, count) != count) {
                throw new LitException(file + ": truncated: the header says " + count + " labels");
            }
            src.checkEnd(count + " labels");
            return labels;
        } catch (IOException e) {
            throw readError(file, e);
        }
    }

    private static LitException readError(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return new LitException(file + ": no such file", e);
        }
        if (e instanceof EOFException) {
            return new LitException(file + ": truncated (the data ends early): " + e.getMessage(), e);
        }
        if (e instanceof ZipException) {
            return new LitException(file + ": corrupt gzip data: " + e.getMessage(), e);
        }
        return new LitException(file + ": cannot read: " + e.getMessage(), e);
    }

    private static int readHeaderInt(DataInputStream in, Path file, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new LitException(file + ": truncated IDX header (no " + what + ")", e);
        }
    }

    private static void checkMagic(Path file, int magic, int expected, String kind) {
        if (magic == expected) {
            return;
        }
        String hint;
        if (magic == MAGIC_IMAGES) {
            hint = "this is an IDX image file; a label file was expected";
        } else if (magic == MAGIC_LABELS) {
            hint = "this is an IDX label file; an image file was expected";
        } else if ((magic >>> 16) != 0) {
            hint = "not an IDX file (the first two bytes must be 0)";
        } else if (((magic >>> 8) & 0xFF) != 0x08) {
            hint = String.format("IDX element type 0x%02x is not unsigned byte (0x08)", (magic >>> 8) & 0xFF);
        } else {
            hint = "an IDX file with " + (magic & 0xFF) + " dimensions";
        }
        throw new LitException(String.format("%s: magic 0x%08x is not an IDX %s file (expected 0x%08x): %s",
                file, magic, kind, expected, hint));
    }

    /** An open IDX file with what its container says about the size of the data. */
    private static final class Source implements AutoCloseable {
        final Path file;
        final DataInputStream in;
        final boolean gzip;
        final long fileSize;
        final long gzipTrailerSize; // ISIZE: uncompressed size mod 2^32 (last member), -1 when plain

        Source(Path file, DataInputStream in, boolean gzip, long fileSize, long gzipTrailerSize) {
            this.file = file;
            this.in = in;
            this.gzip = gzip;
            this.fileSize = fileSize;
            this.gzipTrailerSize = gzipTrailerSize;
        }

        /** Checks the size the header implies against the container, before allocating. */
        void checkSize(long expected, String what) {
            if (!gzip) {
                if (expected != fileSize) {
                    throw new LitException(file + ": the header says " + what + " (" + expected
                            + " bytes) but the file holds " + fileSize + " bytes"
                            + (fileSize < expected ? " (truncated, or a wrong header)" : " (extra data after it)"));
                }
                return;
            }
            if (expected > fileSize * MAX_GZIP_RATIO) {
                throw new LitException(file + ": the header says " + what + " (" + expected
                        + " bytes) but " + fileSize + " compressed bytes cannot hold that much (wrong header)");
            }
            if ((expected & 0xFFFFFFFFL) != gzipTrailerSize) {
                throw new LitException(file + ": the header says " + what + " (" + expected
                        + " bytes) but the gzip trailer records " + gzipTrailerSize
                        + " uncompressed bytes (truncated file, wrong header, or a multi-member gzip,"
                        + " which is not supported)");
            }
        }

        void checkEnd(String what) throws IOException {
            if (in.read() != -1) {
                throw new LitException(file + ": extra data after the " + what + " the header announces");
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private static Source open(Path file) throws IOException {
        long size = Files.size(file);
        boolean gzip = false;
        long isize = -1;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(2);
            while (head.hasRemaining() && ch.read(head) >= 0) {
                // fill
            }
            if (head.position() == 2 && (head.get(0) & 0xFF) == 0x1F && (head.get(1) & 0xFF) == 0x8B) {
                gzip = true;
                if (size < 18) {
                    throw new LitException(file + ": truncated gzip file (" + size + " bytes)");
                }
                ByteBuffer tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
                long pos = size - 4;
                while (tail.hasRemaining()) {
                    int n = ch.read(tail, pos + tail.position());
                    if (n < 0) {
                        throw new EOFException("end of file while reading the gzip trailer");
                    }
                }
                isize = tail.getInt(0) & 0xFFFFFFFFL;
            }
        }
        InputStream raw = Files.newInputStream(file);
        try {
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            return new Source(file, new DataInputStream(new BufferedInputStream(in, 1 << 16)), gzip, size, isize);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }
}
