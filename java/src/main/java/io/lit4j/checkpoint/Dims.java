package io.lit4j.checkpoint;

import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.model.TwoTowerConfig;

import java.util.Arrays;

/**
 * Shapes read for config inference, checked: an array must have the rank its layout names, and a
 * size taken from it must fit a config ({@code 1..}{@link TwoTowerConfig#MAX_DIM}); otherwise the
 * error names the file, the key and the layout expected.
 */
final class Dims {
    private final ArraySource src;
    private final String key;
    private final long[] shape;
    private final String layout;

    private Dims(ArraySource src, String key, long[] shape, String layout) {
        this.src = src;
        this.key = key;
        this.shape = shape;
        this.layout = layout;
    }

    /** The shape of {@code key}, which must have as many dimensions as {@code layout} names ("[P, P, C, D]"). */
    static Dims of(ArraySource src, String key, String layout) {
        long[] s = src.info(key).shape();
        int rank = layout.equals("[]") ? 0 : layout.split(",").length;
        if (s.length != rank) {
            throw new CheckpointException(src.file(), key, "expected a rank-" + rank + " array " + layout + ", got shape "
                    + Arrays.toString(s));
        }
        return new Dims(src, key, s, layout);
    }

    /** Dimension {@code i} as a size a config can hold. */
    int size(int i) {
        long d = shape[i];
        if (d < 1 || d > TwoTowerConfig.MAX_DIM) {
            throw new CheckpointException(src.file(), key, "dimension " + i + " of " + layout + " is " + d
                    + ", expected 1 to " + TwoTowerConfig.MAX_DIM);
        }
        return (int) d;
    }
}
