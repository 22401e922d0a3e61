package io.lit4j.backend.cuda;

import io.lit4j.LitException;
import io.lit4j.backend.cuda.CudaLibraries.Found;
import io.lit4j.backend.cuda.CudaLibraries.Lib;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Loads the CUDA driver, cuBLASLt and cuDNN once per JVM ({@code System.load}, so the generated
 * bindings' loader lookup resolves their symbols), from where {@link CudaLibraries} finds them.
 * The driver and cuBLASLt are required; cuDNN is optional (lit4j's attention runs on cuBLASLt and
 * its own kernels; cuDNN is only reported). A failure is remembered and rethrown: the reason
 * {@code lit4j info} and {@code --backend auto} give.
 */
public final class CudaLibrary {
    /** What was loaded from where; {@code cudnn} is empty when cuDNN was not found or would not load. */
    public record Loaded(Found driver, Found cublasLt, Optional<Found> cudnn, String cudnnProblem) {
    }

    /** cuDNN 9's parts, loaded by full path before libcudnn.so.9, which opens them by name. */
    private static final List<String> CUDNN_PARTS = List.of("libcudnn_graph.so.9", "libcudnn_engines_runtime_compiled.so.9",
            "libcudnn_engines_precompiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9",
            "libcudnn_adv.so.9");

    private static Loaded loaded;
    private static LitException failure;

    private CudaLibrary() {
    }

    /** Loads the libraries once; throws a one-line {@link LitException} saying what is missing. */
    public static synchronized Loaded load() {
        if (loaded != null) {
            return loaded;
        }
        if (failure != null) {
            throw failure;
        }
        try {
            loaded = loadFrom(CudaLibraries.ofThisProcess());
            return loaded;
        } catch (LitException e) {
            failure = e;
            throw e;
        }
    }

    private static Loaded loadFrom(CudaLibraries search) {
        String os = System.getProperty("os.name", "") + "-" + System.getProperty("os.arch", "");
        if (!os.toLowerCase().startsWith("linux-") || !(os.endsWith("amd64") || os.endsWith("x86_64"))) {
            throw new LitException("the cuda backend is built for linux-x86_64; this JVM runs on " + os);
        }
        Found driver = search.find(Lib.DRIVER).orElseThrow(() -> new LitException(search.notFound(Lib.DRIVER)));
        systemLoad(driver);
        Found lt = search.find(Lib.CUBLASLT).orElseThrow(() -> new LitException(search.notFound(Lib.CUBLASLT)));
        systemLoad(lt);
        Optional<Found> cudnn = search.find(Lib.CUDNN);
        String problem = cudnn.isEmpty() ? search.notFound(Lib.CUDNN) : null;
        if (cudnn.isPresent()) {
            try {
                Path dir = cudnn.get().file().getParent();
                for (String part : CUDNN_PARTS) {
                    Path p = dir.resolve(part);
                    if (Files.isRegularFile(p)) {
                        try {
                            System.load(p.toString());
                        } catch (UnsatisfiedLinkError e) {
                            // an engine part with a missing dependency (libnvrtc for the runtime-compiled engines):
                            // cuDNN runs without it, with fewer engines
                        }
                    }
                }
                System.load(cudnn.get().file().toString());
            } catch (UnsatisfiedLinkError e) {
                problem = "cannot load " + cudnn.get().file() + ": " + e.getMessage();
                cudnn = Optional.empty();
            }
        }
        return new Loaded(driver, lt, cudnn, problem);
    }

    private static void systemLoad(Found f) {
        try {
            System.load(f.file().toString());
        } catch (UnsatisfiedLinkError e) {
            throw new LitException("cannot load " + f.lib().title() + " from " + f.file() + " (found through " + f.origin() + "): "
                    + e.getMessage());
        }
    }
}
