package io.lit4j.backend;

import io.lit4j.backend.cuda.CudaBackend;
import io.lit4j.backend.onednn.OneDnnBackend;
import org.opentest4j.TestAbortedException;

import java.lang.reflect.Proxy;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fast backend the suites hold to the scalar oracle (BackendEquivalenceTest, GradientCheckTest,
 * GoldenParityTest, TrainGoldenTest): oneDNN by default, the cuda backend with
 * {@code -Dlit4j.test.backend=cuda} (what bench/gpu's device check passes). When cuda is asked
 * for and cannot run (no driver, no GPU, no kernels in the build) the suites skip, naming why.
 */
public final class UnderTest {
    /** "onednn" or "cuda". */
    public static final String NAME = System.getProperty("lit4j.test.backend", "onednn");

    private UnderTest() {
    }

    /**
     * A new backend under test (2 host threads). When it cannot run here: a stand-in whose every
     * call but {@code close} aborts the test with the reason ({@link #assumeAvailable} skips the
     * suite before any call; the stand-in keeps a stray one from passing or failing).
     */
    public static Backend open() {
        return switch (NAME) {
            case "onednn" -> new OneDnnBackend(2);
            case "cuda" -> {
                String why = CudaBackend.unavailableReason();
                yield why == null ? new CudaBackend(0, 2) : unavailable("cuda backend unavailable: " + why);
            }
            default -> throw new IllegalArgumentException("-Dlit4j.test.backend=" + NAME + ": onednn or cuda");
        };
    }

    private static Backend unavailable(String why) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "close" -> {
                    return null;
                }
                case "toString" -> {
                    return "unavailable backend (" + why + ")";
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "equals" -> {
                    return proxy == args[0];
                }
                default -> {
                }
            }
            throw new TestAbortedException(why);
        });
    }

    /** Skips the calling suite, with the reason, when the backend under test cannot run here. */
    public static void assumeAvailable() {
        if (NAME.equals("cuda")) {
            String why = CudaBackend.unavailableReason();
            assumeTrue(why == null, "cuda backend unavailable: " + why);
        }
    }
}
