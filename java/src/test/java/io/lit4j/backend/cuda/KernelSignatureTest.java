package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Kernel}'s names and parameter lists against the C source of the kernels (read from
 * {@code native/cuda/lit4j_kernels.cu}, so this runs with or without nvcc), and the packing of
 * launch arguments: a mismatch here would be a wrong-argument launch on the GPU.
 */
class KernelSignatureTest {
    static final Path SOURCE = Path.of("../native/cuda/lit4j_kernels.cu");
    static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);

    /** Kernel name to its parameter kinds, as declared in the .cu file. */
    static Map<String, String> declared(String source) {
        Map<String, String> out = new TreeMap<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) {
            StringBuilder kinds = new StringBuilder();
            for (String p : m.group(2).split(",")) {
                kinds.append(kind(p.strip()));
            }
            out.put(m.group(1), kinds.toString());
        }
        return out;
    }

    static char kind(String param) {
        if (param.contains("*")) {
            return 'P';
        }
        String type = param.replace("const ", "").split("\\s+")[0];
        return switch (type) {
            case "int" -> 'I';
            case "i64" -> 'L';
            case "float" -> 'F';
            default -> throw new AssertionError("a kernel parameter of a type Kernel cannot pass: " + param);
        };
    }

    @Test
    void everyKernelMatchesItsDeclarationAndEveryDeclarationHasAKernel() throws IOException {
        Map<String, String> decl = declared(Files.readString(SOURCE));
        assertTrue(decl.size() >= 20, "the parser found only " + decl.keySet());
        Set<String> seen = new TreeSet<>();
        for (Kernel k : Kernel.values()) {
            assertTrue(decl.containsKey(k.symbol()), k + ": no kernel " + k.symbol() + " in " + SOURCE);
            assertEquals(decl.get(k.symbol()), k.params(), k + " (" + k.symbol() + ") parameter kinds");
            seen.add(k.symbol());
        }
        assertEquals(decl.keySet(), seen, "kernels in the .cu file that Kernel does not list");
    }

    @Test
    void theParserSeesKindsAndAMismatch() {
        Map<String, String> d = declared("extern \"C\" __global__ void f(const void* a, int b,\n i64 c, float d, double* e) {}");
        assertEquals(Map.of("f", "PILFP"), d);
        assertThrows(AssertionError.class, () -> declared("extern \"C\" __global__ void g(double x) {}"));
    }

    @Test
    void argumentsArePackedAsPointersToEachValue() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = Kernel.SCALE.arguments(a, 0x1234_5678_9abcL, 1, 77L, 0.5f);
            assertEquals(4 * ValueLayout.ADDRESS.byteSize(), params.byteSize());
            MemorySegment p0 = params.getAtIndex(ValueLayout.ADDRESS, 0).reinterpret(8);
            MemorySegment p1 = params.getAtIndex(ValueLayout.ADDRESS, 1).reinterpret(4);
            MemorySegment p2 = params.getAtIndex(ValueLayout.ADDRESS, 2).reinterpret(8);
            MemorySegment p3 = params.getAtIndex(ValueLayout.ADDRESS, 3).reinterpret(4);
            assertEquals(0x1234_5678_9abcL, p0.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(1, p1.get(ValueLayout.JAVA_INT, 0));
            assertEquals(77L, p2.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0.5f, p3.get(ValueLayout.JAVA_FLOAT, 0));
            assertEquals(0, p0.address() % 8, "each value 8-byte aligned, as the driver reads 64-bit parameters");
        }
    }

    @Test
    void aWrongCountOrKindIsRefusedBeforeAnyLaunch() {
        try (Arena a = Arena.ofConfined()) {
            LitException few = assertThrows(LitException.class, () -> Kernel.SCALE.arguments(a, 1L, 1, 2L));
            assertTrue(few.getMessage().contains("lit4j_scale takes 4 arguments (PILF), got 3"), few.getMessage());
            LitException kind = assertThrows(LitException.class, () -> Kernel.SCALE.arguments(a, 1L, 1, 2, 0.5f));
            assertTrue(kind.getMessage().contains("argument 2 must be Long"), kind.getMessage());
            assertThrows(LitException.class, () -> Kernel.SCALE.arguments(a, 1L, 1, 2L, 0.5));
        }
        assertEquals(Kernel.values().length, EnumSet.allOf(Kernel.class).size());
    }
}
