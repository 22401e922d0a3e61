package io.lit4j.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Test data: generated images, and folders, tars (three header styles) and zips made from a map of files. */
final class Fixtures {
    private Fixtures() {
    }

    /** A w x h RGB image whose pixels are a function of (x, y, seed). */
    static BufferedImage pattern(int w, int h, int seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = (x * 37 + y * 11 + seed * 53) & 0xFF;
                int g = (x * 5 + y * 71 + seed * 29) & 0xFF;
                int b = ((x ^ y) * 23 + seed * 97) & 0xFF;
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format + " / image type " + img.getType());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] png(BufferedImage img) {
        return encode(img, "png");
    }

    static byte[] jpeg(BufferedImage img, float quality) {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(ios);
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            w.write(null, new IIOImage(img, null, null), p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            w.dispose();
        }
        return out.toByteArray();
    }

    /** Writes the files under {@code root} (created). */
    static Path folder(Path root, Map<String, byte[]> files) throws IOException {
        Files.createDirectories(root);
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
        return root;
    }

    static Path zip(Path file, Map<String, byte[]> files) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return file;
    }

    /** How names that do not fit the 100-byte field are written. */
    enum TarStyle {
        /** POSIX ustar: split into prefix (155) + name (100); fails if that is impossible. */
        USTAR,
        /** GNU: a {@code ././@LongLink} member of type L holds the name. */
        GNU,
        /** POSIX pax: an 'x' member holds {@code path=}. */
        PAX
    }

    /** A small, hand-written tar writer, independent of the reader under test. */
    static final class TarWriter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final TarStyle style;

        TarWriter(TarStyle style) {
            this.style = style;
        }

        TarWriter dir(String name) {
            header(name.endsWith("/") ? name : name + "/", 0, '5', "");
            return this;
        }

        TarWriter file(String name, byte[] data) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            if (n.length > 100) {
                switch (style) {
                    case USTAR -> {
                        int cut = name.lastIndexOf('/', 155);
                        if (cut <= 0 || name.length() - cut - 1 > 100) {
                            throw new IllegalArgumentException("name does not fit ustar: " + name);
                        }
                        header(name.substring(cut + 1), data.length, '0', "", name.substring(0, cut));
                        body(data);
                        return this;
                    }
                    case GNU -> {
                        byte[] ln = (name + "\0").getBytes(StandardCharsets.UTF_8);
                        header("././@LongLink", ln.length, 'L', "");
                        body(ln);
                    }
                    case PAX -> {
                        byte[] rec = paxRecord("path", name);
                        header("PaxHeaders.0/" + tail(name, 80), rec.length, 'x', "");
                        body(rec);
                    }
                }
                header(name.substring(0, 100), data.length, '0', "");
            } else {
                header(name, data.length, '0', "");
            }
            body(data);
            return this;
        }

        TarWriter hardLink(String name, String target) {
            header(name, 0, '1', target);
            return this;
        }

        TarWriter symLink(String name, String target) {
            header(name, 0, '2', target);
            return this;
        }

        /** A file whose size is written in GNU base-256. */
        TarWriter fileBase256Size(String name, byte[] data) {
            byte[] h = headerBytes(name, data.length, '0', "", "");
            for (int i = 124; i < 136; i++) {
                h[i] = 0;
            }
            h[124] = (byte) 0x80;
            long v = data.length;
            for (int i = 135; i > 124; i--) {
                h[i] = (byte) (v & 0xFF);
                v >>>= 8;
            }
            checksum(h);
            out.writeBytes(h);
            body(data);
            return this;
        }

        byte[] finish() {
            out.writeBytes(new byte[1024]);
            return out.toByteArray();
        }

        Path finish(Path file) throws IOException {
            Files.write(file, finish());
            return file;
        }

        private static String tail(String s, int n) {
            return s.length() <= n ? s : s.substring(s.length() - n);
        }

        private static byte[] paxRecord(String key, String value) {
            String body = " " + key + "=" + value + "\n";
            int bodyLen = body.getBytes(StandardCharsets.UTF_8).length;
            int len = bodyLen + 1;
            while (Integer.toString(len).length() + bodyLen != len) {
                len = Integer.toString(len).length() + bodyLen;
            }
            return (len + body).getBytes(StandardCharsets.UTF_8);
        }

        private void body(byte[] data) {
            out.writeBytes(data);
            int pad = (512 - data.length % 512) % 512;
            out.writeBytes(new byte[pad]);
        }

        private void header(String name, long size, char type, String link) {
            header(name, size, type, link, "");
        }

        private void header(String name, long size, char type, String link, String prefix) {
            out.writeBytes(headerBytes(name, size, type, link, prefix));
        }

        private byte[] headerBytes(String name, long size, char type, String link, String prefix) {
            byte[] h = new byte[512];
            put(h, 0, 100, name);
            put(h, 100, 8, "0000644");
            put(h, 108, 8, "0001750");
            put(h, 116, 8, "0001750");
            put(h, 124, 12, String.format("%011o", size));
            put(h, 136, 12, String.format("%011o", 1_700_000_000L));
            h[156] = (byte) type;
            put(h, 157, 100, link);
            if (style == TarStyle.GNU) {
                put(h, 257, 8, "ustar  ");
            } else {
                put(h, 257, 6, "ustar");
                put(h, 263, 2, "00");
                put(h, 345, 155, prefix);
            }
            put(h, 265, 32, "user");
            put(h, 297, 32, "group");
            checksum(h);
            return h;
        }

        private static void checksum(byte[] h) {
            for (int i = 148; i < 156; i++) {
                h[i] = ' ';
            }
            int sum = 0;
            for (byte b : h) {
                sum += b & 0xFF;
            }
            byte[] s = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(s, 0, h, 148, 6);
            h[154] = 0;
            h[155] = ' ';
        }

        private static void put(byte[] h, int off, int len, String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > len) {
                throw new IllegalArgumentException("'" + s + "' does not fit " + len + " bytes");
            }
            System.arraycopy(b, 0, h, off, b.length);
        }
    }
}
