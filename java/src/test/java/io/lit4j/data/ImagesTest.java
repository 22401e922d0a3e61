package io.lit4j.data;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagesTest {

    // ------------------------------------------------------------------ reference resampler

    /** Slow, obvious reference: full-size resize by direct 2D weighted sums in double, then crop. */
    static double[] reference(int[] argb, int w, int h, Preprocess pp) {
        int s = pp.size();
        int rw;
        int rh;
        if (pp.resize() == Preprocess.Resize.SQUASH) {
            rw = s;
            rh = s;
        } else if (w <= h) {
            rw = s;
            rh = (int) Math.floor((double) s * h / w + 1e-9);
        } else {
            rh = s;
            rw = (int) Math.floor((double) s * w / h + 1e-9);
        }
        double sx = (double) w / rw;
        double sy = (double) h / rh;
        double fx = Math.max(1, sx);
        double fy = Math.max(1, sy);
        double[] full = new double[rw * rh * 3];
        for (int j = 0; j < rh; j++) {
            double cy = (j + 0.5) * sy;
            for (int i = 0; i < rw; i++) {
                double cx = (i + 0.5) * sx;
                double[] acc = new double[3];
                double norm = 0;
                for (int y = 0; y < h; y++) {
                    double wy = tri((y + 0.5 - cy) / fy);
                    if (wy == 0) {
                        continue;
                    }
                    for (int x = 0; x < w; x++) {
                        double wgt = wy * tri((x + 0.5 - cx) / fx);
                        int p = argb[y * w + x];
                        acc[0] += wgt * ((p >> 16) & 0xFF);
                        acc[1] += wgt * ((p >> 8) & 0xFF);
                        acc[2] += wgt * (p & 0xFF);
                        norm += wgt;
                    }
                }
                for (int c = 0; c < 3; c++) {
                    full[(j * rw + i) * 3 + c] = acc[c] / norm;
                }
            }
        }
        int ox = (rw - s) / 2;
        int oy = (rh - s) / 2;
        double[] out = new double[s * s * 3];
        float[] mean = pp.mean();
        float[] std = pp.std();
        for (int j = 0; j < s; j++) {
            for (int i = 0; i < s; i++) {
                for (int c = 0; c < 3; c++) {
                    double v = full[((j + oy) * rw + i + ox) * 3 + c];
                    out[(j * s + i) * 3 + c] = pp.values() == Preprocess.Values.MINUS_ONE_TO_ONE
                            ? v / 127.5 - 1 : (v / 255.0 - mean[c]) / std[c];
                }
            }
        }
        return out;
    }

    private static double tri(double t) {
        double a = Math.abs(t);
        return a < 1 ? 1 - a : 0;
    }

    static int[] argbOf(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    static void assertMatches(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                throw new AssertionError(what + ": element " + i + " (pixel " + (i / 3) + ", channel " + (i % 3)
                        + ") = " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    @Test
    void resampleMatchesReferenceOnOddSizesInBothModes() {
        int[][] sizes = {{37, 23}, {23, 37}, {5, 9}, {16, 16}, {1, 40}, {97, 3}, {16, 17}};
        Preprocess[] pps = {
            Preprocess.bigVision(16),
            new Preprocess(16, Preprocess.Resize.CENTER_CROP, Preprocess.Values.MINUS_ONE_TO_ONE, null, null),
            Preprocess.meanStd(16, Preprocess.Resize.SQUASH, Preprocess.IMAGENET_MEAN, Preprocess.IMAGENET_STD),
            Preprocess.clip(16).withFilter(Preprocess.Filter.TRIANGLE), // the reference here is the triangle's (bicubic: BicubicResizeTest)
            Preprocess.bigVision(7),
        };
        for (int[] wh : sizes) {
            BufferedImage img = Fixtures.pattern(wh[0], wh[1], wh[0] * 31 + wh[1]);
            int[] argb = argbOf(img);
            for (Preprocess pp : pps) {
                float[] got = Images.toNhwc(img, pp);
                assertMatches(reference(argb, wh[0], wh[1], pp), got, 2e-5,
                        wh[0] + "x" + wh[1] + " " + pp.describe());
                assertArrayEquals(got, Images.fromRaw(argb, wh[0], wh[1], pp), "fromRaw == toNhwc");
            }
        }
    }

    @Test
    void bilinearUpscaleHasKnownValuesAndIdentityIsExact() {
        // 2x2 image, columns 0 and 255: upscaled to 4 wide, centres at 0.25, 0.75, 1.25, 1.75
        int[] argb = {0x000000, 0xFFFFFF, 0x000000, 0xFFFFFF};
        float[] out = Images.fromRaw(argb, 2, 2, Preprocess.bigVision(4));
        float[] row = {out[0], out[3], out[6], out[9]};
        assertArrayEquals(new float[] {-1f, -0.5f, 0.5f, 1f}, row, 1e-6f);

        BufferedImage img = Fixtures.pattern(11, 11, 3);
        float[] id = Images.toNhwc(img, Preprocess.bigVision(11));
        int[] px = argbOf(img);
        for (int i = 0; i < px.length; i++) {
            assertEquals((float) (((px[i] >> 16) & 0xFF) / 127.5 - 1), id[3 * i]);
            assertEquals((float) (((px[i] >> 8) & 0xFF) / 127.5 - 1), id[3 * i + 1]);
            assertEquals((float) ((px[i] & 0xFF) / 127.5 - 1), id[3 * i + 2]);
        }
    }

    @Test
    void downscaleAntialiases() {
        // a 1-pixel checkerboard averaged down by 8 must be flat grey, not aliased stripes
        int n = 64;
        int[] argb = new int[n * n];
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                argb[y * n + x] = ((x + y) & 1) == 0 ? 0xFFFFFF : 0;
            }
        }
        float[] out = Images.fromRaw(argb, n, n, Preprocess.bigVision(8));
        for (float v : out) {
            assertEquals(0f, v, 0.02f);
        }
    }

    @Test
    void centerCropKeepsTheMiddle() {
        // 30x10: left third red, middle blue, right third green; crop to 10 keeps blue only
        int[] argb = new int[30 * 10];
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 30; x++) {
                argb[y * 30 + x] = x < 10 ? 0xFF0000 : x < 20 ? 0x0000FF : 0x00FF00;
            }
        }
        Preprocess pp = new Preprocess(10, Preprocess.Resize.CENTER_CROP, Preprocess.Values.MINUS_ONE_TO_ONE, null, null);
        float[] out = Images.fromRaw(argb, 30, 10, pp);
        for (int i = 0; i < 100; i++) {
            assertEquals(-1f, out[3 * i]);
            assertEquals(-1f, out[3 * i + 1]);
            assertEquals(1f, out[3 * i + 2]);
        }
    }

    @Test
    void describeIsCanonicalAndDistinguishesSettings() {
        assertEquals("size=224 resize=squash sample=tri-aa-v1 channels=rgb values=-1..1", Preprocess.bigVision(224).describe());
        assertEquals(Preprocess.clip(224).describe(), Preprocess.clip(224).describe());
        assertEquals(Preprocess.clip(224), Preprocess.meanStd(224, Preprocess.Resize.CENTER_CROP,
                Preprocess.CLIP_MEAN.clone(), Preprocess.CLIP_STD.clone()).withFilter(Preprocess.Filter.BICUBIC));
        assertTrue(Preprocess.clip(224).describe().contains("mean=" + Preprocess.CLIP_MEAN[0] + ","),
                Preprocess.clip(224).describe());
        assertNotEquals(Preprocess.bigVision(224).describe(), Preprocess.bigVision(256).describe());
        assertNotEquals(Preprocess.clip(224).describe(),
                Preprocess.meanStd(224, Preprocess.Resize.SQUASH, Preprocess.CLIP_MEAN, Preprocess.CLIP_STD).describe());
        assertThrows(LitException.class, () -> new Preprocess(0, Preprocess.Resize.SQUASH, Preprocess.Values.MINUS_ONE_TO_ONE, null, null));
        assertThrows(LitException.class, () -> Preprocess.meanStd(8, Preprocess.Resize.SQUASH, new float[] {0.5f}, new float[] {1, 1, 1}));
        assertThrows(LitException.class, () -> Preprocess.meanStd(8, Preprocess.Resize.SQUASH, new float[3], new float[] {1, 0, 1}));
    }

    // ------------------------------------------------------------------ decoding

    @Test
    void pngRoundTripsExactlyIncludingGrayAlphaAnd16Bit() {
        BufferedImage rgb = Fixtures.pattern(9, 7, 1);
        Preprocess id = Preprocess.bigVision(9);
        BufferedImage dec = Images.decode(Fixtures.png(rgb), "rgb.png");
        assertArrayEquals(argbOf(rgb), argbOf(dec));

        // grayscale: replicated, no gamma conversion
        BufferedImage gray = new BufferedImage(9, 9, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(4, 4, 0, 100);
        float[] g = Images.pixels(Fixtures.png(gray), "gray.png", id);
        int centre = (4 * 9 + 4) * 3;
        float expected = (float) (100 / 127.5 - 1);
        assertEquals(expected, g[centre]);
        assertEquals(expected, g[centre + 1]);
        assertEquals(expected, g[centre + 2]);
        assertEquals(-1f, g[0]);

        // 16-bit gray rounds to 8 bits
        BufferedImage g16 = new BufferedImage(9, 9, BufferedImage.TYPE_USHORT_GRAY);
        WritableRaster r16 = g16.getRaster();
        r16.setSample(0, 0, 0, 0x8080);
        float[] p16 = Images.pixels(Fixtures.png(g16), "g16.png", id);
        assertEquals((float) (128 / 127.5 - 1), p16[0]);

        // alpha dropped, not composited
        BufferedImage argb = new BufferedImage(9, 9, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x000A141E); // fully transparent (10, 20, 30)
        float[] pa = Images.pixels(Fixtures.png(argb), "a.png", id);
        assertEquals((float) (10 / 127.5 - 1), pa[0]);
        assertEquals((float) (20 / 127.5 - 1), pa[1]);
        assertEquals((float) (30 / 127.5 - 1), pa[2]);
    }

    @Test
    void bmpGifAndJpegDecode() {
        BufferedImage img = Fixtures.pattern(20, 12, 2);
        assertArrayEquals(argbOf(img), argbOf(Images.decode(Fixtures.encode(img, "bmp"), "x.bmp")));
        BufferedImage two = Fixtures.solid(6, 5, 0x336699);
        assertArrayEquals(argbOf(two), argbOf(Images.decode(Fixtures.encode(two, "gif"), "x.gif")));

        // JPEG: lossy, so compare a smooth image within a tolerance
        BufferedImage smooth = new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 32; x++) {
                smooth.setRGB(x, y, ((x * 8) << 16) | ((y * 10) << 8) | 128);
            }
        }
        byte[] jpg = Fixtures.jpeg(smooth, 0.98f);
        assertEquals("jpeg", Images.sniff(jpg));
        assertEquals(new Images.Header("jpeg", 32, 24), Images.probe(jpg, "s.jpg"));
        int[] a = argbOf(smooth);
        int[] b = argbOf(Images.decode(jpg, "s.jpg"));
        for (int i = 0; i < a.length; i++) {
            for (int sh = 0; sh <= 16; sh += 8) {
                assertEquals((a[i] >> sh) & 0xFF, (b[i] >> sh) & 0xFF, 10, "pixel " + i);
            }
        }
        // gray JPEG decodes to three equal channels
        BufferedImage gray = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        float[] gp = Images.pixels(Fixtures.jpeg(gray, 0.9f), "g.jpg", Preprocess.bigVision(4));
        for (int i = 0; i < gp.length; i += 3) {
            assertEquals(gp[i], gp[i + 1]);
            assertEquals(gp[i], gp[i + 2]);
        }
    }

    private static String errorOf(byte[] bytes, String name) {
        LitException e = assertThrows(LitException.class, () -> Images.decode(bytes, name));
        assertTrue(e.getMessage().startsWith(name + ": "), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void badFilesGiveClearErrors() {
        assertTrue(errorOf(new byte[0], "empty.png").contains("not an image"));
        assertTrue(errorOf("hello, world: definitely text".getBytes(StandardCharsets.UTF_8), "notes.png").contains("not an image"));
        byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);
        String w = errorOf(webp, "x.webp");
        assertTrue(w.contains("unsupported format") && w.contains("WebP"), w);

        byte[] png = Fixtures.png(Fixtures.pattern(64, 64, 9));
        String t = errorOf(Arrays.copyOf(png, png.length * 2 / 3), "cut.png");
        assertTrue(t.contains("truncated"), t);
        String hdr = errorOf(Arrays.copyOf(png, 20), "hdr.png");
        assertTrue(hdr.contains("truncated") || hdr.contains("corrupt"), hdr);

        byte[] jpg = Fixtures.jpeg(Fixtures.pattern(64, 64, 9), 0.9f);
        String tj = errorOf(Arrays.copyOf(jpg, jpg.length / 2), "cut.jpg");
        assertTrue(tj.contains("truncated"), tj);

        // PNG signature followed by garbage
        byte[] junk = Arrays.copyOf(png, 200);
        for (int i = 40; i < junk.length; i++) {
            junk[i] = (byte) (i * 7);
        }
        errorOf(junk, "junk.png");
    }

    /** A PNG header claiming the given size, with valid CRCs, and no pixel data. */
    static byte[] pngHeader(int w, int h) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        byte[] ihdr = new byte[17];
        System.arraycopy("IHDR".getBytes(StandardCharsets.US_ASCII), 0, ihdr, 0, 4);
        putInt(ihdr, 4, w);
        putInt(ihdr, 8, h);
        ihdr[12] = 8; // bit depth
        ihdr[13] = 2; // RGB
        byte[] len = new byte[4];
        putInt(len, 0, 13);
        out.writeBytes(len);
        out.writeBytes(ihdr);
        CRC32 crc = new CRC32();
        crc.update(ihdr);
        byte[] c = new byte[4];
        putInt(c, 0, (int) crc.getValue());
        out.writeBytes(c);
        return out.toByteArray();
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    @Test
    void hugeHeadersAreRefusedBeforeDecoding() {
        assertEquals(new Images.Header("png", 30_000, 10), Images.probe(pngHeader(30_000, 10), "wide.png"));
        String side = errorOf(pngHeader(30_000, 10), "wide.png");
        assertTrue(side.contains("too large") && side.contains("30000x10"), side);
        String mp = errorOf(pngHeader(15_000, 15_000), "big.png");
        assertTrue(mp.contains("too large") && mp.contains("225.0 MP"), mp);
    }

    @Test
    void rawInputIsChecked() {
        assertThrows(LitException.class, () -> Images.fromRaw(new int[5], 2, 2, Preprocess.bigVision(4)));
        float[] out = new float[10];
        assertThrows(LitException.class, () -> Images.fromRaw(new int[4], 2, 2, Preprocess.bigVision(4), out, 0));
    }
}
