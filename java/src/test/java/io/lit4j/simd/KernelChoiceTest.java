package io.lit4j.simd;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelChoiceTest {
    @Test
    void theVectorModuleGivesTheVectorKernelsSilently() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertInstanceOf(VectorKernels.class, KernelChoice.pick(true, new PrintStream(err, true, StandardCharsets.UTF_8)));
        assertEquals(0, err.size());
        assertInstanceOf(VectorKernels.class, Kernels.get(), "the tests run with --add-modules jdk.incubator.vector");
    }

    @Test
    void withoutTheModuleThePlainLoopsRunAfterOneLineOfWarning() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertInstanceOf(PlainKernels.class, KernelChoice.pick(false, new PrintStream(err, true, StandardCharsets.UTF_8)));
        String warning = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, warning.lines().count(), warning);
        assertTrue(warning.contains("--add-modules jdk.incubator.vector"), warning);
    }
}
