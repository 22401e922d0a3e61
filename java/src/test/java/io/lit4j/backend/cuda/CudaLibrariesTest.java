package io.lit4j.backend.cuda;

import io.lit4j.backend.cuda.CudaLibraries.Lib;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The library search order, on fake folders with fake library files (nothing is loaded). */
class CudaLibrariesTest {
    @TempDir
    Path root;

    final Map<String, String> env = new HashMap<>();

    CudaLibraries search() {
        return new CudaLibraries(env::get, root.resolve("home"), root.resolve("ld.so.conf.d"), List.of(root.resolve("sys")),
                List.of(root.resolve("usr")));
    }

    Path lib(String folder, String name) throws IOException {
        Path f = root.resolve(folder).resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, "not really a library");
        return f;
    }

    Path found(Lib lib) {
        return search().find(lib).orElseThrow().file();
    }

    String origin(Lib lib) {
        return search().find(lib).orElseThrow().origin();
    }

    @Test
    void eachPlaceWinsOverTheOnesAfterIt() throws IOException {
        Path wheel = lib("venv/lib/python3.12/site-packages/nvidia/cudnn/lib", "libcudnn.so.9");
        env.put("VIRTUAL_ENV", root.resolve("venv").toString());
        assertEquals(wheel, found(Lib.CUDNN));
        assertTrue(origin(Lib.CUDNN).startsWith("a pip wheel under"), origin(Lib.CUDNN));

        Path toolkit = lib("cuda/lib64", "libcudnn.so.9");
        env.put("CUDA_HOME", root.resolve("cuda").toString());
        assertEquals(toolkit, found(Lib.CUDNN));
        assertEquals("CUDA_HOME", origin(Lib.CUDNN));

        Path sys = lib("sys", "libcudnn.so.9");
        assertEquals(sys, found(Lib.CUDNN));

        Path conf = lib("confd", "libcudnn.so.9");
        Files.createDirectories(root.resolve("ld.so.conf.d"));
        Files.writeString(root.resolve("ld.so.conf.d/cudnn.conf"), "# a comment\n" + conf.getParent() + "\n");
        assertEquals(conf, found(Lib.CUDNN));

        Path loader = lib("ld", "libcudnn.so.9");
        env.put("LD_LIBRARY_PATH", "/nonexistent:" + loader.getParent());
        assertEquals(loader, found(Lib.CUDNN));
        assertEquals("LD_LIBRARY_PATH", origin(Lib.CUDNN));

        Path mine = lib("mine", "libcudnn.so.9");
        env.put("LIT4J_CUDA_LIBS", root.resolve("empty") + ":" + mine.getParent());
        assertEquals(mine, found(Lib.CUDNN));
        assertEquals("LIT4J_CUDA_LIBS", origin(Lib.CUDNN));
    }

    @Test
    void theNewerCublasWinsWithinAFolderButNotAcrossFolders() throws IOException {
        lib("a", "libcublasLt.so.12");
        Path a13 = lib("a", "libcublasLt.so.13");
        Path b13 = lib("b", "libcublasLt.so.13");
        env.put("LIT4J_CUDA_LIBS", root.resolve("a") + ":" + root.resolve("b"));
        assertEquals(a13, found(Lib.CUBLASLT));
        Files.delete(a13);
        assertEquals(root.resolve("a/libcublasLt.so.12"), found(Lib.CUBLASLT), "the first folder wins even with the older version");
        env.put("LIT4J_CUDA_LIBS", root.resolve("b").toString());
        assertEquals(b13, found(Lib.CUBLASLT));
    }

    @Test
    void theDriverIsNeverTakenFromTheToolkitOrAWheel() throws IOException {
        lib("cuda/lib64", "libcuda.so.1"); // what a toolkit's stubs would look like if linked there
        lib("home/.local/lib/python3.11/site-packages/nvidia/cuda_runtime/lib", "libcuda.so.1");
        env.put("CUDA_HOME", root.resolve("cuda").toString());
        assertTrue(search().find(Lib.DRIVER).isEmpty());
        assertTrue(search().places(Lib.DRIVER).stream().noneMatch(p -> p.origin().equals("CUDA_HOME")));
        Path sys = lib("sys", "libcuda.so.1");
        assertEquals(sys, found(Lib.DRIVER));
    }

    @Test
    void wheelsAreFoundUnderEveryPythonPrefixInOrder() throws IOException {
        Path user = lib("home/.local/lib/python3.10/site-packages/nvidia/cublas/lib", "libcublasLt.so.12");
        Path usr = lib("usr/lib/python3/dist-packages/nvidia/cublas/lib", "libcublasLt.so.13");
        assertEquals(user, found(Lib.CUBLASLT), "~/.local comes before the system prefixes");
        Files.delete(user);
        assertEquals(usr, found(Lib.CUBLASLT));
        Path conda = lib("conda/lib/python3.12/site-packages/nvidia/cublas/lib", "libcublasLt.so.12");
        env.put("CONDA_PREFIX", root.resolve("conda").toString());
        assertEquals(conda, found(Lib.CUBLASLT));
    }

    @Test
    void aFolderNamedTwiceIsSearchedOnceUnderItsFirstOrigin() throws IOException {
        Path f = lib("x", "libcudnn.so.9");
        env.put("LIT4J_CUDA_LIBS", f.getParent().toString());
        env.put("LD_LIBRARY_PATH", f.getParent() + "/.");
        List<CudaLibraries.Place> places = search().places(Lib.CUDNN);
        assertEquals(1, places.stream().filter(p -> p.folder().equals(f.getParent())).count());
        assertEquals("LIT4J_CUDA_LIBS", origin(Lib.CUDNN));
    }

    @Test
    void notFoundSaysWhereItLookedAndWhatToSet() {
        String m = search().notFound(Lib.CUDNN);
        assertTrue(m.contains("libcudnn.so.9") && m.contains("LIT4J_CUDA_LIBS") && m.contains("nvidia/cudnn/lib"), m);
        assertTrue(search().find(Lib.CUDNN).isEmpty());
        String d = search().notFound(Lib.DRIVER);
        assertTrue(d.startsWith("no libcuda.so.1"), d);
    }
}
