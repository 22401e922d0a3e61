package io.lit4j.cli;

import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI conventions through the real shaded jar, as the launcher runs it: its stdout, stderr,
 * exit codes and stdin, not the in-process {@code Main.run} that {@code CliConventionsTest} uses.
 * Run by failsafe after {@code package}.
 */
class CliJarIT {
    private record Run(int code, String out, String err) {
    }

    private static Run lit4j(Path dir, String stdin, String... args) throws Exception {
        Path jar = Path.of(System.getProperty("lit4j.jar"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        Path in = Files.writeString(dir.resolve("stdin.txt"), stdin), out = dir.resolve("out.txt"), err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("lit4j " + String.join(" ", args) + " did not finish in 120 s");
        }
        String e = Files.readString(err, StandardCharsets.UTF_8).lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .reduce("", (a, b) -> a + b + "\n");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), e);
    }

    @Test
    void helpJsonStdinAndErrorsThroughTheJar(@TempDir Path dir) throws Exception {
        Run help = lit4j(dir, "", "embed", "-h");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: lit4j embed") && help.err().isEmpty(), help.out() + help.err());

        Path bag = Files.copy(Path.of("../models/default/samples/fashion-bag.png"), dir.resolve("x.png"));
        Run listed = lit4j(dir, bag + "\n", "classify", "--labels", "bag,sneaker", "--top", "1", "--json", "--threads", "1", "-");
        assertEquals(0, listed.code(), listed.err());
        assertEquals("bag", JsonParser.parseString(listed.out().strip()).getAsJsonObject().getAsJsonArray("images").get(0)
                .getAsJsonObject().getAsJsonArray("top").get(0).getAsJsonObject().get("label").getAsString(), listed.out());
        assertEquals("", listed.err(), "no progress or notes for one image");

        Run bad = lit4j(dir, "", "embed", "--texts", dir.toString(), "--out", dir.resolve("t.npy").toString());
        assertEquals(1, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().startsWith("lit4j: error: ") && bad.err().contains("is a folder"), bad.err());

        Run flag = lit4j(dir, "", "info", "--threads", "0");
        assertEquals(1, flag.code(), flag.err());
        assertTrue(flag.err().contains("--threads 0"), flag.err());
    }
}
