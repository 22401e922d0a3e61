package io.lit4j.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The soak of {@code bench/soak.sh} for 60 seconds, in {@code mvn verify}: {@code lit4j serve} from
 * the shaded jar under mixed traffic keeps its RSS and open fds flat after warm-up, answers every
 * request (or sheds it with a 429), logs no error and exits 0 on SIGTERM.
 */
class SoakIT {
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void sixtySecondsOfMixedTrafficLeaveNoGrowthAndNoErrors(@TempDir Path dir) throws Exception {
        Path root = Path.of(System.getProperty("lit4j.root"));
        Soak.Report r = Soak.run(new Soak.Options(Soak.newestJar(root.resolve("java/target")), root, Duration.ofSeconds(60), 8, dir), null);
        assertNull(r.failure(), () -> r.failure() + "\n" + r.summary() + "\nsamples: " + r.samples());
    }
}
