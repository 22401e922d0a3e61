package io.lit4j.eval;

import io.lit4j.DefaultModel;
import io.lit4j.data.TextTokenizer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Class names the default model's tokenizer cannot read, or whose prompts it must cut, are named; ordinary ones are not. */
class LabelCheckTest {
    @Test
    void unknownAndTooLongLabelsAreWarnedAbout() {
        try (TextTokenizer tok = TextTokenizer.load(DefaultModel.path().resolve("tokenizer.json"))) {
            List<ZeroShotClassifier.Label> labels = List.of(ZeroShotClassifier.Label.of("bag"), ZeroShotClassifier.Label.of("靴"),
                    ZeroShotClassifier.Label.of("red shoe with a long blue heel and white laces and a green sole and buckles"));
            List<String> w = LabelCheck.warnings(tok, 24, TextTokenizer.Policy.STICKY_EOS, labels, List.of("a photo of a {}."));
            assertEquals(2, w.size(), w.toString());
            assertTrue(w.get(0).startsWith("label '靴'") && w.get(0).contains("unknown"), w.toString());
            assertTrue(w.get(1).contains("1 of its 1 prompts are longer than the model's 24-token context"), w.toString());
        }
    }
}
