package io.lit4j.io;

import io.lit4j.LitException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A small, fixed PNG encoder (8-bit RGB or grayscale, no ancillary chunks, no interlace), so that
 * the same pixels always give the same bytes: no timestamps, no gamma or text chunks that an
 * ImageIO version might add, one deflate level, and a filter chosen per row by a fixed rule.
 */
public final class Png {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    private static final int LEVEL = 9;

    private Png() {
    }

    /** Encodes packed {@code 0xRRGGBB} pixels (row-major, alpha ignored) as an 8-bit RGB PNG. */
    public static byte[] encodeRgb(int width, int height, int[] rgb) {
        checkSize(width, height, rgb.length);
        byte[] raw = new byte[width * height * 3];
        for (int i = 0, o = 0; i < rgb.length; i++) {
            int p = rgb[i];
            raw[o++] = (byte) (p >>> 16);
            raw[o++] = (byte) (p >>> 8);
            raw[o++] = (byte) p;
        }
        return encode(width, height, raw, 3, 2);
    }

    /** Encodes 8-bit gray pixels (row-major) as an 8-bit grayscale PNG. */
    public static byte[] encodeGray(int width, int height, byte[] gray) {
        checkSize(width, height, gray.length);
        return encode(width, height, gray, 1, 0);
    }

    private static void checkSize(int width, int height, int length) {
        if (width <= 0 || height <= 0 || (long) width * height * 3 > Integer.MAX_VALUE - 1024) {
            throw new LitException("PNG size " + width + "x" + height + " is out of range");
        }
        if (length != width * height) {
            throw new LitException("PNG " + width + "x" + height + " needs " + (width * height)
                    + " pixels, got " + length);
        }
    }

    private static byte[] encode(int width, int height, byte[] raw, int bpp, int colourType) {
        int stride = width * bpp;
        byte[] filtered = new byte[(stride + 1) * height];
        byte[] cand = new byte[stride];
        byte[] best = new byte[stride];
        for (int y = 0; y < height; y++) {
            int row = y * stride;
            int prev = row - stride;
            long bestCost = Long.MAX_VALUE;
            int bestType = 0;
            for (int type = 0; type <= 4; type++) {
                long cost = 0;
                for (int x = 0; x < stride; x++) {
                    int a = x >= bpp ? raw[row + x - bpp] & 0xFF : 0;
                    int b = y > 0 ? raw[prev + x] & 0xFF : 0;
                    int c = (x >= bpp && y > 0) ? raw[prev + x - bpp] & 0xFF : 0;
                    int v = raw[row + x] & 0xFF;
                    int f = switch (type) {
                        case 0 -> v;
                        case 1 -> v - a;
                        case 2 -> v - b;
                        case 3 -> v - ((a + b) >>> 1);
                        default -> v - paeth(a, b, c);
                    };
                    cand[x] = (byte) f;
                    cost += Math.abs((int) (byte) f);
                }
                if (cost < bestCost) {
                    bestCost = cost;
                    bestType = type;
                    System.arraycopy(cand, 0, best, 0, stride);
                }
            }
            filtered[y * (stride + 1)] = (byte) bestType;
            System.arraycopy(best, 0, filtered, y * (stride + 1) + 1, stride);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(filtered.length / 2 + 128);
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, width);
        putInt(ihdr, 4, height);
        ihdr[8] = 8;
        ihdr[9] = (byte) colourType;
        // compression 0, filter 0, interlace 0
        chunk(out, "IHDR", ihdr);
        Deflater deflater = new Deflater(LEVEL);
        try {
            deflater.setInput(filtered);
            deflater.finish();
            ByteArrayOutputStream z = new ByteArrayOutputStream(filtered.length / 2 + 64);
            byte[] buf = new byte[8192];
            while (!deflater.finished()) {
                int n = deflater.deflate(buf);
                z.write(buf, 0, n);
            }
            chunk(out, "IDAT", z.toByteArray());
        } finally {
            deflater.end();
        }
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        if (pa <= pb && pa <= pc) {
            return a;
        }
        return pb <= pc ? b : c;
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] head = new byte[8];
        putInt(head, 0, data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, head, 4, 4);
        out.writeBytes(head);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] c = new byte[4];
        putInt(c, 0, (int) crc.getValue());
        out.writeBytes(c);
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}
