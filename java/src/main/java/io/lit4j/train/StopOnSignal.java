package io.lit4j.train;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGINT and SIGTERM ask a training loop to stop at the next step: the JVM's shutdown waits (up to
 * two minutes) until the loop, having saved its checkpoint, closes this. SIGKILL cannot be caught;
 * the last checkpoint is what a resume starts from then.
 */
final class StopOnSignal implements AutoCloseable {
    private final AtomicBoolean requested = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread hook;

    StopOnSignal(String name) {
        this.hook = new Thread(() -> {
            requested.set(true);
            try {
                done.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether a signal asked the loop to stop. */
    boolean requested() {
        return requested.get();
    }

    /** The loop has saved: a shutdown in progress may proceed. */
    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already shutting down (SIGINT/SIGTERM): the hook is running
        }
    }
}
