package io.lit4j.io;

import io.lit4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.lit4j.io.NpyNpzTest.assertCheckpoint;
import static io.lit4j.io.NpyNpzTest.assertSameBytes;
import static io.lit4j.io.NpyNpzTest.randomBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** A file made of an 8-byte length, the given header text and {@code dataBytes} bytes of data. */
    Path raw(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return raw(name, h.length, h, dataBytes);
    }

    Path raw(String name, long declaredLength, byte[] header, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) (i * 7 + 1));
        }
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    CheckpointException openFails(Path p, String... fragments) {
        return assertCheckpoint(() -> SafetensorsReader.open(p).close(), fragments);
    }

    List<String> dirListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ------------------------------------------------------------------ round trips

    @Test
    void roundTripsEveryDtypeAndOddShapes() throws IOException {
        Path p = dir.resolve("model.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "lit4j");
        meta.put("note", "<é & \"quoted\">");
        List<HostArray> arrays = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            int seed = 7;
            for (DType dt : DType.values()) {
                for (long[] shape : NpyNpzTest.SHAPES) {
                    ArrayInfo info = new ArrayInfo("z" + seed + "." + dt, dt, shape);
                    arrays.add(new HostArray(info, randomBytes(info.byteSize(), seed++, arena)));
                }
            }
            SafetensorsWriter.write(p, meta, arrays);
            assertEquals(List.of("model.safetensors"), dirListing(), "no temp file left behind");

            long n = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");

            try (SafetensorsReader r = SafetensorsReader.open(p)) {
                assertEquals(meta, r.metadata());
                assertEquals(arrays.stream().map(HostArray::key).toList(), r.keys(), "header order");
                for (HostArray a : arrays) {
                    assertTrue(r.contains(a.key()));
                    assertEquals(a.info(), r.info(a.key()));
                    HostArray b = r.read(a.key());
                    assertEquals(a.info(), b.info());
                    assertSameBytes(a.data(), b.data());
                    assertTrue(b.data().isReadOnly());
                }
                assertFalse(r.contains("__metadata__"));
            }
        }
    }

    @Test
    void emptyFileWithoutMetadata() throws IOException {
        Path p = dir.resolve("empty.safetensors");
        SafetensorsWriter.write(p, null, List.of());
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertEquals(List.of(), r.keys());
            assertEquals(Map.of(), r.metadata());
        }
    }

    @Test
    void readsAHandWrittenFileWithUnalignedArrays() throws IOException {
        // HuggingFace style: compact JSON; a 3-element bf16 array leaves the f32 one unaligned
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[6,14]}}";
        ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3f80).putShort((short) 0xbfc0).putShort((short) 0x4100);
        data.putFloat(2.5f).putFloat(-7f);
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + h.length + 14).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(h.length).put(h).put(data.array());
        Path p = dir.resolve("hf.safetensors");
        Files.write(p, file.array());
        try (SafetensorsReader r = SafetensorsReader.open(p); Arena arena = Arena.ofConfined()) {
            assertEquals(List.of("b", "a"), r.keys());
            assertEquals(Map.of("format", "pt"), r.metadata());
            assertArrayEquals(new float[] {1f, -1.5f, 8f}, r.read("b").toFloatArray());
            assertArrayEquals(new float[] {2.5f, -7f}, r.read("a").toFloatArray());
            MemorySegment f = arena.allocate(12);
            r.read("b").copyToF32(f);
            assertArrayEquals(new float[] {1f, -1.5f, 8f}, f.toArray(ValueLayout.JAVA_FLOAT));
            MemorySegment g = arena.allocate(8);
            r.read("a").copyToF32(g);
            assertArrayEquals(new float[] {2.5f, -7f}, g.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    @Test
    void unknownKeyAndClosedReader() throws IOException {
        Path p = dir.resolve("m.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsWriter.write(p, Map.of(), List.of(
                    HostArray.ofFloats("img.cls", new long[] {2}, new float[] {1, 2}, arena),
                    HostArray.ofInts("ids", new long[] {1}, new int[] {3}, arena)));
        }
        SafetensorsReader r = SafetensorsReader.open(p);
        assertCheckpoint(() -> r.read("img.pos"), "m.safetensors", "key 'img.pos'", "no such array", "'img.cls'",
                "'ids'");
        HostArray a = r.read("img.cls");
        r.close();
        r.close();
        assertThrows(IllegalStateException.class, () -> r.read("img.cls"));
        assertThrows(IllegalStateException.class, a::toFloatArray, "the mapping is gone");
    }

    // ------------------------------------------------------------------ malformed files

    @Test
    void tooShort() throws IOException {
        Path p = dir.resolve("s.safetensors");
        Files.write(p, new byte[] {1, 0, 0});
        openFails(p, "s.safetensors", "too short");
    }

    @Test
    void headerLengthNegativeHugeOrPastTheEnd() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        openFails(raw("neg.safetensors", -1L, h, 0), "header length 18446744073709551615", "limit");
        openFails(raw("huge.safetensors", 1L << 40, h, 0), "header length 1099511627776", "limit");
        openFails(raw("past.safetensors", 500, h, 10), "header length 500", "past the end");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        openFails(raw("a.safetensors", "hello {world", 0), "not valid JSON");
        openFails(raw("b.safetensors", "{\"a\": {\"dtype\": \"F32\"", 0), "not valid JSON");
        openFails(raw("c.safetensors", "{} trailing", 0), "not valid JSON");
        openFails(raw("d.safetensors", "{'a': 1}", 0), "not valid JSON");
        openFails(raw("e.safetensors", "[1, 2]", 0), "not an object");
        openFails(raw("f.safetensors", 4, new byte[] {'"', (byte) 0xff, (byte) 0xfe, '"'}, 0), "not UTF-8");
        openFails(raw("g.safetensors", "[".repeat(100_000), 0), "not valid JSON");
    }

    @Test
    void badEntries() throws IOException {
        openFails(raw("past.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
                "key 'w'", "data_offsets [0, 16]", "within the 8 data bytes");
        openFails(raw("rev.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8),
                "key 'w'", "data_offsets [8, 4]");
        openFails(raw("mismatch.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":[0,16]}}", 16),
                "key 'w'", "F32 [3, 5] needs 60 bytes", "span 16");
        openFails(raw("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "key 'b'", "overlap", "'a'");
        openFails(raw("dtype.safetensors", "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8),
                "key 'w'", "'F64'", "F32");
        openFails(raw("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "key 'w'", "'dtype' is missing");
        openFails(raw("overflow.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4),
                "key 'w'", "more bytes than fit in a long");
        openFails(raw("negdim.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                "key 'w'", "'shape'", "non-negative integers");
        openFails(raw("fracdim.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 4),
                "'shape'");
        openFails(raw("bigdim.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1e30],\"data_offsets\":[0,4]}}", 4), "'shape'");
        openFails(raw("offs.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
                "'data_offsets'", "2 non-negative integers");
        openFails(raw("notobj.safetensors", "{\"w\":[1,2]}", 4), "key 'w'", "not an object");
        openFails(raw("meta.safetensors", "{\"__metadata__\":{\"n\":1}}", 0), "__metadata__", "'n'", "not a string");
    }

    @Test
    void emptyArraysMayShareAnOffset() throws IOException {
        Path p = raw("z.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                + "\"b\":{\"dtype\":\"I64\",\"shape\":[2,0],\"data_offsets\":[4,4]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertEquals(0, r.read("a").data().byteSize());
            assertEquals(2, r.read("c").numel());
        }
    }

    // ------------------------------------------------------------------ writer failures

    @Test
    void failedWritesKeepTheOldFile() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        Files.writeString(p, "old");
        try (Arena arena = Arena.ofConfined()) {
            HostArray a = HostArray.ofFloats("a", new long[] {1}, new float[] {1}, arena);
            assertCheckpoint(() -> SafetensorsWriter.write(p, null, List.of(a, a)), "key 'a'", "twice");
            HostArray m = HostArray.ofFloats("__metadata__", new long[] {1}, new float[] {1}, arena);
            assertCheckpoint(() -> SafetensorsWriter.write(p, null, List.of(m)), "reserved");
        }
        Arena gone = Arena.ofConfined();
        HostArray dead = HostArray.ofFloats("d", new long[] {2}, new float[] {1, 2}, gone);
        gone.close();
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(p, null, List.of(dead)));
        assertEquals("old", Files.readString(p));
        assertEquals(List.of("keep.safetensors"), dirListing());
    }
}
