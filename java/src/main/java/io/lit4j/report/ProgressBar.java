package io.lit4j.report;

import io.lit4j.LitException;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A progress line for long work on the terminal: embedding a data set, training steps.
 *
 * <pre>
 * tune  [#########...........]  45%  450/1000  00:12&lt;00:15  loss 2.31  t 10.4
 * </pre>
 *
 * <p>On a terminal the line is redrawn in place with a carriage return, at most ten times a second.
 * Anywhere else (CI logs, a pipe, a file) it prints a plain line each time another tenth of the work
 * is done, or every 30 seconds when the total is unknown, so logs stay short. {@link #close()}
 * prints the final line with the elapsed time. With an unknown total ({@code total ≤ 0}) the line
 * shows the count and the rate instead of a bar.
 *
 * <p>Thread-safe: worker threads may call {@link #step(long)} at once; the count stays exact and
 * drawing never blocks a worker for long. {@link #silent()} gives one that prints nothing.
 */
public final class ProgressBar implements AutoCloseable {
    private static final int BAR = 20;
    private static final long REDRAW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier clock;
    private final long start;
    private final int maxWidth;
    private final AtomicLong done = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private volatile String message = "";
    private volatile long nextDraw;
    private volatile long nextLog;
    private volatile boolean closed;
    // guarded by lock
    private int printedTenths;
    private int lastLength;
    private long printedDone = -1;
    private String printedMessage = "";
    private long end = -1;

    /**
     * Writes to {@code out}, redrawing in place when it is the console's standard output or error
     * and that is a terminal; prints plain lines otherwise.
     */
    public ProgressBar(String label, long total, PrintStream out) {
        this(label, total, out, isTerminal(out));
    }

    /** {@code terminal}: redraw in place with carriage returns, rather than print plain log lines. */
    public ProgressBar(String label, long total, PrintStream out, boolean terminal) {
        this(label, total, requireOut(out), terminal, System::nanoTime);
    }

    /** A bar on standard error, which keeps standard output clean for results. */
    public ProgressBar(String label, long total) {
        this(label, total, System.err);
    }

    ProgressBar(String label, long total, PrintStream out, boolean terminal, LongSupplier clock) {
        this.label = label == null ? "" : label.replace('\n', ' ').replace('\r', ' ').strip();
        this.total = Math.max(0, total);
        this.out = out;
        this.terminal = terminal;
        this.clock = clock;
        this.start = clock.getAsLong();
        this.nextLog = start + LOG_EVERY_NANOS;
        this.nextDraw = start;
        this.maxWidth = columns();
        if (out != null && terminal) {
            lock.lock();
            try {
                draw(false);
            } finally {
                lock.unlock();
            }
        }
    }

    /** A bar that counts but never prints, for library callers that want no output. */
    public static ProgressBar silent() {
        return new ProgressBar("", 0, null, false, System::nanoTime);
    }

    private static PrintStream requireOut(PrintStream out) {
        if (out == null) {
            throw new LitException("progress bar: no output stream; use ProgressBar.silent() for none");
        }
        return out;
    }

    private static boolean isTerminal(PrintStream out) {
        if (out != System.out && out != System.err) {
            return false;
        }
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    private static int columns() {
        try {
            String c = System.getenv("COLUMNS");
            if (c != null) {
                return Math.max(20, Integer.parseInt(c.strip()));
            }
        } catch (NumberFormatException | SecurityException ignored) {
            // fall through to the default
        }
        return 120;
    }

    /** Counts {@code n} more units of work done. */
    public void step(long n) {
        if (n < 0) {
            throw new LitException("progress bar '" + label + "': step(" + n + ") is negative; use set() to go back");
        }
        long after = done.addAndGet(n);
        progressed(after - n, after);
    }

    /** Adds one unit of work. */
    public void step() {
        step(1);
    }

    /** Sets the amount of work done so far. */
    public void set(long doneSoFar) {
        long before = done.getAndSet(Math.max(0, doneSoFar));
        progressed(before, Math.max(0, doneSoFar));
    }

    /** A short status shown on the right, e.g. {@code "loss 2.31  t 10.4  812 pairs/s"}. */
    public void message(String text) {
        message = text == null ? "" : text.replace('\n', ' ').replace('\r', ' ').strip();
        if (terminal) {
            progressed(done.get(), done.get());
        }
    }

    /**
     * Prints a line of its own above the bar (an evaluation result during training, say): on a
     * terminal the bar is wiped, the line printed and the bar redrawn under it.
     */
    public void println(String text) {
        if (out == null) {
            return;
        }
        lock.lock();
        try {
            if (terminal && !closed) {
                out.print("\r" + " ".repeat(lastLength) + "\r");
                out.println(text);
                lastLength = 0;
                draw(false);
            } else {
                out.println(text);
                out.flush();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Work done so far. */
    public long done() {
        return done.get();
    }

    public long total() {
        return total;
    }

    private void progressed(long before, long after) {
        if (out == null || closed) {
            return;
        }
        long now = clock.getAsLong();
        if (terminal) {
            boolean finished = total > 0 && after >= total && before < total;
            if ((now - nextDraw >= 0 || finished) && lock.tryLock()) {
                try {
                    if (!closed) {
                        draw(false);
                        nextDraw = now + REDRAW_NANOS;
                    }
                } finally {
                    lock.unlock();
                }
            }
            return;
        }
        if (total > 0) {
            if (tenths(after) > tenths(before)) {
                lock.lock();
                try {
                    // the line shows the count its tenth was decided on: another thread may be stepping meanwhile
                    long d = done.get();
                    int t = tenths(d);
                    if (!closed && t > printedTenths) {
                        printedTenths = t;
                        draw(false, d);
                    }
                } finally {
                    lock.unlock();
                }
            }
        } else if (now - nextLog >= 0) {
            lock.lock();
            try {
                if (!closed && now - nextLog >= 0) {
                    nextLog = now + LOG_EVERY_NANOS;
                    draw(false);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private int tenths(long d) {
        return (int) Math.min(10, Math.max(0, Math.floor(d * 10.0 / total)));
    }

    /** Prints the final line with the elapsed time and ends it with a newline. Idempotent. */
    @Override
    public void close() {
        if (out == null) {
            closed = true;
            return;
        }
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            end = clock.getAsLong();
            boolean same = printedDone == done.get() && printedMessage.equals(message);
            if (terminal || !same) {
                draw(true);
            }
            if (terminal) {
                out.println();
            }
            out.flush();
        } finally {
            lock.unlock();
        }
    }

    /** Caller holds the lock. */
    private void draw(boolean last) {
        draw(last, done.get());
    }

    private void draw(boolean last, long d) {
        String msg = message;
        String line = line(d, msg, last);
        printedDone = d;
        printedMessage = msg;
        if (terminal) {
            if (line.length() > maxWidth - 1) {
                line = line.substring(0, maxWidth - 1);   // a wrapped line would break the redraw
            }
            int pad = Math.max(0, lastLength - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastLength = line.length();
            out.flush();
        } else {
            out.println(line);
            out.flush();
        }
    }

    /** The progress line for the given state (package-private for tests). */
    String line(long d, String msg, boolean last) {
        long now = end >= 0 ? end : clock.getAsLong();
        double elapsed = Math.max(0, (now - start) / 1e9);
        StringBuilder sb = new StringBuilder();
        if (!label.isEmpty()) {
            sb.append(label).append("  ");
        }
        if (total > 0) {
            long shown = Math.min(d, total);
            int filled = (int) Math.min(BAR, shown * BAR / total);
            int pct = (int) Math.min(100, shown * 100 / total);
            sb.append('[').append("#".repeat(filled)).append(".".repeat(BAR - filled)).append(']');
            sb.append(String.format(Locale.ROOT, " %4s", pct + "%"));
            sb.append("  ").append(d).append('/').append(total);
            sb.append("  ").append(clock(elapsed));
            if (!last) {
                sb.append('<');
                if (d >= total) {
                    sb.append(clock(0));
                } else if (d == 0 || elapsed <= 0) {
                    sb.append("--:--");
                } else {
                    sb.append(clock(elapsed * (total - d) / d));
                }
            }
        } else {
            sb.append(d).append("  ").append(clock(elapsed));
            if (elapsed > 0 && d > 0) {
                double rate = d / elapsed;
                sb.append("  ").append(String.format(Locale.ROOT, rate >= 100 ? "%.0f/s" : "%.1f/s", rate));
            }
        }
        if (!msg.isEmpty()) {
            sb.append("  ").append(msg);
        }
        return sb.toString();
    }

    /** mm:ss, or h:mm:ss from an hour on. */
    static String clock(double seconds) {
        long s = Math.round(Math.max(0, seconds));
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
