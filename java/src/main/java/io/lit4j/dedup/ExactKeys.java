package io.lit4j.dedup;

import io.lit4j.LitException;
import io.lit4j.data.Images;
import io.lit4j.io.Digests;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Keys under which exact duplicates collide: the decoded pixels (so a PNG and a lossless
 * re-encoding of it are one image, whatever the file bytes), and the caption text after
 * {@link #normaliseCaption normalisation} (so "A cat." and "a  cat" are one caption). Keys are
 * SHA-256 prefixes, 32 hex digits: long enough that a collision between different inputs is not
 * a practical concern at corpus sizes.
 */
public final class ExactKeys {
    private ExactKeys() {
    }

    /**
     * Key of an image's decoded pixels: its size and every RGB value as lit4j reads them
     * ({@link Images#storedRgb}; alpha is not part of it, as the towers do not see it either).
     */
    public static String pixels(BufferedImage image) {
        return pixels(Images.storedRgb(image), image.getWidth(), image.getHeight());
    }

    /** As {@link #pixels(BufferedImage)}, of packed pixels, row-major. */
    public static String pixels(int[] argb, int width, int height) {
        if (argb.length != (long) width * height) {
            throw new LitException("pixel key: " + argb.length + " pixels are not " + width + "x" + height);
        }
        MessageDigest md = Digests.sha256();
        ByteBuffer b = ByteBuffer.allocate(4 * Math.min(argb.length, 4096) + 8);
        b.putInt(width).putInt(height);
        for (int p : argb) {
            if (!b.hasRemaining()) {
                md.update(b.array(), 0, b.position());
                b.clear();
            }
            b.putInt(p);
        }
        md.update(b.array(), 0, b.position());
        return HexFormat.of().formatHex(md.digest(), 0, 16);
    }

    /**
     * A caption as exact-duplicate detection compares it: Unicode NFKC, lower case (root locale),
     * every run of characters that are not letters or digits one space, trimmed. Null is "".
     */
    public static String normaliseCaption(String caption) {
        if (caption == null) {
            return "";
        }
        String s = Normalizer.normalize(caption, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        return s.replaceAll("[^\\p{L}\\p{N}]+", " ").trim();
    }

    /** Key of a caption after {@link #normaliseCaption}; null for a caption that normalises to nothing (it matches nothing). */
    public static String caption(String caption) {
        String n = normaliseCaption(caption);
        if (n.isEmpty()) {
            return null;
        }
        return HexFormat.of().formatHex(Digests.sha256().digest(n.getBytes(StandardCharsets.UTF_8)), 0, 16);
    }

}
