package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.eval.ZeroShotClassifier;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The command line's "name,alias" syntax becomes the API's classes with alias lists. */
class LabelsTest {
    @Test
    void aSpecIsANameAndItsAliases() {
        assertEquals(List.of(ZeroShotClassifier.Label.of("sneaker", "trainer", "running shoe"), ZeroShotClassifier.Label.of("bag")),
                Labels.classes(List.of("sneaker, trainer,,running shoe", " bag ")));
        assertThrows(LitException.class, () -> Labels.classes(List.of(" , ")));
    }
}
