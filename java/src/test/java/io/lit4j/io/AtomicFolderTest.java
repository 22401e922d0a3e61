package io.lit4j.io;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFolderTest {
    @TempDir
    Path tmp;

    private List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void commitRenamesTheWholeFolderIntoPlace() throws IOException {
        Path out = tmp.resolve("ds");
        try (AtomicFolder f = AtomicFolder.begin(out, false, true)) {
            f.write("images/a.png", new byte[] {1, 2, 3});
            f.writeString("captions.jsonl", "x\n");
            assertFalse(Files.exists(out), "nothing at the target before commit");
            f.commit();
        }
        assertEquals(List.of("ds"), names(tmp), "no temp folder left beside it");
        assertEquals(List.of("captions.jsonl", "images"), names(out));
        assertEquals(List.of("a.png"), names(out.resolve("images")), "no temp file left");
    }

    @Test
    void anAbandonedFolderLeavesNothing() throws IOException {
        Path out = tmp.resolve("ds");
        assertThrows(IllegalStateException.class, () -> {
            try (AtomicFolder f = AtomicFolder.begin(out, false, false)) {
                f.write("images/a.png", new byte[] {1});
                throw new IllegalStateException("generator failed half-way");
            }
        });
        assertEquals(List.of(), names(tmp));
    }

    @Test
    void refusesANonEmptyTargetUnlessReplacing() throws IOException {
        Path out = tmp.resolve("ds");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "old");
        LitException e = assertThrows(LitException.class, () -> AtomicFolder.begin(out, false, false));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertEquals("old", Files.readString(out.resolve("keep.txt")));
        try (AtomicFolder f = AtomicFolder.begin(out, true, false)) {
            f.writeString("new.txt", "new");
            f.commit();
        }
        assertEquals(List.of("new.txt"), names(out));
        assertEquals(List.of("ds"), names(tmp), "the old folder is deleted");
    }

    @Test
    void anEmptyTargetFolderIsFine() throws IOException {
        Path out = tmp.resolve("ds");
        Files.createDirectories(out);
        try (AtomicFolder f = AtomicFolder.begin(out, false, false)) {
            f.writeString("a.txt", "a");
            f.commit();
        }
        assertEquals(List.of("a.txt"), names(out));
    }

    @Test
    void pathsMustStayInside() {
        try (AtomicFolder f = AtomicFolder.begin(tmp.resolve("ds"), false, false)) {
            assertThrows(LitException.class, () -> f.write("../evil.png", new byte[0]));
            assertThrows(LitException.class, () -> f.write("/etc/x", new byte[0]));
            assertThrows(LitException.class, () -> f.write("a/../..", new byte[0]));
        }
    }

    @Test
    void aCrashBetweenTheTwoRenamesOfAReplaceIsRecovered() throws IOException {
        Path out = tmp.resolve("ckpt");
        try (AtomicFolder f = AtomicFolder.begin(out, true, true)) {
            f.writeString("model.txt", "v1");
            f.commit();
        }
        // a replacing commit renames the old folder aside first; a crash right then leaves only that
        Files.move(out, tmp.resolve(".ckpt.0123abcd.old"));
        assertTrue(AtomicFolder.recover(out));
        assertEquals("v1", Files.readString(out.resolve("model.txt")));
        assertEquals(List.of("ckpt"), names(tmp));
        assertFalse(AtomicFolder.recover(tmp.resolve("never-written")));
    }
}
