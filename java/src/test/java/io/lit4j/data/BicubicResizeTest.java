package io.lit4j.data;

import io.lit4j.io.SafetensorsReader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bicubic filter against PIL (src/test/reference/make_clip_golden.py: CLIPImageProcessor's
 * shortest-edge resize with {@code Image.BICUBIC} and centre crop, on a wide, a tall and an
 * upscaled image). PIL rounds each 8-bit pass and lit4j does not, so values agree to about one
 * level of 255, not exactly; the triangle filter is far further off, so the comparison tells them apart.
 */
class BicubicResizeTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final float[] ZERO = {0f, 0f, 0f}, ONE = {1f, 1f, 1f};

    @Test
    void clipsShortestEdgeBicubicAndCentreCropMatchPil() throws IOException {
        Preprocess cubic = Preprocess.meanStd(16, Preprocess.Resize.CENTER_CROP, ZERO, ONE).withFilter(Preprocess.Filter.BICUBIC);
        Preprocess tri = cubic.withFilter(Preprocess.Filter.TRIANGLE);
        try (SafetensorsReader r = SafetensorsReader.open(GOLDEN.resolve("clip_resize.safetensors"))) {
            for (String name : new String[] {"wide", "tall", "small"}) {
                int[] pil = r.read(name).toIntArray();
                byte[] png = Files.readAllBytes(GOLDEN.resolve("clip_resize").resolve(name + ".png"));
                double[] c = diff(pil, Images.pixels(png, name, cubic)), t = diff(pil, Images.pixels(png, name, tri));
                assertTrue(c[0] <= 1.5 && c[1] <= 0.4, name + ": bicubic vs PIL max " + c[0] + ", mean " + c[1] + " (of 255)");
                assertTrue(t[1] > 2 * c[1] + 0.5, name + ": the triangle filter should be clearly further from PIL's bicubic: mean "
                        + t[1] + " vs " + c[1]);
            }
        }
    }

    /** {max, mean} of |pil − 255·v| over all values. */
    private static double[] diff(int[] pil, float[] v) {
        assertEquals(pil.length, v.length);
        double max = 0, sum = 0;
        for (int i = 0; i < pil.length; i++) {
            double d = Math.abs(pil[i] - 255.0 * v[i]);
            max = Math.max(max, d);
            sum += d;
        }
        return new double[] {max, sum / pil.length};
    }

    @Test
    void theCubicKernelIsKeysWithAMinusHalf() {
        assertEquals(1.0, Resample.cubic(0), 0);
        assertEquals(0.0, Resample.cubic(1), 1e-15);
        assertEquals(0.0, Resample.cubic(2), 0);
        assertEquals(-0.0625, Resample.cubic(1.5), 1e-15); // (((1.5 - 5) 1.5 + 8) 1.5 - 4) · -0.5
        assertEquals(0.5625, Resample.cubic(0.5), 1e-15);  // (1.5 · 0.5 - 2.5) · 0.25 + 1
    }

    @Test
    void theFilterIsPartOfTheDescription() {
        Preprocess c = Preprocess.clip(224);
        assertEquals(Preprocess.Filter.BICUBIC, c.filter());
        assertTrue(c.describe().contains("cubic") && !c.describe().equals(c.withFilter(Preprocess.Filter.TRIANGLE).describe()));
        assertTrue(Preprocess.bigVision(224).describe().contains("sample=tri-aa-v1"), "triangle descriptions (cache keys) are as before");
    }
}
