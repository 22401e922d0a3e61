package io.lit4j.bench;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ServeLoad --variants}: batching servers to compare in one run, each with its extra {@code lit4j serve} arguments. */
class ServeLoadVariantsTest {
    @Test
    void variantsAreNamesWithTheirServeArguments() {
        assertEquals(List.of(new ServeLoad.Variant("batching", List.of())), ServeLoad.Variant.parse("batching="));
        assertEquals(List.of(new ServeLoad.Variant("new", List.of()), new ServeLoad.Variant("old", List.of("--small-batch-rows", "0")),
                        new ServeLoad.Variant("spin", List.of("--idle-spin", "200"))),
                ServeLoad.Variant.parse("new=; old= --small-batch-rows  0 ;spin=--idle-spin 200"));
        for (String bad : new String[] {"=--idle-spin 1", "a b=", "a=;a=--small-batch-rows 0"}) {
            LitException e = assertThrows(LitException.class, () -> ServeLoad.Variant.parse(bad));
            assertTrue(e.getMessage().startsWith("--variants"), e.getMessage());
        }
    }
}
