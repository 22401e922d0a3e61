package io.lit4j.report;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Helpers for checking rendered charts pixel by pixel. */
final class Pixels {
    private Pixels() {
    }

    /** Reads a PNG back and checks its size. */
    static BufferedImage read(Path png, int width, int height) throws IOException {
        assertTrue(Files.isRegularFile(png), png + " was not written");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not a readable image");
        assertEquals(width, img.getWidth(), "width");
        assertEquals(height, img.getHeight(), "height");
        return img;
    }

    static int distinctColours(BufferedImage img) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                seen.add(img.getRGB(x, y) & 0xffffff);
            }
        }
        return seen.size();
    }

    static double distance(int rgb, Color c) {
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        return Math.sqrt(Math.pow(r - c.getRed(), 2) + Math.pow(g - c.getGreen(), 2) + Math.pow(b - c.getBlue(), 2));
    }

    /** Pixels within {@code tolerance} (RGB distance) of {@code c} inside the given box of the image. */
    static int count(BufferedImage img, Color c, double tolerance, int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = Math.max(0, y0); y < Math.min(img.getHeight(), y1); y++) {
            for (int x = Math.max(0, x0); x < Math.min(img.getWidth(), x1); x++) {
                if (distance(img.getRGB(x, y), c) <= tolerance) {
                    n++;
                }
            }
        }
        return n;
    }

    static int count(BufferedImage img, Color c, double tolerance) {
        return count(img, c, tolerance, 0, 0, img.getWidth(), img.getHeight());
    }

    /** No hidden temp files left next to the outputs. */
    static void assertNoTempFiles(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp file left in " + dir);
        }
    }
}
