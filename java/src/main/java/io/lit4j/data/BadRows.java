package io.lit4j.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Rows left out of a dataset or a batch stream, counted by reason, with the first few examples
 * of each reason (file and line where there is one). Thread-safe.
 */
public final class BadRows {
    /** Why a row was left out. */
    public enum Reason {
        MALFORMED_LINE("malformed line"),
        UNSAFE_PATH("unsafe image path (absolute or with ..)"),
        MISSING_IMAGE("image file missing"),
        NO_CAPTION("no caption"),
        UNSUPPORTED_FORMAT("unsupported image format"),
        BAD_IMAGE("image could not be decoded"),
        CAPTION_TOO_LONG("caption longer than the context");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** Why an image failed, from the message of {@link Images#decode}'s error. */
        public static Reason forImage(String message) {
            return message != null && message.contains("unsupported format") ? UNSUPPORTED_FORMAT : BAD_IMAGE;
        }
    }

    /**
     * One example: {@code where} is the captions file or the image path, {@code line} the 1-based
     * line number in the captions file or -1, {@code detail} what was wrong.
     */
    public record Example(Reason reason, String where, int line, String detail) {
        @Override
        public String toString() {
            return where + (line > 0 ? ":" + line : "") + ": " + reason.label() + (detail.isEmpty() ? "" : " - " + detail);
        }
    }

    /** Examples kept per reason. */
    public static final int EXAMPLES_PER_REASON = 5;

    private final EnumMap<Reason, Long> counts = new EnumMap<>(Reason.class);
    private final List<Example> examples = new ArrayList<>();

    /** Counts one bad row; keeps it as an example while fewer than {@link #EXAMPLES_PER_REASON} are. */
    public synchronized void add(Reason reason, String where, int line, String detail) {
        long n = counts.merge(reason, 1L, Long::sum);
        if (n <= EXAMPLES_PER_REASON) {
            examples.add(new Example(reason, where, line, detail == null ? "" : detail));
        }
    }

    /** Adds every count and example of {@code other} to this report. */
    public void addAll(BadRows other) {
        if (other == this) {
            throw new IllegalArgumentException("cannot add a report to itself");
        }
        Map<Reason, Long> c;
        List<Example> e;
        synchronized (other) {
            c = new EnumMap<>(other.counts);
            e = new ArrayList<>(other.examples);
        }
        synchronized (this) {
            for (Example x : e) {
                if (examplesOf(x.reason()) < EXAMPLES_PER_REASON) {
                    examples.add(x);
                }
            }
            c.forEach((k, v) -> counts.merge(k, v, Long::sum));
        }
    }

    private long examplesOf(Reason r) {
        return examples.stream().filter(x -> x.reason() == r).count();
    }

    public synchronized long count(Reason reason) {
        return counts.getOrDefault(reason, 0L);
    }

    /** Counts of the reasons seen, in {@link Reason} order. */
    public synchronized Map<Reason, Long> counts() {
        return Collections.unmodifiableMap(new EnumMap<>(counts));
    }

    public synchronized long total() {
        long t = 0;
        for (long v : counts.values()) {
            t += v;
        }
        return t;
    }

    public synchronized boolean isEmpty() {
        return counts.isEmpty();
    }

    /** The kept examples, in the order they were added. */
    public synchronized List<Example> examples() {
        return List.copyOf(examples);
    }

    /** One line: {@code "3 bad rows: 2 image file missing, 1 no caption"}, or {@code "no bad rows"}. */
    public synchronized String summary() {
        if (counts.isEmpty()) {
            return "no bad rows";
        }
        StringBuilder sb = new StringBuilder().append(total()).append(total() == 1 ? " bad row: " : " bad rows: ");
        boolean first = true;
        for (Map.Entry<Reason, Long> e : counts.entrySet()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append(e.getValue()).append(' ').append(e.getKey().label());
        }
        return sb.toString();
    }

    /** The summary, then one example per line. */
    @Override
    public synchronized String toString() {
        StringBuilder sb = new StringBuilder(summary());
        for (Example e : examples) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
