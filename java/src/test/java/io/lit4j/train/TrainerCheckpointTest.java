package io.lit4j.train;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A damaged trainer state is a one-line error naming the file and the field, not a resume from nonsense. */
class TrainerCheckpointTest {
    @Test
    void stateFieldsAreWholeNonNegativeNumbers(@TempDir Path dir) throws Exception {
        Path state = dir.resolve(TrainerCheckpoint.STATE);
        Files.writeString(state, "{\"step\": 12, \"epoch\": 1, \"position\": 40, \"batches\": 12, \"updates\": 12}");
        assertEquals(12, TrainerCheckpoint.read(dir).step());
        String[][] bad = {{"{\"epoch\": 1, \"position\": 40, \"batches\": 12, \"updates\": 12}", "\"step\""},
                {"{\"step\": -3, \"epoch\": 1, \"position\": 40, \"batches\": 12, \"updates\": 12}", "\"step\" is -3"},
                {"{\"step\": 12, \"epoch\": \"one\", \"position\": 40, \"batches\": 12, \"updates\": 12}", "\"epoch\""},
                {"{\"step\": 12, \"epoch\": 1, \"position\": 4.5, \"batches\": 12, \"updates\": 12}", "\"position\" is 4.5"},
                {"[1, 2]", "trainer state"}};
        for (String[] b : bad) {
            Files.writeString(state, b[0]);
            LitException e = assertThrows(LitException.class, () -> TrainerCheckpoint.read(dir), b[0]);
            assertTrue(e.getMessage().contains(state.toString()) && e.getMessage().contains(b[1]), e.getMessage());
        }
    }
}
