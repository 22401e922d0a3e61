package io.lit4j.checkpoint;

import io.lit4j.io.ArraySource;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How many numbered blocks a checkpoint holds, from keys like {@code prefix + i + separator + rest}. */
final class BlockCount {
    private BlockCount() {
    }

    /** One more than the largest block number among the keys (block numbers start at 0); 0 when no key matches. */
    static int of(ArraySource src, String prefix, String separator) {
        Pattern p = Pattern.compile(Pattern.quote(prefix) + "(\\d+)" + Pattern.quote(separator) + ".*");
        int max = -1;
        for (String k : src.keys()) {
            Matcher m = p.matcher(k);
            if (m.matches()) {
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        return max + 1;
    }
}
