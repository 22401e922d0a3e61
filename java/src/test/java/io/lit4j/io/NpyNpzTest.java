package io.lit4j.io;

import io.lit4j.LitException;
import io.lit4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class NpyNpzTest {
    static final long[][] SHAPES = {{}, {1}, {3, 5, 7}, {0}, {2, 0, 3}, {4, 1}};

    @TempDir
    Path dir;

    // ------------------------------------------------------------------ helpers

    static MemorySegment randomBytes(long n, long seed, Arena arena) {
        Random r = new Random(seed);
        MemorySegment s = arena.allocate(Math.max(n, 1)).asSlice(0, n);
        for (long i = 0; i < n; i++) {
            byte b;
            do {
                b = (byte) r.nextInt();
            } while (b == 0);
            s.set(ValueLayout.JAVA_BYTE, i, b);
        }
        return s;
    }

    static void assertSameBytes(MemorySegment expected, MemorySegment actual) {
        assertEquals(expected.byteSize(), actual.byteSize(), "byte size");
        assertEquals(-1, expected.mismatch(actual), "first differing byte");
    }

    /** Asserts that {@code r} throws a CheckpointException whose message contains every fragment. */
    static CheckpointException assertCheckpoint(Runnable r, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, r::run);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        return e;
    }

    Path resource(String name) throws IOException {
        try (InputStream in = NpyNpzTest.class.getResourceAsStream("/io/" + name)) {
            if (in == null) {
                fail("missing test resource /io/" + name);
            }
            Path p = dir.resolve(name);
            Files.write(p, in.readAllBytes());
            return p;
        }
    }

    static byte[] npyBytes(String dict, int major, byte[] data) {
        byte[] h = dict.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(12 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) h.length);
        } else {
            b.putInt(h.length);
        }
        b.put(h).put(data);
        return Arrays.copyOf(b.array(), b.position());
    }

    static String dict(String descr, String fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
    }

    Path writeNpy(String name, String dict, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, npyBytes(dict, 1, data));
        return p;
    }

    /** An .npz holding the given raw entries. */
    Path zip(String name, int method, String[] names, byte[][] contents) throws IOException {
        Path p = dir.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            for (int i = 0; i < names.length; i++) {
                ZipEntry e = new ZipEntry(names[i]);
                e.setMethod(method);
                if (method == ZipEntry.STORED) {
                    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                    crc.update(contents[i]);
                    e.setSize(contents[i].length);
                    e.setCompressedSize(contents[i].length);
                    e.setCrc(crc.getValue());
                }
                z.putNextEntry(e);
                z.write(contents[i]);
                z.closeEntry();
            }
        }
        return p;
    }

    /** Overwrites the uncompressed size of the first central-directory entry. */
    static void patchCentralSize(Path zip, long size) throws IOException {
        byte[] b = Files.readAllBytes(zip);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = b.length - 46; i >= 0; i--) {
            if (bb.getInt(i) == 0x02014b50) {
                bb.putInt(i + 24, (int) size);
                Files.write(zip, b);
                return;
            }
        }
        fail("no central directory header");
    }

    List<String> dirListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ------------------------------------------------------------------ round trips

    @Test
    void npyRoundTripsEveryDtypeAndOddShapes() {
        try (Arena arena = Arena.ofConfined()) {
            int seed = 0;
            for (DType dt : DType.values()) {
                for (long[] shape : SHAPES) {
                    ArrayInfo info = new ArrayInfo("x", dt, shape);
                    MemorySegment data = randomBytes(info.byteSize(), seed++, arena);
                    Path p = dir.resolve("a" + seed + ".npy");
                    Npy.writeFile(p, dt, shape, data);
                    assertEquals(info.withKey("a" + seed), Npy.readInfo(p));
                    HostArray back = Npy.readFile(p, arena);
                    assertEquals(dt, back.dtype());
                    assertArrayEquals(shape, back.shape());
                    assertSameBytes(data, back.data());
                    assertEquals(0, (Files.size(p) - info.byteSize()) % 64, "header is padded to 64 bytes");
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void npyHeaderIsByteIdenticalToNumpys() throws IOException {
        Path numpyFile = resource("f4_2x3.npy");
        try (Arena arena = Arena.ofConfined()) {
            float[] v = {-2f, -0.5f, 1f, 2.5f, 4f, 5.5f};
            HostArray a = HostArray.ofFloats("a", new long[] {2, 3}, v, arena);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Npy.write(out, DType.F32, a.shape(), a.data());
            assertArrayEquals(Files.readAllBytes(numpyFile), out.toByteArray());
        }
    }

    @Test
    void npzRoundTripsEveryDtypeInOrder() throws IOException {
        Path p = dir.resolve("m.npz");
        List<HostArray> written = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            try (NpzWriter w = NpzWriter.create(p)) {
                int seed = 100;
                for (DType dt : DType.values()) {
                    for (int i = 0; i < SHAPES.length; i++) {
                        ArrayInfo info = new ArrayInfo("t/" + dt + "/" + i, dt, SHAPES[i]);
                        HostArray a = new HostArray(info, randomBytes(info.byteSize(), seed++, arena));
                        w.put(a);
                        written.add(a);
                    }
                }
                w.put("floats", new long[] {2, 2}, new float[] {1f, -2f, 3.5f, 0.25f});
            }
            assertEquals(List.of("m.npz"), dirListing(), "no temp file left behind");
            try (NpzReader r = NpzReader.open(p)) {
                List<String> keys = new ArrayList<>(written.stream().map(HostArray::key).toList());
                keys.add("floats");
                assertEquals(keys, r.keys());
                for (HostArray a : written) {
                    assertEquals(a.info(), r.info(a.key()));
                    HostArray b = r.read(a.key(), arena);
                    assertEquals(a.info(), b.info());
                    assertSameBytes(a.data(), b.data());
                }
                assertArrayEquals(new float[] {1f, -2f, 3.5f, 0.25f}, r.read("floats", arena).toFloatArray());
                assertTrue(r.contains("floats"));
                assertFalse(r.contains("nope"));
            }
        }
    }

    @Test
    void writingTheSameContentsGivesTheSameBytes() throws IOException {
        Path a = dir.resolve("a.npz");
        Path b = dir.resolve("b.npz");
        for (Path p : new Path[] {a, b}) {
            try (NpzWriter w = NpzWriter.create(p)) {
                w.put("x", new long[] {3}, new float[] {1, 2, 3});
            }
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void bigArrayIsStreamedInChunks() throws IOException {
        long n = 11L * 1024 * 1024 + 3; // 44 MB of f32: many chunks, and a ragged last one
        Path p = dir.resolve("big.npz");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(n * 4);
            for (long i = 0; i < n; i++) {
                data.setAtIndex(HostArray.LE_F32, i, i * 0.5f);
            }
            try (NpzWriter w = NpzWriter.create(p)) {
                w.put("big", DType.F32, new long[] {n}, data);
            }
            try (NpzReader r = NpzReader.open(p)) {
                HostArray back = r.read("big", arena);
                assertSameBytes(data, back.data());
                MemorySegment f = arena.allocate(n * 4);
                back.copyToF32(f);
                assertEquals((n - 1) * 0.5f, f.getAtIndex(ValueLayout.JAVA_FLOAT, n - 1));
            }
        }
    }

    // ------------------------------------------------------------------ files written by numpy

    @Test
    void readsNumpyNpy() throws IOException {
        Path p = resource("f4_2x3.npy");
        try (Arena arena = Arena.ofConfined()) {
            HostArray a = Npy.readFile(p, arena);
            assertEquals(new ArrayInfo("f4_2x3", DType.F32, new long[] {2, 3}), a.info());
            assertArrayEquals(new float[] {-2f, -0.5f, 1f, 2.5f, 4f, 5.5f}, a.toFloatArray());
        }
    }

    @Test
    void readsNumpyVersion2Header() throws IOException {
        Path p = resource("f4_v2_header.npy");
        try (Arena arena = Arena.ofConfined()) {
            HostArray a = Npy.readFile(p, arena);
            assertEquals(DType.I64, a.dtype());
            assertArrayEquals(new long[] {3, 2}, a.shape());
            assertArrayEquals(new int[] {1, -2, 3, 4, 5, -6}, a.toIntArray());
        }
    }

    @Test
    void readsNumpySavezAndSavezCompressed() throws IOException {
        for (String name : new String[] {"savez.npz", "savez_compressed.npz"}) {
            Path p = resource(name);
            try (Arena arena = Arena.ofConfined(); NpzReader r = NpzReader.open(p)) {
                assertEquals(List.of("img/cls", "txt/ids", "scalar", "i64", "f16", "empty", "bf"), r.keys(), name);
                assertArrayEquals(new float[] {0.5f, -1.25f, 3.0f, 1e-3f}, r.read("img/cls", arena).toFloatArray());
                HostArray ids = r.read("txt/ids", arena);
                assertArrayEquals(new long[] {2, 3}, ids.shape());
                assertArrayEquals(new int[] {1, 2, 3, -4, 5, Integer.MAX_VALUE}, ids.toIntArray());
                HostArray scalar = r.read("scalar", arena);
                assertEquals(0, scalar.info().rank());
                assertArrayEquals(new float[] {7.5f}, scalar.toFloatArray());
                assertArrayEquals(new int[] {1, -2, 3}, r.read("i64", arena).toIntArray());
                HostArray f16 = r.read("f16", arena);
                assertEquals(DType.F16, f16.dtype());
                assertArrayEquals(new float[] {0.5f, -2f, 65504f, Float.float16ToFloat(Float.floatToFloat16(1e-4f))},
                        f16.toFloatArray());
                HostArray empty = r.read("empty", arena);
                assertArrayEquals(new long[] {0, 3}, empty.shape());
                assertEquals(0, empty.data().byteSize());
                HostArray bf = r.read("bf", arena);
                assertEquals(DType.BF16, bf.dtype());
                assertArrayEquals(new float[] {1f, -3f, 3.140625f, 0f}, bf.toFloatArray());
                MemorySegment f = arena.allocate(16);
                bf.copyToF32(f);
                assertArrayEquals(new float[] {1f, -3f, 3.140625f, 0f}, f.toArray(ValueLayout.JAVA_FLOAT));
            }
        }
    }

    // ------------------------------------------------------------------ conversions

    @Test
    void conversions() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(8);
            s.setAtIndex(HostArray.LE_I16, 0, Float.floatToFloat16(1.5f));
            s.setAtIndex(HostArray.LE_I16, 1, Float.floatToFloat16(-0.25f));
            s.setAtIndex(HostArray.LE_I16, 2, (short) 0x7f80); // bf16 +inf, as f16 it is NaN
            s.setAtIndex(HostArray.LE_I16, 3, (short) 0x3c00);
            HostArray f16 = new HostArray(new ArrayInfo("h", DType.F16, new long[] {4}), s);
            float[] h = f16.toFloatArray();
            assertEquals(1.5f, h[0]);
            assertEquals(-0.25f, h[1]);
            assertEquals(1f, h[3]);
            HostArray bf = new HostArray(new ArrayInfo("b", DType.BF16, new long[] {2, 2}), s);
            float[] b = bf.toFloatArray();
            assertEquals(Float.POSITIVE_INFINITY, b[2]);
            assertEquals(Float.intBitsToFloat(0x3c000000), b[3]);
            assertThrows(LitException.class, f16::toIntArray);

            MemorySegment big = arena.allocate(16);
            big.setAtIndex(HostArray.LE_I64, 0, 5);
            big.setAtIndex(HostArray.LE_I64, 1, 1L << 40);
            HostArray i64 = new HostArray(new ArrayInfo("ids", DType.I64, new long[] {2}), big);
            LitException e = assertThrows(LitException.class, i64::toIntArray);
            assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("1099511627776"), e.getMessage());
            assertThrows(LitException.class, i64::toFloatArray);
            assertThrows(LitException.class, () -> i64.copyToF32(arena.allocate(8)));

            HostArray f32 = HostArray.ofFloats("f", new long[] {3}, new float[] {1, 2, 3}, arena);
            assertThrows(LitException.class, () -> f32.copyToF32(arena.allocate(8)), "destination too small");
            assertThrows(LitException.class, () -> HostArray.ofFloats("f", new long[] {2}, new float[] {1}, arena));
            assertThrows(LitException.class, () -> new HostArray(f32.info(), arena.allocate(8)));
            assertArrayEquals(new int[] {4, -5}, HostArray.ofInts("i", new long[] {2}, new int[] {4, -5}, arena).toIntArray());
            assertEquals("[3, 4]", new ArrayInfo("k", DType.F32, new long[] {3, 4}).shapeString());
            assertEquals(48, new ArrayInfo("k", DType.F32, new long[] {3, 4}).byteSize());
            assertEquals(1, new ArrayInfo("k", DType.F32, new long[] {}).numel());
            assertThrows(LitException.class, () -> new ArrayInfo("k", DType.F32, new long[] {-1}));
            assertThrows(LitException.class, () -> new ArrayInfo("k", DType.F32, new long[] {1L << 62, 2}));
        }
    }

    // ------------------------------------------------------------------ malformed .npy

    @Test
    void truncatedNpyData() throws IOException {
        Path p = writeNpy("t.npy", dict("<f4", "False", "(3, 5, 7)"), new byte[100]);
        assertCheckpoint(() -> Npy.readFile(p, Arena.global()), "t.npy", "truncated .npy data", "expected 420 bytes",
                "got 100");
    }

    @Test
    void extraNpyData() throws IOException {
        Path p = writeNpy("t.npy", dict("<f4", "False", "(2,)"), new byte[12]);
        assertCheckpoint(() -> Npy.readFile(p, Arena.global()), "4 extra bytes");
    }

    @Test
    void npyHeaderLengthBeyondTheFile() throws IOException {
        byte[] b = npyBytes(dict("<f4", "False", "(2,)"), 1, new byte[8]);
        b[8] = (byte) 0xff;
        b[9] = (byte) 0x7f;
        Path p = dir.resolve("h.npy");
        Files.write(p, b);
        assertCheckpoint(() -> Npy.readFile(p, Arena.global()), "header length 32767", "past the end");

        byte[] v2 = npyBytes(dict("<f4", "False", "(2,)"), 2, new byte[8]);
        v2[8] = v2[9] = v2[10] = v2[11] = (byte) 0xff;
        Files.write(p, v2);
        assertCheckpoint(() -> Npy.readFile(p, Arena.global()), "header length 4294967295", "limit");
    }

    @Test
    void npyBadMagicAndVersion() throws IOException {
        Path p = dir.resolve("x.npy");
        Files.writeString(p, "this is not an npy file at all");
        assertCheckpoint(() -> Npy.readFile(p, Arena.global()), "not a .npy array");
        byte[] b = npyBytes(dict("<f4", "False", "(2,)"), 4, new byte[8]);
        Files.write(p, b);
        assertCheckpoint(() -> Npy.readFile(p, Arena.global()), "version 4.0");
        Files.write(p, new byte[] {(byte) 0x93, 'N'});
        assertCheckpoint(() -> Npy.readFile(p, Arena.global()), "too short");
    }

    @Test
    void npyUnsupportedDescrs() throws IOException {
        assertCheckpoint(() -> read(dict(">f4", "False", "(2,)"), 8), "'>f4'", "big-endian", "'<f4'");
        assertCheckpoint(() -> read(dict("|O", "False", "(2,)"), 16), "'|O'", "object");
        assertCheckpoint(() -> read(dict("<f8", "False", "(2,)"), 16), "'<f8'", "float64");
        assertCheckpoint(() -> read(dict("|u1", "False", "(2,)"), 2), "'|u1'", "lit4j reads");
        assertCheckpoint(() -> read("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8),
                "structured");
    }

    @Test
    void npyBf16Descrs() throws IOException {
        for (String d : new String[] {"bfloat16", "<V2", "|V2"}) {
            assertEquals(DType.BF16, read(dict(d, "False", "(2,)"), 4).dtype());
        }
    }

    @Test
    void npyFortranOrder() throws IOException {
        assertCheckpoint(() -> read(dict("<f4", "True", "(2, 3)"), 24), "fortran_order True", "ascontiguousarray");
        // with at most one dimension above 1 both orders are the same bytes
        assertEquals(3, read(dict("<f4", "True", "(3,)"), 12).numel());
        assertEquals(3, read(dict("<f4", "True", "(1, 3)"), 12).numel());
    }

    @Test
    void npyHeaderGrammar() throws IOException {
        // keys in any order, double quotes, no trailing comma, Python 2 longs, extra spaces
        HostArray a = read("{\"shape\": ( 2 ,3L ) ,  'fortran_order':False,\"descr\":\"<i4\"}   \n", 24);
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertEquals(DType.I32, a.dtype());
        assertEquals(0, read(dict("<f4", "False", "()"), 4).info().rank());

        assertCheckpoint(() -> read(dict("<f4", "False", "(5)"), 20), "not a tuple");
        assertCheckpoint(() -> read(dict("<f4", "False", "(-1,)"), 4), "negative dimension");
        assertCheckpoint(() -> read(dict("<f4", "False", "[2]"), 8), "expected '('");
        assertCheckpoint(() -> read(dict("<f4", "false", "(2,)"), 8), "True or False");
        assertCheckpoint(() -> read("{'descr': '<f4', 'shape': (2,), }", 8), "no 'fortran_order'");
        assertCheckpoint(() -> read("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8),
                "unknown key 'x'");
        assertCheckpoint(() -> read("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8),
                "twice");
        assertCheckpoint(() -> read(dict("<f4", "False", "(2,)") + "junk", 8), "unexpected text");
        assertCheckpoint(() -> read("{'descr': '<f4", 8), "unterminated");
        assertCheckpoint(() -> read(dict("<f4", "False", "(99999999999999999999,)"), 8), "too large");
        assertCheckpoint(() -> read(dict("<f4", "False", "(9223372036854775807, 2)"), 8), "more bytes than fit in a long");
    }

    private HostArray read(String dict, int dataBytes) {
        try {
            Path p = writeNpy("g.npy", dict, new byte[dataBytes]);
            return Npy.readFile(p, Arena.global());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ malformed .npz

    @Test
    void npzEntryClaimingHugeShape() throws IOException {
        byte[] npy = npyBytes(dict("<f4", "False", "(1099511627776,)"), 1, new byte[100]);
        for (int method : new int[] {ZipEntry.STORED, ZipEntry.DEFLATED}) {
            Path p = zip("huge" + method + ".npz", method, new String[] {"w.npy"}, new byte[][] {npy});
            try (NpzReader r = NpzReader.open(p)) {
                assertCheckpoint(() -> r.info("w"), "key 'w'", "truncated .npy data", "expected 4398046511104 bytes",
                        "got 100");
                assertCheckpoint(() -> r.read("w", Arena.global()), "expected 4398046511104 bytes");
            }
        }
    }

    @Test
    void npzEntryWithLyingDeflatedSize() throws IOException {
        byte[] npy = npyBytes(dict("<f4", "False", "(10,)"), 1, new byte[40]);
        Path p = zip("lie.npz", ZipEntry.DEFLATED, new String[] {"w.npy"}, new byte[][] {npy});
        patchCentralSize(p, 0xfffffff0L);
        try (NpzReader r = NpzReader.open(p)) {
            assertCheckpoint(() -> r.read("w", Arena.global()), "key 'w'", "more than deflate can expand");
        }
    }

    @Test
    void npzDeflatedStreamEndingEarly() throws IOException {
        // the header and the zip's size both claim 1000 floats, the compressed stream holds 10
        String d = dict("<f4", "False", "(1000,)");
        byte[] npy = npyBytes(d, 1, new byte[40]);
        Path p = zip("short.npz", ZipEntry.DEFLATED, new String[] {"w.npy"}, new byte[][] {npy});
        patchCentralSize(p, npy.length - 40 + 4000);
        try (NpzReader r = NpzReader.open(p)) {
            assertEquals(1000, r.info("w").numel());
            assertCheckpoint(() -> r.read("w", Arena.global()), "key 'w'", "truncated");
        }
    }

    @Test
    void npzDeflatedStreamWithTrailingBytes() throws IOException {
        byte[] npy = npyBytes(dict("<f4", "False", "(10,)"), 1, new byte[44]);
        Path p = zip("long.npz", ZipEntry.DEFLATED, new String[] {"w.npy"}, new byte[][] {npy});
        patchCentralSize(p, npy.length - 4);
        try (NpzReader r = NpzReader.open(p)) {
            assertCheckpoint(() -> r.read("w", Arena.global()), "key 'w'", "extra bytes");
        }
    }

    @Test
    void notAZip() throws IOException {
        Path p = dir.resolve("model.npz");
        Files.writeString(p, "definitely not a zip archive, just some text");
        assertCheckpoint(() -> NpzReader.open(p), "model.npz", "not a zip archive (npz)");
        Files.write(p, new byte[0]);
        assertCheckpoint(() -> NpzReader.open(p), "not a zip archive (npz)");

        Path good = resource("savez.npz");
        byte[] b = Files.readAllBytes(good);
        Files.write(p, Arrays.copyOf(b, b.length / 2));
        assertCheckpoint(() -> NpzReader.open(p), "not a zip archive (npz)");

        assertCheckpoint(() -> NpzReader.open(dir.resolve("absent.npz")), "absent.npz", "no such file");
        assertCheckpoint(() -> NpzReader.open(dir), "folder");
    }

    @Test
    void npzWithAnEntryThatIsNotNpy() throws IOException {
        byte[] npy = npyBytes(dict("<f4", "False", "(1,)"), 1, new byte[4]);
        Path p = zip("mixed.npz", ZipEntry.STORED, new String[] {"a.npy", "readme.txt"},
                new byte[][] {npy, "hello".getBytes(StandardCharsets.UTF_8)});
        assertCheckpoint(() -> NpzReader.open(p), "mixed.npz", "entry 'readme.txt' is not a .npy array");
    }

    @Test
    void npzUnknownKeyListsTheKeys() throws IOException {
        Path p = resource("savez.npz");
        try (NpzReader r = NpzReader.open(p)) {
            CheckpointException e = assertCheckpoint(() -> r.info("img/nope"), "key 'img/nope'", "no such array",
                    "'img/cls'", "'txt/ids'");
            assertEquals("img/nope", e.key());
            assertEquals(p, e.file());
        }
        NpzReader closed = NpzReader.open(p);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.info("scalar"));
    }

    @Test
    void npzCorruptNpyInsideEntry() throws IOException {
        Path p = zip("c.npz", ZipEntry.STORED, new String[] {"a.npy"},
                new byte[][] {"not an npy".getBytes(StandardCharsets.UTF_8)});
        try (NpzReader r = NpzReader.open(p)) {
            assertCheckpoint(() -> r.read("a", Arena.global()), "c.npz", "key 'a'", "not a .npy array");
        }
    }

    // ------------------------------------------------------------------ atomic writers

    @Test
    void failedNpzWriteKeepsTheOldFile() throws IOException {
        Path p = dir.resolve("keep.npz");
        Files.writeString(p, "old contents");
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            try (NpzWriter w = NpzWriter.create(p)) {
                w.put("a", new long[] {2}, new float[] {1, 2});
                w.put("b", DType.F32, new long[] {3}, MemorySegment.ofArray(new byte[8])); // 12 bytes needed
            }
        });
        assertTrue(e.getMessage().contains("key 'b'") && e.getMessage().contains("12"), e.getMessage());
        assertEquals(1, e.getSuppressed().length, "close reports that nothing was written");
        assertEquals("old contents", Files.readString(p));
        assertEquals(List.of("keep.npz"), dirListing());

        // a failure in the middle of writing the bytes: the data's memory is already gone
        Arena arena = Arena.ofConfined();
        MemorySegment gone = arena.allocate(16);
        arena.close();
        assertThrows(IllegalStateException.class, () -> {
            try (NpzWriter w = NpzWriter.create(p)) {
                w.put("c", DType.F32, new long[] {4}, gone);
            }
        });
        assertEquals("old contents", Files.readString(p));
        assertEquals(List.of("keep.npz"), dirListing());

        // duplicate keys; and abort()
        assertCheckpoint(() -> {
            try (NpzWriter w = NpzWriter.create(p)) {
                w.put("a", new long[] {1}, new float[] {1});
                w.put("a", new long[] {1}, new float[] {1});
            }
        }, "key 'a'", "twice");
        NpzWriter w = NpzWriter.create(p);
        w.put("a", new long[] {1}, new float[] {1});
        w.abort();
        w.close();
        assertEquals("old contents", Files.readString(p));
        assertEquals(List.of("keep.npz"), dirListing());
    }

    @Test
    void npyWriteFileIsAtomic() throws IOException {
        Path p = dir.resolve("e.npy");
        Files.writeString(p, "old");
        assertCheckpoint(() -> Npy.writeFile(p, DType.F32, new long[] {3}, MemorySegment.ofArray(new byte[4])),
                "e.npy", "needs 12");
        Arena arena = Arena.ofConfined();
        MemorySegment gone = arena.allocate(16);
        arena.close();
        assertThrows(IllegalStateException.class, () -> Npy.writeFile(p, DType.F32, new long[] {4}, gone));
        assertEquals("old", Files.readString(p));
        assertEquals(List.of("e.npy"), dirListing());

        Npy.writeFile(p, DType.I32, new long[] {1}, MemorySegment.ofArray(new byte[] {7, 0, 0, 0}));
        assertEquals(List.of("e.npy"), dirListing());
        try (Arena a = Arena.ofConfined()) {
            assertArrayEquals(new int[] {7}, Npy.readFile(p, a).toIntArray());
        }
        assertCheckpoint(() -> Npy.writeFile(dir.resolve("no/such/folder/x.npy"), DType.I32, new long[] {1},
                MemorySegment.ofArray(new byte[4])), "x.npy", "cannot write", "no/such/folder)");
    }
}
