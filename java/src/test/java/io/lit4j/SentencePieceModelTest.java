package io.lit4j;

import com.google.gson.JsonObject;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.model.Precision;
import io.lit4j.model.Presets;
import io.lit4j.model.TwoTower;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A lit4j model folder whose text tower reads a SentencePiece vocabulary: saved with its
 * {@value TextTokenizer#CONVENTIONS} and {@code .model}, it loads with no flags, frames texts as
 * declared (big_vision's sticky EOS, padded with EOS, lowercased) and embeds them.
 */
class SentencePieceModelTest {
    static final Path SPM = Path.of("src/test/resources/golden/spm");

    @TempDir
    Path tmp;

    @Test
    void aFolderWithASentencePieceVocabularyLoadsWithNoFlags() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.copy(SPM.resolve("tiny.model"), src.resolve("spiece.model"));
        JsonObject conv = new JsonObject();
        conv.addProperty("tokenizer", "spiece.model");
        conv.addProperty("eos", "sticky");
        conv.addProperty("pad_id", 1);
        conv.addProperty("lowercase", true);
        Files.writeString(src.resolve(TextTokenizer.CONVENTIONS), conv.toString());
        Path model = tmp.resolve("model");
        try (ScalarBackend be = new ScalarBackend(); TwoTower m = TwoTower.allocate(be, Presets.pair("smoke"))) {
            LitFormat.save(m, model, src.resolve(TextTokenizer.CONVENTIONS));
        }
        assertTrue(Files.isRegularFile(model.resolve("spiece.model")) && Files.isRegularFile(model.resolve(TextTokenizer.CONVENTIONS)));
        try (LitModel m = LitModel.load(model, new LitModel.Options("scalar", 1, Precision.FP32, null, 1))) {
            TextTokenizer t = m.tokenizer();
            assertEquals(8, m.config().text().contextLength());
            TokenBatch b = t.encode(List.of("two BLUE squares"), 8, m.config().text().tokenPolicy());
            // make_sentencepiece_golden.py, setting sticky_pad1_lower_8
            assertArrayEquals(new int[] {5, 21, 12, 36, 32, 6, 1, 1}, b.ids());
            float[] z = m.embedText("two BLUE squares");
            assertEquals(m.embedDim(), z.length);
        }
    }
}
