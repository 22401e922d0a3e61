package io.lit4j.io;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads and writes single NumPy {@code .npy} arrays (format versions 1.0, 2.0 and 3.0), the
 * entries of an {@code .npz}. lit4j reads little-endian {@code <f4}, {@code <f2}, {@code <i4},
 * {@code <i8} and bfloat16 (descr {@code bfloat16}, or {@code <V2}/{@code |V2} as numpy saves
 * ml_dtypes' bfloat16), in C order. Every size in a header is checked against the bytes that are
 * really there before anything is allocated, so a damaged or hostile file gives a
 * {@link CheckpointException}, never a huge allocation.
 */
public final class Npy {
    /** Largest header lit4j reads (numpy's own limit for untrusted files is 10 000 bytes). */
    public static final int MAX_HEADER_BYTES = 1 << 20;

    static final int CHUNK = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    private static final String ACCEPTED =
            "lit4j reads '<f4', '<f2', '<i4', '<i8' and bfloat16 ('bfloat16', '<V2' or '|V2')";

    private Npy() {
    }

    /** A parsed header: the array's type and shape, and how many bytes the header took in all. */
    record Header(DType dtype, long[] shape, long headerBytes, long dataBytes) {
        ArrayInfo info(String key) {
            return new ArrayInfo(key, dtype, shape);
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads the type and shape of the {@code .npy} file {@code file}, without its data. */
    public static ArrayInfo readInfo(Path file) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            long size = Files.size(file);
            return readHeader(in, size, size, file, null).info(keyOf(file));
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "read", e);
        }
    }

    /**
     * Reads the {@code .npy} file {@code file} into a new segment of exactly its data size,
     * allocated in {@code arena}. The array's key is the file name without {@code .npy}.
     */
    public static HostArray readFile(Path file, Arena arena) {
        try (InputStream in = Files.newInputStream(file)) {
            long size = Files.size(file);
            Header h = readHeader(in, size, size, file, null);
            MemorySegment data = arena.allocate(h.dataBytes(), ALIGN);
            readData(in, data, file, null);
            expectEnd(in, h, file, null);
            return new HostArray(h.info(keyOf(file)), data);
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "read", e);
        }
    }

    private static String keyOf(Path file) {
        String name = String.valueOf(file.getFileName());
        return name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
    }

    /**
     * Reads and checks a header from {@code in}, which must be at the start of an array.
     *
     * @param size         the bytes of header plus data, or -1 when unknown; when known the data
     *                     must fill exactly the rest
     * @param maxDataBytes the most data bytes the caller can vouch for (the entry or file size)
     * @param file         for messages (may be null)
     * @param key          for messages (may be null)
     */
    static Header readHeader(InputStream in, long size, long maxDataBytes, Path file, String key) throws IOException {
        if (size >= 0 && size < MAGIC.length + 4) {
            throw err(file, key, "too short to be a .npy array (" + size + " bytes)");
        }
        byte[] prefix = readExactly(in, MAGIC.length + 2, file, key, "header");
        if (!Arrays.equals(prefix, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw err(file, key, "not a .npy array (no \\x93NUMPY magic at the start)");
        }
        int major = prefix[6] & 0xff;
        int minor = prefix[7] & 0xff;
        if (minor != 0 || major < 1 || major > 3) {
            throw err(file, key, "unsupported .npy format version " + major + "." + minor
                    + " (lit4j reads 1.0, 2.0 and 3.0)");
        }
        int lenBytes = major == 1 ? 2 : 4;
        byte[] lb = readExactly(in, lenBytes, file, key, "header");
        long hlen = (lb[0] & 0xff) | (lb[1] & 0xff) << 8;
        if (lenBytes == 4) {
            hlen |= (long) (lb[2] & 0xff) << 16 | (long) (lb[3] & 0xff) << 24;
        }
        long prefixBytes = MAGIC.length + 2 + lenBytes;
        if (hlen > MAX_HEADER_BYTES) {
            throw err(file, key, "header length " + hlen + " is over lit4j's limit of " + MAX_HEADER_BYTES
                    + " bytes; the file is damaged or not a .npy array");
        }
        if (size >= 0 && prefixBytes + hlen > size) {
            throw err(file, key, "header length " + hlen + " goes past the end of the data (" + size
                    + " bytes in all); the file is truncated or damaged");
        }
        byte[] hb = readExactly(in, (int) hlen, file, key, "header");
        String text = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = parseHeader(text, prefixBytes + hlen, file, key);
        if (size >= 0) {
            long available = size - h.headerBytes();
            if (available < h.dataBytes()) {
                throw err(file, key, "truncated .npy data (expected " + h.dataBytes() + " bytes for "
                        + h.dtype() + " " + Arrays.toString(h.shape()) + ", got " + available + ")");
            }
            if (available > h.dataBytes()) {
                throw err(file, key, (available - h.dataBytes()) + " extra bytes after the .npy data ("
                        + h.dtype() + " " + Arrays.toString(h.shape()) + " needs " + h.dataBytes() + ", found "
                        + available + ")");
            }
        }
        if (h.dataBytes() > maxDataBytes) {
            throw err(file, key, "header claims " + h.dtype() + " " + Arrays.toString(h.shape()) + " ("
                    + h.dataBytes() + " bytes), more than the " + maxDataBytes + " bytes that can be there");
        }
        return h;
    }

    /** Fills {@code dst} from {@code in} in chunks; a stream that ends early is "truncated". */
    static void readData(InputStream in, MemorySegment dst, Path file, String key) throws IOException {
        long total = dst.byteSize();
        byte[] buf = new byte[(int) Math.min(total, CHUNK)];
        long done = 0;
        while (done < total) {
            int want = (int) Math.min(buf.length, total - done);
            int got = in.readNBytes(buf, 0, want);
            if (got > 0) {
                MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, done, got);
                done += got;
            }
            if (got < want) {
                throw err(file, key, "truncated .npy data (expected " + total + " bytes, got " + done + ")");
            }
        }
    }

    /** Throws unless {@code in} is at its end. */
    static void expectEnd(InputStream in, Header h, Path file, String key) throws IOException {
        if (in.read() >= 0) {
            throw err(file, key, "extra bytes after the .npy data (" + h.dtype() + " "
                    + Arrays.toString(h.shape()) + " needs " + h.dataBytes() + " bytes)");
        }
    }

    private static byte[] readExactly(InputStream in, int n, Path file, String key, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw err(file, key, "truncated .npy " + what + " (expected " + n + " more bytes, got " + b.length + ")");
        }
        return b;
    }

    /** Maps a numpy descr to a DType, or explains why lit4j cannot read it. */
    static DType dtypeOf(String descr, Path file, String key) {
        return switch (descr) {
            case "<f4" -> DType.F32;
            case "<f2" -> DType.F16;
            case "<i4" -> DType.I32;
            case "<i8" -> DType.I64;
            case "bfloat16", "<V2", "|V2" -> DType.BF16;
            default -> throw err(file, key, "unsupported .npy descr '" + descr + "' (" + whyUnsupported(descr)
                    + "); " + ACCEPTED);
        };
    }

    private static String whyUnsupported(String descr) {
        if (descr.startsWith(">")) {
            return "big-endian; convert with a.astype(a.dtype.newbyteorder('<'))";
        }
        if (descr.endsWith("O")) {
            return "object arrays hold pickled Python objects and are never read";
        }
        if (descr.equals("<f8")) {
            return "float64; save it as float32 with a.astype('<f4')";
        }
        return "not a type lit4j stores";
    }

    /** The descr lit4j writes for {@code dtype} (bf16 as {@code <V2}, as numpy saves ml_dtypes' bfloat16). */
    static String descrOf(DType dtype) {
        return switch (dtype) {
            case F32 -> "<f4";
            case F16 -> "<f2";
            case I32 -> "<i4";
            case I64 -> "<i8";
            case BF16 -> "<V2";
        };
    }

    // ---------------------------------------------------------------- header dict parser

    static Header parseHeader(String text, long headerBytes, Path file, String key) {
        HeaderParser p = new HeaderParser(text, file, key);
        p.parse();
        DType dtype = dtypeOf(p.descr, file, key);
        long[] shape = p.shape;
        long n = 1;
        try {
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            n = Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw err(file, key, "shape " + Arrays.toString(shape) + " has more bytes than fit in a long; "
                    + "the header is damaged");
        }
        if (p.fortranOrder) {
            long big = Arrays.stream(shape).filter(d -> d > 1).count();
            if (big > 1) {
                throw err(file, key, "fortran_order True (column-major) arrays are not supported (shape "
                        + Arrays.toString(shape) + "); save np.ascontiguousarray(a) instead");
            }
        }
        return new Header(dtype, shape, headerBytes, n);
    }

    /**
     * The header is a Python dict literal such as
     * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }}: exactly the keys descr,
     * fortran_order and shape in any order, string values in ' or ", True/False, and a tuple of
     * non-negative integers ({@code ()}, {@code (5,)}, {@code (3, 4)}; a Python 2 {@code L} suffix is
     * allowed). Spaces and a final newline may follow.
     */
    private static final class HeaderParser {
        private final String s;
        private final Path file;
        private final String key;
        private int pos;
        private String descr;
        private Boolean fortranOrder;
        private long[] shape;

        HeaderParser(String s, Path file, String key) {
            this.s = s;
            this.file = file;
            this.key = key;
        }

        void parse() {
            skipSpace();
            expect('{');
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    break;
                }
                int keyPos = pos;
                String k = string("a quoted key");
                skipSpace();
                expect(':');
                skipSpace();
                switch (k) {
                    case "descr" -> {
                        checkFresh(descr, k, keyPos);
                        if (peek() == '[') {
                            throw err(file, key, "descr is a list: structured arrays are not supported; " + ACCEPTED);
                        }
                        descr = string("a quoted descr string");
                    }
                    case "fortran_order" -> {
                        checkFresh(fortranOrder, k, keyPos);
                        fortranOrder = bool();
                    }
                    case "shape" -> {
                        checkFresh(shape, k, keyPos);
                        shape = tuple();
                    }
                    default -> {
                        pos = keyPos;
                        throw fail("unknown key '" + k + "' (a .npy header has 'descr', 'fortran_order' and 'shape')");
                    }
                }
                skipSpace();
                char c = peek();
                if (c == ',') {
                    pos++;
                } else if (c != '}') {
                    throw fail("expected ',' or '}'");
                }
            }
            skipSpace();
            if (pos < s.length()) {
                throw fail("unexpected text after the header dict");
            }
            require(descr, "descr");
            require(fortranOrder, "fortran_order");
            require(shape, "shape");
        }

        private void require(Object value, String name) {
            if (value == null) {
                throw err(file, key, "malformed .npy header: no '" + name + "' in " + excerpt());
            }
        }

        private void checkFresh(Object value, String k, int keyPos) {
            if (value != null) {
                pos = keyPos;
                throw fail("key '" + k + "' appears twice");
            }
        }

        private String string(String what) {
            char q = peek();
            if (q != '\'' && q != '"') {
                throw fail("expected " + what);
            }
            int start = ++pos;
            while (pos < s.length() && s.charAt(pos) != q) {
                if (s.charAt(pos) == '\\') {
                    throw fail("escapes in strings are not supported");
                }
                pos++;
            }
            if (pos >= s.length()) {
                throw fail("unterminated string");
            }
            return s.substring(start, pos++);
        }

        private boolean bool() {
            if (s.startsWith("True", pos)) {
                pos += 4;
                return true;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return false;
            }
            throw fail("expected True or False");
        }

        private long[] tuple() {
            expect('(');
            List<Long> dims = new ArrayList<>();
            boolean trailingComma = false;
            skipSpace();
            while (peek() != ')') {
                dims.add(integer());
                skipSpace();
                trailingComma = false;
                if (peek() == ',') {
                    pos++;
                    trailingComma = true;
                    skipSpace();
                } else if (peek() != ')') {
                    throw fail("expected ',' or ')' in the shape");
                }
            }
            if (dims.size() == 1 && !trailingComma) {
                throw fail("shape (n) is not a tuple; numpy writes (n,)");
            }
            pos++;
            return dims.stream().mapToLong(Long::longValue).toArray();
        }

        private long integer() {
            if (peek() == '-') {
                throw fail("negative dimension in the shape");
            }
            int start = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            if (start == pos) {
                throw fail("expected a non-negative integer in the shape");
            }
            String digits = s.substring(start, pos);
            if (peek() == 'L') {
                pos++;
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                pos = start;
                throw fail("dimension " + digits + " is too large");
            }
        }

        private void expect(char c) {
            if (peek() != c) {
                throw fail("expected '" + c + "'");
            }
            pos++;
        }

        private char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        private void skipSpace() {
            while (pos < s.length() && " \t\r\n".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
        }

        private CheckpointException fail(String what) {
            return err(file, key, "malformed .npy header: " + what + " at position " + pos + " in " + excerpt());
        }

        private String excerpt() {
            String t = s.strip();
            return t.length() > 200 ? t.substring(0, 200) + "..." : t;
        }
    }

    // ---------------------------------------------------------------- writing

    /**
     * The header numpy 1.24 writes for this array (format 1.0, padded with spaces to a multiple of
     * 64 bytes and ending in a newline), magic included.
     */
    static byte[] header(DType dtype, long[] shape) {
        StringBuilder t = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            t.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        t.append(shape.length == 1 ? ",)" : ")"); // Python's repr: (), (5,), (3, 4)
        StringBuilder h = new StringBuilder("{'descr': '").append(descrOf(dtype))
                .append("', 'fortran_order': False, 'shape': ").append(t).append(", }");
        if (shape.length > 0) {
            h.append(" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length())));
        }
        int hlen = h.length() + 1;
        int pad = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN);
        h.append(" ".repeat(pad)).append('\n');
        int len = h.length();
        if (len > 0xffff) {
            throw new LitException(".npy header for shape " + Arrays.toString(shape) + " is too long for format 1.0");
        }
        byte[] text = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[MAGIC.length + 4 + text.length];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[6] = 1;
        out[7] = 0;
        out[8] = (byte) len;
        out[9] = (byte) (len >>> 8);
        System.arraycopy(text, 0, out, MAGIC.length + 4, text.length);
        return out;
    }

    /**
     * Writes one array in {@code .npy} format 1.0 to {@code out} (which stays open). {@code data}
     * holds the raw little-endian C-order bytes and must be exactly the array's size.
     */
    public static void write(OutputStream out, DType dtype, long[] shape, MemorySegment data) throws IOException {
        String problem = sizeProblem(new ArrayInfo("npy", dtype, shape), data);
        if (problem != null) {
            throw new LitException(problem);
        }
        out.write(header(dtype, shape));
        writeData(out, data);
    }

    /**
     * Writes one array to the {@code .npy} file {@code file} atomically: the file is either replaced
     * by the complete array or left as it was.
     */
    public static void writeFile(Path file, DType dtype, long[] shape, MemorySegment data) {
        String problem;
        try {
            problem = sizeProblem(new ArrayInfo(keyOf(file), dtype, shape), data);
        } catch (LitException e) {
            problem = e.getMessage();
        }
        if (problem != null) {
            throw new CheckpointException(file, null, problem);
        }
        try (AtomicFile af = AtomicFile.create(file)) {
            OutputStream out = af.stream();
            write(out, dtype, shape, data);
            af.commit();
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "write", e);
        }
    }

    /** Why {@code data} cannot hold {@code info}'s array, or null when its size is right. */
    static String sizeProblem(ArrayInfo info, MemorySegment data) {
        if (data.byteSize() == info.byteSize()) {
            return null;
        }
        return "data is " + data.byteSize() + " bytes but " + info.dtype() + " " + info.shapeString() + " ("
                + info.numel() + " elements) needs " + info.byteSize();
    }

    /** Copies {@code data} to {@code out} through a small buffer. */
    static void writeData(OutputStream out, MemorySegment data) throws IOException {
        long total = data.byteSize();
        byte[] buf = new byte[(int) Math.min(total, CHUNK)];
        for (long done = 0; done < total; ) {
            int n = (int) Math.min(buf.length, total - done);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, done, buf, 0, n);
            out.write(buf, 0, n);
            done += n;
        }
    }

    static CheckpointException err(Path file, String key, String message) {
        return new CheckpointException(file, key, message);
    }
}
