package io.lit4j;

import io.lit4j.eval.ZeroShotClassifier;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's Java example compiles (it is ReadmeExample), matches the README text, and runs on the shipped model. */
class ReadmeExampleTest {
    static List<String> exampleLines() throws IOException {
        List<String> src = Files.readAllLines(Path.of("src/test/java/io/lit4j/ReadmeExample.java"));
        int a = src.indexOf("        // README-BEGIN"), b = src.indexOf("        // README-END");
        return src.subList(a + 1, b).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void readmeShowsExactlyTheCompiledExample() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        List<String> readmeLines = readme.lines().map(String::strip).toList();
        for (String line : exampleLines()) {
            assertTrue(readmeLines.contains(line), "README.md lacks this line of the tested example: " + line);
        }
    }

    @Test
    void exampleRunsOnTheShippedModel() {
        Path bag = sample("Bag");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            ReadmeExample.run(bag);
        } finally {
            System.setOut(out);
        }
        List<String> lines = printed.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(4, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("bag (p="), "the shipped model should call a Fashion-MNIST bag a bag: " + lines);
        assertEquals("bag", lines.get(1), "the same with aliases: " + lines);
        String[] probs = lines.get(2).replace(',', '.').split(" ");
        assertTrue(Double.parseDouble(probs[0]) > Double.parseDouble(probs[1]), "\"a photo of a bag\" should be the likelier text: " + lines);
        assertEquals("2 " + bag, lines.get(3));
    }

    @Test
    void oneModelServesManyThreads() throws Exception {
        List<Path> images = new ArrayList<>();
        try (var s = Files.list(DefaultModel.samples())) {
            s.filter(p -> p.toString().endsWith(".png")).sorted().forEach(images::add);
        }
        List<String> labels = List.of("red triangle", "blue star", "sneaker", "bag", "trousers");
        try (LitModel m = LitModel.loadDefault(LitModel.Options.defaults())) {
            var expected = m.classify(images, ZeroShotClassifier.Label.names(labels), "clip_best", 1);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<List<List<ZeroShotClassifier.Scored>>>> fs = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    fs.add(pool.submit(() -> m.classify(images, ZeroShotClassifier.Label.names(labels), "clip_best", 1)));
                }
                for (var f : fs) {
                    var got = f.get();
                    for (int i = 0; i < images.size(); i++) {
                        assertEquals(expected.get(i).get(0).label(), got.get(i).get(0).label());
                        assertEquals(expected.get(i).get(0).probability(), got.get(i).get(0).probability(), 1e-5);
                    }
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    static Path sample(String label) {
        try {
            var meta = com.google.gson.JsonParser.parseString(Files.readString(DefaultModel.samples().resolve("samples.json"))).getAsJsonObject();
            for (var e : meta.getAsJsonArray("fashion")) {
                if (e.getAsJsonObject().get("label").getAsString().equals(label)) {
                    return DefaultModel.samples().resolve(e.getAsJsonObject().get("image").getAsString());
                }
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        throw new AssertionError("no sample labelled " + label);
    }
}
