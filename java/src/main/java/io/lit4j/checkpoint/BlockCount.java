package io.lit4j.checkpoint;

import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.model.TwoTowerConfig;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How many numbered blocks a checkpoint holds, from keys like {@code prefix + i + separator + rest}. */
final class BlockCount {
    private BlockCount() {
    }

    /**
     * One more than the largest block number among the keys (block numbers start at 0); 0 when no
     * key matches. A number past {@link TwoTowerConfig#MAX_DEPTH} is an error naming its key.
     */
    static int of(ArraySource src, String prefix, String separator) {
        Pattern p = Pattern.compile(Pattern.quote(prefix) + "(\\d+)" + Pattern.quote(separator) + ".*");
        int max = -1;
        for (String k : src.keys()) {
            Matcher m = p.matcher(k);
            if (m.matches()) {
                String digits = m.group(1);
                int i = digits.length() > 6 ? Integer.MAX_VALUE : Integer.parseInt(digits);
                if (i >= TwoTowerConfig.MAX_DEPTH) {
                    throw new CheckpointException(src.file(), k, "block number " + digits + " is past lit4j's limit of "
                            + TwoTowerConfig.MAX_DEPTH + " blocks per tower");
                }
                max = Math.max(max, i);
            }
        }
        return max + 1;
    }

    /** {@link #of} for a tower's encoder blocks ({@code blocks + i + "."}), which must number at least one. */
    static int encoderLayers(ArraySource src, String blocks) {
        int n = of(src, blocks, ".");
        if (n == 0) {
            throw new CheckpointException(src.file(), "no encoder layers (" + blocks + "0...)");
        }
        return n;
    }
}
