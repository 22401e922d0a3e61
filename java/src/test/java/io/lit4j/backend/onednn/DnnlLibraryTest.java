package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DnnlLibraryTest {
    @Test
    void otherPlatformsGetAClearError() {
        LitException e = assertThrows(LitException.class, () -> DnnlLibrary.checkPlatform("Mac OS X", "aarch64"));
        assertTrue(e.getMessage().contains("linux-x86_64") && e.getMessage().contains("Mac OS X-aarch64")
                && e.getMessage().contains("--backend scalar"), e.getMessage());
        assertDoesNotThrow(() -> DnnlLibrary.checkPlatform("Linux", "amd64"));
    }

    @Test
    void twoJvmsUnpackingIntoOneFreshCacheBothSucceed(@TempDir Path cache) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> procs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            procs.add(new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                    "-Dlit4j.cache=" + cache, "-cp", System.getProperty("java.class.path"), "io.lit4j.cli.Main", "info")
                    .redirectErrorStream(true).redirectOutput(cache.resolve("out" + i + ".txt").toFile()).start());
        }
        for (int i = 0; i < 2; i++) {
            assertTrue(procs.get(i).waitFor(120, TimeUnit.SECONDS), "JVM " + i + " did not finish");
            String out = Files.readString(cache.resolve("out" + i + ".txt"));
            assertEquals(0, procs.get(i).exitValue(), out);
            assertTrue(out.contains("oneDNN 3.13"), out);
        }
        Path dir;
        try (Stream<Path> s = Files.list(cache.resolve("native"))) {
            dir = s.findFirst().orElseThrow();
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("libdnnl.so.3", "libgomp.so.1"), names, "only the two libraries, no temp files left");
        }
        assertTrue(Files.size(dir.resolve("libdnnl.so.3")) > 10_000_000);
        assertTrue(new File(dir.toFile(), "libgomp.so.1").length() > 100_000);
    }
}
