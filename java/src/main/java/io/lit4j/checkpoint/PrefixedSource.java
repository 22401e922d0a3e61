package io.lit4j.checkpoint;

import io.lit4j.io.ArrayInfo;
import io.lit4j.io.ArraySource;
import io.lit4j.io.HostArray;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A checkpoint's arrays under one key prefix, seen without it: big_vision's published SigLIP
 * files keep their parameters under {@code params/} ({@code params/img/...}), where LiT files
 * start at {@code img/}. Keys outside the prefix keep their names, so the loader still reports
 * them as unused.
 */
final class PrefixedSource implements ArraySource {
    private final ArraySource src;
    private final String prefix;
    private final List<String> keys;
    private final Set<String> names;

    private PrefixedSource(ArraySource src, String prefix) {
        this.src = src;
        this.prefix = prefix;
        this.keys = src.keys().stream().map(k -> k.startsWith(prefix) ? k.substring(prefix.length()) : k).toList();
        this.names = new HashSet<>(keys);
    }

    /**
     * {@code src} seen without {@code prefix} when some key has it and no key would then clash
     * with another; otherwise {@code src} itself. The view does not own {@code src}.
     */
    static ArraySource strip(ArraySource src, String prefix) {
        List<String> all = src.keys();
        if (all.stream().noneMatch(k -> k.startsWith(prefix))) {
            return src;
        }
        for (String k : all) {
            if (k.startsWith(prefix) && src.contains(k.substring(prefix.length()))) {
                return src; // both "params/x" and "x": leave it to the unused-key check to name them
            }
        }
        return new PrefixedSource(src, prefix);
    }

    private String real(String key) {
        return src.contains(prefix + key) ? prefix + key : key;
    }

    @Override
    public Path file() {
        return src.file();
    }

    @Override
    public List<String> keys() {
        return keys;
    }

    @Override
    public boolean contains(String key) {
        return names.contains(key);
    }

    @Override
    public ArrayInfo info(String key) {
        ArrayInfo i = src.info(real(key));
        return new ArrayInfo(key, i.dtype(), i.shape());
    }

    @Override
    public float[] readFloats(String key) {
        return src.readFloats(real(key));
    }

    @Override
    public HostArray readInPlace(String key) {
        return src.readInPlace(real(key));
    }

    /** The view does not own the file: the caller closes the source it wrapped. */
    @Override
    public void close() {
    }
}
