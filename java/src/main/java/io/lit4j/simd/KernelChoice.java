package io.lit4j.simd;

import java.io.PrintStream;

/**
 * Picks the {@link Kernels} once per JVM, as Lucene's VectorizationProvider does: the Vector API
 * ones when {@code jdk.incubator.vector} is in the boot layer ({@code --add-modules
 * jdk.incubator.vector}), otherwise plain loops and one line on stderr saying how to get the fast
 * ones. {@link VectorKernels} is only named on the first path, so a JVM without the module never
 * links a class of it (a jar's manifest cannot add an incubator module).
 */
final class KernelChoice {
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final Kernels KERNELS = pick(ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent(), System.err);

    private KernelChoice() {
    }

    static Kernels pick(boolean vectorModule, PrintStream warnings) {
        if (vectorModule) {
            return new VectorKernels();
        }
        warnings.println("lit4j: warning: " + VECTOR_MODULE + " is not loaded, so the Java kernels run as plain loops (slower); "
                + "run java with --add-modules " + VECTOR_MODULE + " for the Vector API ones");
        return new PlainKernels();
    }
}
