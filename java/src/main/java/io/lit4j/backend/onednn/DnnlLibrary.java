package io.lit4j.backend.onednn;

import io.lit4j.CacheDir;
import io.lit4j.LitException;
import io.lit4j.Version;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Finds oneDNN's {@code libdnnl.so.3} and its OpenMP runtime {@code libgomp.so.1} on the class
 * path (inside the {@code org.bytedeco:dnnl} jar), copies them once into a cache folder keyed by
 * the jar's version, and {@code System.load}s them so the generated bindings can resolve.
 *
 * <p>The copy is safe when several JVMs start at once: each writes a private temp file and
 * renames it into place atomically; a file already there with the right size is reused.
 */
public final class DnnlLibrary {
    private static final String RESOURCE_DIR = "org/bytedeco/dnnl/linux-x86_64/";
    private static final String[] LIBS = {"libgomp.so.1", "libdnnl.so.3"}; // gomp first: dnnl needs it

    private static volatile Path loadedFrom;
    private static volatile LitException failure;

    private DnnlLibrary() {
    }

    /** Loads the libraries once per JVM; returns the folder they were loaded from. */
    public static synchronized Path load() {
        if (loadedFrom != null) {
            return loadedFrom;
        }
        if (failure != null) {
            throw failure;
        }
        try {
            loadedFrom = extractAndLoad();
            return loadedFrom;
        } catch (LitException e) {
            failure = e;
            throw e;
        }
    }

    private static Path extractAndLoad() {
        checkPlatform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        Path dir = cacheRoot().resolve("native").resolve("dnnl-" + Version.dnnlArtifactVersion() + "-linux-x86_64");
        try {
            Files.createDirectories(dir);
            for (String lib : LIBS) {
                Path target = dir.resolve(lib);
                extract(RESOURCE_DIR + lib, target);
                System.load(target.toAbsolutePath().toString());
            }
        } catch (IOException e) {
            throw new LitException("cannot unpack oneDNN into " + dir + ": " + e.getMessage()
                    + " (set -Dlit4j.cache=DIR or LIT4J_CACHE to a writable folder)", e);
        } catch (UnsatisfiedLinkError e) {
            throw new LitException("cannot load oneDNN from " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /** Throws unless the oneDNN jar carries libraries for this OS and architecture. */
    static void checkPlatform(String osName, String archName) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = archName.toLowerCase(Locale.ROOT);
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new LitException("the oneDNN backend ships for linux-x86_64 only; this JVM runs on "
                    + osName + "-" + archName + " (use --backend scalar)");
        }
    }

    /** The cache root (see {@link io.lit4j.CacheDir}). */
    public static Path cacheRoot() {
        return CacheDir.root();
    }

    private static void extract(String resource, Path target) throws IOException {
        URL url = DnnlLibrary.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new LitException("oneDNN library " + resource + " is not on the class path: add "
                    + "org.bytedeco:dnnl:" + Version.dnnlArtifactVersion() + ":linux-x86_64 (or use --backend scalar)");
        }
        URLConnection conn = url.openConnection();
        long size = conn.getContentLengthLong();
        if (size > 0 && Files.isRegularFile(target) && Files.size(target) == size) {
            return; // already unpacked by this or an earlier JVM
        }
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName() + ".", ".tmp");
        try {
            try (InputStream in = conn.getInputStream(); OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
