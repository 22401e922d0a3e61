package io.lit4j.io;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What the two array-file readers share: the file, its arrays by key in file order (an entry
 * {@code E} each), and the error for a key the file lacks.
 */
abstract sealed class ArrayFile<E> implements ArraySource permits NpzReader, SafetensorsReader {
    private static final int KEYS_IN_MESSAGES = 8;

    protected final Path file;
    protected final Map<String, E> entries;

    ArrayFile(Path file, Map<String, E> entries) {
        this.file = file;
        this.entries = entries;
    }

    /** The array keys, in the order of the file. */
    @Override
    public List<String> keys() {
        return List.copyOf(entries.keySet());
    }

    @Override
    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    /** The path this reader was opened on. */
    @Override
    public Path file() {
        return file;
    }

    /** Throws if the reader cannot read any more (closed). */
    protected abstract void requireOpen();

    /** The entry of {@code key}; an error naming it and some of the keys the file has when there is none. */
    protected E entry(String key) {
        requireOpen();
        E e = entries.get(key);
        if (e == null) {
            throw new CheckpointException(file, key, "no such array; the file has " + entries.size() + " arrays"
                    + (entries.isEmpty() ? "" : ": " + quoted(keys())));
        }
        return e;
    }

    /** Up to {@value #KEYS_IN_MESSAGES} names, quoted, for messages. */
    static String quoted(List<String> names) {
        String s = names.stream().limit(KEYS_IN_MESSAGES).map(n -> "'" + n + "'").collect(Collectors.joining(", "));
        return names.size() > KEYS_IN_MESSAGES ? s + ", ..." : s;
    }
}
