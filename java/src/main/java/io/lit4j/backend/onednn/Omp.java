package io.lit4j.backend.onednn;

import io.lit4j.LitException;
import io.lit4j.bindings.omp.omp_h;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * oneDNN's OpenMP runtime (the libgomp bundled beside libdnnl). OpenMP keeps the thread count
 * per calling thread, so every Java thread that runs primitives sets it before its first: the full
 * {@code threads}, or fewer for small work ({@link #useOnCurrentThread}). oneDNN reads it when it
 * creates a primitive and splits that primitive's work for that many threads from then on, so a
 * primitive is only run by threads whose team is the size it was created for (see
 * {@link DnnlRuntime#primitive}); a primitive made for one thread runs inline, with no parallel
 * region, and never wakes a worker.
 *
 * <p>OpenMP also keeps a team (a pool of worker threads) per calling thread, and libgomp counts
 * every worker of every team: while it manages more threads than there are CPUs, a worker waiting
 * at a barrier spins 100 times instead of about 300,000 (libgomp {@code config/linux/wait.h},
 * {@code do_spin}, and {@code env.c}, {@code initialize_env}: {@code gomp_throttled_spin_count_var})
 * and then sleeps on a futex. With {@code threads} = the CPU count, two Java threads that have
 * each run one op are already one thread over, and from then on every op on every thread pays a
 * futex wake per barrier: batch-1 text took 1.3 ms instead of 0.65 ms here. {@link #releaseCurrentThread}
 * ends the calling thread's team ({@code omp_pause_resource_all}, OpenMP 5.0), for a thread that
 * has run ops and will not for a while (the one that loaded a model, before a model thread takes over).
 */
final class Omp {
    /** {@code omp_pause_soft} of {@code omp_pause_resource_t} (omp.h). */
    private static final int OMP_PAUSE_SOFT = 1;

    private final int threads;
    /** The team size set on each thread (0: not yet set), so that omp_set_num_threads runs only on a change. */
    private final ThreadLocal<int[]> team = ThreadLocal.withInitial(() -> new int[1]);

    Omp(int threads) {
        this.threads = threads;
    }

    /** Makes the calling thread's OpenMP teams {@code threads} wide, unless it has chosen a size already; the size in force. */
    int configureCurrentThread() {
        int[] t = team.get();
        if (t[0] == 0) {
            omp_h.omp_set_num_threads(threads);
            t[0] = threads;
        }
        return t[0];
    }

    /** Makes the calling thread's OpenMP teams {@code n} wide (1 to {@code threads}) from now on. */
    void useOnCurrentThread(int n) {
        if (n < 1 || n > threads) {
            throw new LitException("OpenMP: a team of " + n + " threads; this backend has 1 to " + threads);
        }
        int[] t = team.get();
        if (t[0] != n) {
            omp_h.omp_set_num_threads(n);
            t[0] = n;
        }
    }

    /** What OpenMP reports for the calling thread (after {@link #configureCurrentThread}). */
    int maxThreads() {
        configureCurrentThread();
        return omp_h.omp_get_max_threads();
    }

    /**
     * Ends the calling thread's OpenMP team, so its workers no longer count against the CPUs; the
     * thread's next primitive starts a new one (its thread count setting stays). Must not be called
     * from inside a primitive.
     */
    void releaseCurrentThread() {
        int rc;
        try {
            rc = (int) Pause.HANDLE.invokeExact(OMP_PAUSE_SOFT);
        } catch (Throwable t) {
            throw new LitException("OpenMP: omp_pause_resource_all failed: " + t, t);
        }
        if (rc != 0) {
            throw new LitException("OpenMP: omp_pause_resource_all(omp_pause_soft) returned " + rc + " (called inside a parallel region?)");
        }
    }

    /**
     * The one OpenMP call the generated bindings lack: {@code int omp_pause_resource_all(omp_pause_resource_t)}.
     * jextract, which made {@code omp_h}, is not available where this was written, so this downcall
     * is declared by hand (the same lookup the generated code uses: the libraries {@link DnnlLibrary}
     * loaded, then the process's); regenerating the bindings with it in {@code bindings/symbols/omp.symbols}
     * would replace it. Resolved on first use, after {@link DnnlLibrary#load}.
     */
    private static final class Pause {
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(
                SymbolLookup.loaderLookup().or(Linker.nativeLinker().defaultLookup()).findOrThrow("omp_pause_resource_all"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }
}
