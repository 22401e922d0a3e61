package io.lit4j.data;

import io.lit4j.LitException;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.MultiPixelPackedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Image decoding (PNG, JPEG, BMP, GIF, TIFF through the JDK's ImageIO) with the header checked
 * before any pixel is allocated, and conversion to model input under a {@link Preprocess}.
 *
 * <p>Colour handling: 8-bit values as stored in the file (embedded ICC profiles and EXIF
 * orientation are ignored, as PIL and {@code tf.io.decode_image} do); grayscale is replicated to
 * three channels without gamma conversion; alpha is dropped (not composited); 16-bit samples are
 * rounded to 8 bits. Animated GIFs give their first frame. Thread-safe: no shared state.
 */
public final class Images {
    /** Largest accepted width or height. */
    public static final int MAX_SIDE = 20_000;
    /** Largest accepted {@code width * height}. */
    public static final long MAX_PIXELS = 200_000_000L;
    /** Most bytes a decoded raster may take (further limited to a quarter of the heap). */
    public static final long MAX_RASTER_BYTES = 1L << 30;
    /**
     * Most raster bytes one byte of input may claim to hold (beyond a 1 MiB allowance): generous for
     * every real encoder (deflate peaks near 1032), far below what a lying header claims.
     */
    static final int MAX_EXPANSION = 4096;
    /** Most scans a JPEG may have (progressive encoders write about 10; each scan re-decodes the image). */
    static final int MAX_JPEG_SCANS = 64;

    private Images() {
    }

    /** What the header says, read without decoding pixels. */
    public record Header(String format, int width, int height) {
    }

    /**
     * The format by magic bytes: {@code png, jpeg, gif, bmp, tiff}, or null when none of those.
     */
    public static String sniff(byte[] b) {
        if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return "png";
        }
        if (startsWith(b, 0, 0xFF, 0xD8, 0xFF)) {
            return "jpeg";
        }
        if (startsWith(b, 0, 'G', 'I', 'F', '8', '7', 'a') || startsWith(b, 0, 'G', 'I', 'F', '8', '9', 'a')) {
            return "gif";
        }
        if (startsWith(b, 0, 'B', 'M') && b.length >= 26) {
            return "bmp";
        }
        if (startsWith(b, 0, 'I', 'I', 42, 0) || startsWith(b, 0, 'M', 'M', 0, 42)) {
            return "tiff";
        }
        return null;
    }

    /** Names formats that are images but not decodable here, for the error message; else null. */
    static String sniffUnsupported(byte[] b) {
        if (startsWith(b, 0, 'R', 'I', 'F', 'F') && startsWith(b, 8, 'W', 'E', 'B', 'P')) {
            return "WebP";
        }
        if (startsWith(b, 4, 'f', 't', 'y', 'p')) {
            String brand = b.length >= 12 ? new String(b, 8, 4, StandardCharsets.ISO_8859_1) : "";
            if (brand.startsWith("avi")) {
                return "AVIF";
            }
            if (brand.startsWith("hei") || brand.startsWith("mif") || brand.startsWith("hev")) {
                return "HEIC/HEIF";
            }
            return "ISO media (" + brand.trim() + ")";
        }
        if (startsWith(b, 0, 0xFF, 0x0A) || startsWith(b, 4, 'J', 'X', 'L', ' ')) {
            return "JPEG XL";
        }
        if (startsWith(b, 4, 'j', 'P', ' ', ' ')) {
            return "JPEG 2000";
        }
        if (startsWith(b, 0, '%', 'P', 'D', 'F')) {
            return "PDF";
        }
        String head = new String(b, 0, Math.min(b.length, 256), StandardCharsets.ISO_8859_1).stripLeading();
        if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.contains("<svg"))) {
            return "SVG";
        }
        if (startsWith(b, 0, 'P', '1') || startsWith(b, 0, 'P', '3') || startsWith(b, 0, 'P', '6')) {
            return "PNM";
        }
        return null;
    }

    private static boolean startsWith(byte[] b, int at, int... magic) {
        if (b.length < at + magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((b[at + i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /** Reads format and size from the header only (no size limits applied). */
    public static Header probe(byte[] bytes, String name) {
        return withReader(bytes, name, reader -> header(reader, bytes, name));
    }

    /**
     * Decodes an image. The header is validated first (size limits: {@link #MAX_SIDE} per side,
     * {@link #MAX_PIXELS} in all; the raster within its budget and within what the file's bytes can
     * hold; at most {@link #MAX_JPEG_SCANS} JPEG scans); every failure is a {@link LitException} naming {@code name} and
     * saying what is wrong: not an image, unsupported format, truncated, too large, corrupt.
     */
    public static BufferedImage decode(byte[] bytes, String name) {
        return withReader(bytes, name, reader -> {
            Header h = header(reader, bytes, name);
            checkLimits(h, name);
            checkRaster(reader, h, bytes.length, name);
            if (h.format().equals("jpeg")) {
                int scans = jpegScans(bytes);
                if (scans > MAX_JPEG_SCANS) {
                    throw new LitException(name + ": corrupt jpeg (" + scans + " scans; real encoders write at most a few dozen, lit4j "
                            + "decodes up to " + MAX_JPEG_SCANS + ")");
                }
            }
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            BufferedImage img = reader.read(0, reader.getDefaultReadParam());
            for (String w : warnings) {
                String lw = w.toLowerCase(Locale.ROOT);
                if (lw.contains("premature end") || lw.contains("truncated") || lw.contains("missing eoi")) {
                    throw new LitException(name + ": truncated " + h.format() + " (" + w + ")");
                }
            }
            if (img == null || img.getWidth() != h.width() || img.getHeight() != h.height()) {
                throw new LitException(name + ": corrupt " + h.format() + " (decoder returned "
                        + (img == null ? "nothing" : img.getWidth() + "x" + img.getHeight()) + " for a "
                        + h.width() + "x" + h.height() + " header)");
            }
            try {
                rows(img).row(0, new int[3 * img.getWidth()]);
            } catch (RuntimeException e) {
                throw new LitException(name + ": unsupported " + h.format() + " colour layout (" + img.getColorModel().getClass().getSimpleName()
                        + ", " + img.getSampleModel().getNumBands() + " bands): cannot convert it to RGB - convert the file", e);
            }
            return img;
        });
    }

    /** What is done with an ImageIO reader set on the bytes. */
    private interface ReaderUse<T> {
        T apply(ImageReader reader) throws IOException;
    }

    /** Runs {@code use} on a reader for {@code bytes}; any ImageIO failure becomes a {@link LitException} naming {@code name}. */
    private static <T> T withReader(byte[] bytes, String name, ReaderUse<T> use) {
        ImageReader reader = readerFor(bytes, name);
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            return use.apply(reader);
        } catch (LitException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw classify(name, bytes, e);
        } finally {
            reader.dispose();
        }
    }

    private static ImageReader readerFor(byte[] bytes, String name) {
        if (bytes == null || bytes.length == 0) {
            throw new LitException(name + ": not an image (empty file)");
        }
        String fmt = sniff(bytes);
        if (fmt == null) {
            String other = sniffUnsupported(bytes);
            if (other != null) {
                throw new LitException(name + ": unsupported format (" + other
                        + "); lit4j reads PNG, JPEG, BMP, GIF and TIFF - convert the file");
            }
            throw new LitException(name + ": not an image (no PNG, JPEG, BMP, GIF or TIFF signature; starts with "
                    + hexHead(bytes) + ")");
        }
        Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(fmt);
        if (!it.hasNext()) {
            throw new LitException(name + ": unsupported format (" + fmt + ": this JDK has no ImageIO reader for it)");
        }
        return it.next();
    }

    private static Header header(ImageReader reader, byte[] bytes, String name) throws IOException {
        String fmt = sniff(bytes);
        int w;
        int h;
        try {
            w = reader.getWidth(0);
            h = reader.getHeight(0);
        } catch (IndexOutOfBoundsException e) {
            throw new LitException(name + ": not an image (" + fmt + " file holds no image)");
        }
        if (w <= 0 || h <= 0) {
            throw new LitException(name + ": corrupt " + fmt + " header (size " + w + "x" + h + ")");
        }
        return new Header(fmt, w, h);
    }

    private static void checkLimits(Header hd, String name) {
        int w = hd.width();
        int h = hd.height();
        if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
            throw new LitException(name + ": image too large (" + w + "x" + h + " = "
                    + String.format(Locale.ROOT, "%.1f", (long) w * h / 1e6) + " MP; the limit is " + MAX_SIDE
                    + " px per side and " + MAX_PIXELS / 1_000_000 + " MP) - downscale it first");
        }
    }

    /**
     * Refuses, before any pixel is decoded, a raster larger than the budget ({@link #MAX_RASTER_BYTES},
     * a quarter of the heap) or larger than {@code inputBytes} could plausibly expand to.
     */
    private static void checkRaster(ImageReader reader, Header h, long inputBytes, String name) throws IOException {
        double storedBits = 32;
        double sampleBits = 32;
        Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
        if (types != null && types.hasNext()) {
            SampleModel sm = types.next().getSampleModel(1, 1);
            storedBits = sm instanceof MultiPixelPackedSampleModel mp ? mp.getPixelBitStride()
                    : (double) sm.getNumDataElements() * DataBuffer.getDataTypeSize(sm.getDataType());
            sampleBits = 0;
            for (int b : sm.getSampleSize()) {
                sampleBits += b;
            }
        }
        double pixels = (double) h.width() * h.height();
        double stored = pixels * storedBits / 8;
        long budget = Math.min(MAX_RASTER_BYTES, Runtime.getRuntime().maxMemory() / 4);
        if (stored > budget) {
            throw new LitException(name + ": image too large to decode (" + h.width() + "x" + h.height() + " needs "
                    + (long) stored / (1 << 20) + " MiB; the budget is " + budget / (1 << 20) + " MiB) - downscale it first");
        }
        double plausible = (1 << 20) + (double) inputBytes * MAX_EXPANSION;
        if (pixels * sampleBits / 8 > plausible) {
            throw new LitException(name + ": corrupt " + h.format() + " (the header says " + h.width() + "x" + h.height()
                    + ", more pixels than " + inputBytes + " bytes can hold)");
        }
    }

    /** How many scans (SOS markers) a JPEG has, found by walking its marker segments; linear in its size. */
    static int jpegScans(byte[] b) {
        int scans = 0;
        int i = 2;
        while (i + 1 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) {
                i++; // entropy-coded data
                continue;
            }
            int m = b[i + 1] & 0xFF;
            if (m == 0xFF) {
                i++; // fill byte
            } else if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
                i += 2; // stuffed zero, TEM, restart marker: no length
            } else if (m == 0xD9) {
                break; // end of image
            } else {
                if (m == 0xDA) {
                    scans++;
                }
                int len = i + 3 < b.length ? ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF) : 0;
                i += 2 + Math.max(len, 2);
            }
        }
        return scans;
    }

    private static LitException classify(String name, byte[] bytes, Exception e) {
        String fmt = sniff(bytes);
        String msg = messageChain(e);
        String lm = msg.toLowerCase(Locale.ROOT);
        if (hasCause(e, EOFException.class) || lm.contains("eof") || lm.contains("premature end")
                || lm.contains("truncated") || lm.contains("unexpected end")) {
            return new LitException(name + ": truncated " + fmt + " (" + msg + ")", e);
        }
        if (lm.contains("unsupported image type") || lm.contains("unsupported")) {
            return new LitException(name + ": unsupported format (" + msg + ")", e);
        }
        return new LitException(name + ": corrupt image data (" + msg + ")", e);
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String messageChain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        int depth = 0;
        for (Throwable c = t; c != null && depth < 4; c = c.getCause() == c ? null : c.getCause(), depth++) {
            if (!sb.isEmpty()) {
                sb.append(": ");
            }
            sb.append(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName());
        }
        return sb.toString();
    }

    private static String hexHead(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }

    /** Decodes and preprocesses: {@code size * size * 3} floats, NHWC. */
    public static float[] pixels(byte[] bytes, String name, Preprocess pp) {
        return toNhwc(decode(bytes, name), pp);
    }

    /** {@code size * size * 3} floats, NHWC, RGB, in model units. */
    public static float[] toNhwc(BufferedImage img, Preprocess pp) {
        float[] out = new float[pp.floatsPerImage()];
        toNhwc(img, pp, out, 0);
        return out;
    }

    /** Writes {@code size * size * 3} floats into {@code out} from {@code offset}. */
    public static void toNhwc(BufferedImage img, Preprocess pp, float[] out, int offset) {
        checkOut(out, offset, pp);
        Resample.run(rows(img), img.getWidth(), img.getHeight(), pp, out, offset);
    }

    /** Preprocesses raw pixels, {@code argb[y * width + x] = 0xAARRGGBB} (alpha ignored). */
    public static float[] fromRaw(int[] argb, int width, int height, Preprocess pp) {
        float[] out = new float[pp.floatsPerImage()];
        fromRaw(argb, width, height, pp, out, 0);
        return out;
    }

    /** As {@link #fromRaw(int[], int, int, Preprocess)}, into {@code out} from {@code offset}. */
    public static void fromRaw(int[] argb, int width, int height, Preprocess pp, float[] out, int offset) {
        if (width <= 0 || height <= 0 || argb.length != (long) width * height) {
            throw new LitException("raw image: " + argb.length + " pixels do not make " + width + "x" + height);
        }
        checkOut(out, offset, pp);
        Resample.run((y, rgb) -> {
            int base = y * width;
            for (int x = 0; x < width; x++) {
                int p = argb[base + x];
                rgb[3 * x] = (p >>> 16) & 0xFF;
                rgb[3 * x + 1] = (p >>> 8) & 0xFF;
                rgb[3 * x + 2] = p & 0xFF;
            }
        }, width, height, pp, out, offset);
    }

    private static void checkOut(float[] out, int offset, Preprocess pp) {
        if (offset < 0 || (long) offset + pp.floatsPerImage() > out.length) {
            throw new LitException("preprocess: output of " + out.length + " floats has no room for "
                    + pp.floatsPerImage() + " at offset " + offset);
        }
    }

    /**
     * The pixels as lit4j's preprocessing reads them: samples as stored (no colour management, so
     * a grey PNG's levels are not gamma-shifted as {@link BufferedImage#getRGB} would), alpha
     * dropped; packed {@code 0xRRGGBB}, row-major. What the de-duplication keys are computed from.
     */
    public static int[] storedRgb(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        Resample.RowSource rows = rows(img);
        int[] rgb = new int[3 * w];
        int[] out = new int[Math.multiplyExact(w, h)];
        for (int y = 0; y < h; y++) {
            rows.row(y, rgb);
            for (int x = 0; x < w; x++) {
                out[y * w + x] = (rgb[3 * x] << 16) | (rgb[3 * x + 1] << 8) | rgb[3 * x + 2];
            }
        }
        return out;
    }

    /** A row reader that takes samples as stored (no colour management) wherever it can. */
    static Resample.RowSource rows(BufferedImage img) {
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        int w = img.getWidth();
        int csType = cm.getColorSpace().getType();
        boolean viaGetRgb = cm instanceof IndexColorModel || !integral(cm);
        if (!viaGetRgb && !cm.isAlphaPremultiplied() && csType == ColorSpace.TYPE_GRAY && r.getNumBands() <= 2) {
            int max = (1 << cm.getComponentSize(0)) - 1;
            int[] buf = new int[w];
            return (y, rgb) -> {
                r.getSamples(0, y, w, 1, 0, buf);
                for (int x = 0; x < w; x++) {
                    int v = to8(buf[x], max);
                    rgb[3 * x] = v;
                    rgb[3 * x + 1] = v;
                    rgb[3 * x + 2] = v;
                }
            };
        }
        if (!viaGetRgb && !cm.isAlphaPremultiplied() && csType == ColorSpace.TYPE_RGB && r.getNumBands() >= 3
                && cm.getNumComponents() >= 3) {
            int[] max = {(1 << cm.getComponentSize(0)) - 1, (1 << cm.getComponentSize(1)) - 1,
                (1 << cm.getComponentSize(2)) - 1};
            int[] buf = new int[w];
            return (y, rgb) -> {
                for (int c = 0; c < 3; c++) {
                    r.getSamples(0, y, w, 1, c, buf);
                    for (int x = 0; x < w; x++) {
                        rgb[3 * x + c] = to8(buf[x], max[c]);
                    }
                }
            };
        }
        int[] buf = new int[w];
        return (y, rgb) -> {
            img.getRGB(0, y, w, 1, buf, 0, w);
            for (int x = 0; x < w; x++) {
                int p = buf[x];
                rgb[3 * x] = (p >>> 16) & 0xFF;
                rgb[3 * x + 1] = (p >>> 8) & 0xFF;
                rgb[3 * x + 2] = p & 0xFF;
            }
        };
    }

    private static boolean integral(ColorModel cm) {
        int t = cm.getTransferType();
        if (t != DataBuffer.TYPE_BYTE && t != DataBuffer.TYPE_USHORT && t != DataBuffer.TYPE_INT) {
            return false;
        }
        for (int c = 0; c < cm.getNumComponents(); c++) {
            if (cm.getComponentSize(c) < 1 || cm.getComponentSize(c) > 16) {
                return false;
            }
        }
        return true;
    }

    private static int to8(int v, int max) {
        if (max == 255) {
            return v;
        }
        return (int) (((long) v * 255 + max / 2) / max);
    }
}
