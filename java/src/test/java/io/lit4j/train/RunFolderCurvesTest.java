package io.lit4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** curves.png as tune and pretrain write it: a panel for each thing the metrics log holds. */
class RunFolderCurvesTest {
    @TempDir
    Path dir;

    static String metrics(boolean tuning) {
        StringBuilder sb = new StringBuilder();
        for (int step = 10; step <= 300; step += 10) {
            sb.append(String.format(Locale.ROOT, "{\"step\":%d,\"loss\":%.4f,\"lr\":%.6f", step, 4 * Math.exp(-step / 100.0) + 0.5,
                    1e-3 * Math.min(1, step / 50.0)));
            if (tuning) {
                sb.append(String.format(Locale.ROOT, ",\"temperature\":%.4f", 21.726 - step * 1e-4));
                if (step % 100 == 0) {
                    sb.append(String.format(Locale.ROOT, ",\"eval_top1\":%.3f", step / 400.0));
                }
            }
            sb.append("}\n");
        }
        return sb.toString();
    }

    static BufferedImage draw(Path run, String metrics) throws IOException {
        Files.writeString(run.resolve(RunFolder.METRICS), metrics);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (RunFolder f = RunFolder.open(run)) {
            f.plot("LiT tuning", new PrintStream(log, true, StandardCharsets.UTF_8));
        }
        assertEquals("", log.toString(StandardCharsets.UTF_8), "drawing must not fail");
        BufferedImage img = ImageIO.read(run.resolve(RunFolder.CURVES).toFile());
        assertNotNull(img, "curves.png is not an image");
        return img;
    }

    @Test
    void tuningCurvesGetLossTemperatureLrAndEvalPanels() throws IOException {
        Path tune = Files.createDirectories(dir.resolve("tune"));
        Files.writeString(tune.resolve(RunFolder.RUN), "{\"evalData\": \"/data/fashion-test\", \"evalLimit\": 1000}\n");
        BufferedImage tuned = draw(tune, metrics(true));
        Path pre = Files.createDirectories(dir.resolve("pretrain"));
        Files.writeString(pre.resolve(RunFolder.RUN), "{}\n");
        BufferedImage pretrained = draw(pre, metrics(false));
        assertEquals(960, tuned.getWidth());
        // pretraining logs loss and lr (two panels), tuning also the temperature and an eval metric
        assertTrue(tuned.getHeight() > pretrained.getHeight(), tuned.getHeight() + " vs " + pretrained.getHeight());
        assertFalse(isBlank(tuned) || isBlank(pretrained));
    }

    static boolean isBlank(BufferedImage img) {
        int first = img.getRGB(0, 0);
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                if (img.getRGB(x, y) != first) {
                    return false;
                }
            }
        }
        return true;
    }
}
