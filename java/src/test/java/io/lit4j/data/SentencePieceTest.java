package io.lit4j.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SentencePiece vocabularies against Python's SentencePiece (java/src/test/reference/
 * make_sentencepiece_golden.py, a tiny unigram model trained by spm_train): the {@code .model}
 * through DJL's sentencepiece and the same vocabulary as a Unigram {@code tokenizer.json} through
 * DJL's tokenizers give Python's ids; a folder's {@value TextTokenizer#CONVENTIONS} frames them as
 * big_vision's preprocessing does (eos none / yes / sticky, pad id, lowercasing).
 */
class SentencePieceTest {
    static final Path SPM = Path.of("src/test/resources/golden/spm");

    @TempDir
    Path tmp;

    record Case(String text, JsonObject ids) {
    }

    static JsonObject expected() throws IOException {
        return JsonParser.parseString(Files.readString(SPM.resolve("expected.json"))).getAsJsonObject();
    }

    static List<Case> cases() throws IOException {
        List<Case> c = new ArrayList<>();
        for (JsonElement e : expected().getAsJsonArray("texts")) {
            c.add(new Case(e.getAsJsonObject().get("text").getAsString(), e.getAsJsonObject()));
        }
        return c;
    }

    static int[] ints(JsonArray a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).getAsInt();
        }
        return r;
    }

    @Test
    void aModelFileAndItsUnigramTokenizerJsonGivePythonsIds() throws IOException {
        for (Path f : new Path[] {SPM.resolve("tiny.model"), SPM.resolve("tokenizer.json")}) {
            try (TextTokenizer t = TextTokenizer.load(f)) {
                assertEquals(60, t.vocabSize(), f.toString());
                for (Case c : cases()) {
                    assertArrayEquals(ints(c.ids().getAsJsonArray("raw")), t.ids(c.text()), f.getFileName() + ": '" + c.text() + "'");
                }
            }
        }
        try (TextTokenizer t = TextTokenizer.load(SPM.resolve("tiny.model"))) {
            assertEquals(1, t.eosId().orElseThrow(), "the model's own eos_id");
            assertEquals("a red circle on the left.", t.decode(t.ids("a red circle on the left.")));
        }
    }

    @Test
    void aFolderDeclaresItsTokenizerAndBigVisionsConventions() throws IOException {
        for (JsonElement s : expected().getAsJsonArray("settings")) {
            JsonObject setting = s.getAsJsonObject();
            Path dir = Files.createDirectories(tmp.resolve(setting.get("name").getAsString()));
            Files.copy(SPM.resolve("tiny.model"), dir.resolve("spiece.model"));
            JsonObject conv = new JsonObject();
            conv.addProperty("tokenizer", "spiece.model");
            conv.addProperty("eos", setting.get("eos").getAsString());
            conv.addProperty("pad_id", setting.get("pad_id").getAsInt());
            conv.addProperty("lowercase", setting.get("lowercase").getAsBoolean());
            Files.writeString(dir.resolve(TextTokenizer.CONVENTIONS), conv.toString());
            int len = setting.get("max_len").getAsInt();
            try (TextTokenizer t = TextTokenizer.load(dir)) {
                assertTrue(t.conventions().isPresent());
                assertEquals(List.of(dir.resolve(TextTokenizer.CONVENTIONS), dir.resolve("spiece.model")), t.files());
                for (Case c : cases()) {
                    // the declared conventions frame the ids whatever policy the tower would use
                    for (TextTokenizer.Policy p : TextTokenizer.Policy.values()) {
                        TokenBatch b = t.encode(List.of(c.text()), len, p);
                        assertArrayEquals(ints(c.ids().getAsJsonArray(setting.get("name").getAsString())), b.ids(),
                                setting.get("name").getAsString() + ": '" + c.text() + "'");
                    }
                }
            }
        }
    }

    @Test
    void badConventionsNameTheField() throws IOException {
        Files.copy(SPM.resolve("tiny.model"), tmp.resolve("spiece.model"));
        Path f = tmp.resolve(TextTokenizer.CONVENTIONS);
        String[][] bad = {
                {"{\"tokenizer\": \"spiece.model\", \"eos\": \"always\", \"pad_id\": 1}", "'eos'"},
                {"{\"tokenizer\": \"spiece.model\", \"eos\": \"sticky\", \"pad_id\": 99}", "pad_id 99"},
                {"{\"tokenizer\": \"spiece.model\", \"eos\": \"sticky\"}", "'pad_id'"},
                {"{\"tokenizer\": \"../spiece.model\", \"pad_id\": 1}", "'tokenizer'"},
                {"{\"tokenizer\": \"spiece.model\", \"pad_id\": 1, \"max_len\": 64}", "'max_len'"},
                {"{\"tokenizer\": \"spiece.model\", \"pad_id\": 1, \"lowercase\": \"yes\"}", "'lowercase'"},
        };
        for (String[] b : bad) {
            Files.writeString(f, b[0]);
            String m = assertThrows(LitException.class, () -> TextTokenizer.load(tmp).close()).getMessage();
            assertTrue(m.contains(TextTokenizer.CONVENTIONS) && m.contains(b[1]) && !m.contains("\n"), b[0] + " -> " + m);
        }
    }
}
