package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {
    /** A clock the test moves by hand. */
    static final class FakeClock {
        final AtomicLong nanos = new AtomicLong(1_000_000_000L);

        long now() {
            return nanos.get();
        }

        void advance(double seconds) {
            nanos.addAndGet((long) (seconds * 1e9));
        }
    }

    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    List<String> lines() {
        return text().lines().toList();
    }

    @Test
    void rendersTheDocumentedLine() {
        FakeClock clock = new FakeClock();
        ProgressBar bar = new ProgressBar("tune", 1000, out, false, clock::now);
        clock.advance(12);
        assertEquals("tune  [#########...........]  45%  450/1000  00:12<00:15  loss 2.31 t 10.4",
                bar.line(450, "loss 2.31 t 10.4", false));
        assertEquals("tune  [....................]   0%  0/1000  00:12<--:--", bar.line(0, "", false));
        assertEquals("tune  [####################] 100%  1000/1000  00:12", bar.line(1000, "", true));
        ProgressBar unknown = new ProgressBar("embed", 0, out, false, clock::now);
        clock.advance(10);
        assertEquals("embed  450  00:10  45.0/s  cache hit 93%", unknown.line(450, "cache hit 93%", false));
        assertEquals("1:02:03", ProgressBar.clock(3723));
    }

    @Test
    void logModePrintsEveryTenth() {
        ProgressBar bar = new ProgressBar("embed", 1000, out, false);
        for (int i = 0; i < 1000; i++) {
            bar.step(1);
            if (i % 100 == 0) {
                bar.message("batch " + i);
            }
        }
        bar.message("done: 1000 images");
        bar.close();
        List<String> lines = lines();
        assertTrue(lines.size() >= 10 && lines.size() <= 11, lines.size() + " lines:\n" + text());
        String last = lines.getLast();
        assertTrue(last.contains("100%") && last.contains("1000/1000") && last.contains("done: 1000 images"), last);
        assertTrue(lines.getFirst().contains(" 10%"), lines.getFirst());
        assertFalse(text().contains("\r"));
    }

    @Test
    void closePrintsNothingNewWhenTheLastLineIsCurrent() {
        ProgressBar bar = new ProgressBar("steps", 1000, out, false);
        bar.message("loss 1.2");
        for (int i = 0; i < 1000; i++) {
            bar.step(1);
        }
        bar.close();
        bar.close();
        assertEquals(10, lines().size());
        assertTrue(lines().getLast().endsWith("loss 1.2"));
    }

    @Test
    void fourThreadsCountExactly() throws InterruptedException {
        ProgressBar bar = new ProgressBar("pairs", 100_000, out, false);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < 25_000; i++) {
                    bar.step(1);
                    if (i % 5000 == 0) {
                        bar.message("worker " + id);
                    }
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        bar.message("all done");
        bar.close();
        assertEquals(100_000, bar.done());
        List<String> lines = lines();
        // at most one line per tenth (a tenth may be skipped while another thread holds the pen,
        // since a line always shows the current count), then the closing line
        assertTrue(lines.size() >= 2 && lines.size() <= 11, lines.size() + " lines:\n" + text());
        assertTrue(lines.getLast().contains("100%") && lines.getLast().contains("100000/100000"), lines.getLast());
        assertTrue(lines.getLast().endsWith("all done"));
        int previous = 0;
        for (String line : lines.subList(0, lines.size() - 1)) {
            int pct = Integer.parseInt(line.replaceAll(".*\\]\\s+(\\d+)%.*", "$1"));
            assertTrue(pct > previous, "tenths out of order:\n" + text());
            previous = pct;
        }
    }

    @Test
    void unknownTotalLogsEveryThirtySeconds() {
        FakeClock clock = new FakeClock();
        ProgressBar bar = new ProgressBar("scan", -1, out, false, clock::now);
        for (int i = 0; i < 100; i++) {
            bar.step(10);
            clock.advance(1);          // 100 s in all: lines at 30, 60 and 90 s
        }
        assertEquals(3, lines().size(), text());
        bar.close();
        assertEquals(4, lines().size());
        assertTrue(lines().getLast().startsWith("scan  1000  01:40  10.0/s"), lines().getLast());
    }

    @Test
    void terminalModeRedrawsInPlaceAtMostTenTimesASecond() {
        FakeClock clock = new FakeClock();
        ProgressBar bar = new ProgressBar("tune", 1000, out, true, clock::now);
        for (int i = 0; i < 500; i++) {
            bar.step(1);                 // the clock stands still: no redraws
        }
        int drawsBefore = text().split("\r", -1).length - 1;
        clock.advance(0.5);
        bar.step(1);                     // 0.5 s later: one redraw
        for (int i = 0; i < 499; i++) {
            clock.advance(0.001);        // 0.499 s of steps: at most five more
            bar.step(1);
        }
        int draws = text().split("\r", -1).length - 1;
        assertTrue(drawsBefore <= 2, "draws before " + drawsBefore);
        assertTrue(draws - drawsBefore >= 1 && draws - drawsBefore <= 7, "redraws: " + (draws - drawsBefore));
        bar.message("loss 0.9");
        clock.advance(1);
        bar.close();
        String t = text();
        assertTrue(t.endsWith(System.lineSeparator()), "close ends the line");
        String lastFrame = t.substring(t.lastIndexOf('\r') + 1).strip();
        assertTrue(lastFrame.startsWith("tune  [####################] 100%  1000/1000  00:02  loss 0.9"), lastFrame);
        assertEquals(1, t.chars().filter(c -> c == '\n').count(), "one line, redrawn in place");
    }

    @Test
    void shorterRedrawsBlankOutTheOldText() {
        FakeClock clock = new FakeClock();
        ProgressBar bar = new ProgressBar("x", 10, out, true, clock::now);
        bar.message("a long message here");
        clock.advance(1);
        bar.step(1);
        bar.message("");
        clock.advance(1);
        bar.step(1);
        String t = text();
        String[] frames = t.split("\r");
        String last = frames[frames.length - 1];
        String before = frames[frames.length - 2];
        assertTrue(before.contains("a long message here"));
        assertTrue(last.length() >= before.length(), "old text would show through");
    }

    @Test
    void silentCountsButPrintsNothing() {
        ProgressBar bar = ProgressBar.silent();
        bar.step(5);
        bar.set(7);
        bar.message("hi");
        bar.close();
        assertEquals(7, bar.done());
        try (ProgressBar b = new ProgressBar("x", 10, out, false)) {
            b.set(3);
        }
        assertEquals(1, lines().size());
        assertTrue(lines().getFirst().contains(" 30%  3/10  "), lines().getFirst());
    }

    @Test
    void rejectsBadUse() {
        assertThrows(LitException.class, () -> new ProgressBar("x", 10, null));
        ProgressBar bar = new ProgressBar("x", 10, out, false);
        assertThrows(LitException.class, () -> bar.step(-1));
    }
}
