package io.lit4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaded jar as a newcomer runs it: {@code java -jar lit4j-...-all.jar} with no JVM flags at
 * all. The manifest grants native access; without {@code jdk.incubator.vector} the Java kernels
 * run as plain loops after one line of warning, and both towers still work (classify embeds the
 * image and the labels' prompts). Run by failsafe after {@code package}, which builds the jar.
 */
class PlainJavaJarIT {
    @Test
    void classifiesWithNoJvmFlags(@TempDir Path dir) throws Exception {
        Path jar = Path.of(System.getProperty("lit4j.jar"));
        assertTrue(Files.isRegularFile(jar), "no shaded jar at " + jar + " (failsafe runs after package)");
        Path image = Files.copy(Path.of("../models/default/samples/fashion-bag.png"), dir.resolve("x.png")); // no label in the name
        Path out = dir.resolve("out.txt"), err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
                "classify", image.toString(), "--labels", "bag,sneaker,dress", "--top", "1", "--threads", "1")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("java -jar classify did not finish in 120 s");
        }
        String stderr = Files.readString(err), stdout = Files.readString(out);
        assertEquals(0, p.exitValue(), stderr);
        assertTrue(stdout.contains("bag") && !stdout.contains("sneaker"), stdout);
        List<String> warnings = stderr.lines().filter(l -> l.contains("jdk.incubator.vector")).toList();
        assertEquals(1, warnings.size(), stderr);
        assertTrue(warnings.get(0).startsWith("lit4j: warning: ") && warnings.get(0).contains("--add-modules jdk.incubator.vector"), stderr);
    }
}
