package io.lit4j.data;

import io.lit4j.LitException;
import io.lit4j.data.TextTokenizer.Policy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {
    @TempDir
    Path tmp;

    static final List<String> HAND = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "a", "photo", "of", "dog", "##s", "cat", "d", "##o", "##g", ".");

    private TextTokenizer hand() {
        Path p = tmp.resolve("hand.json");
        TokenizerBuilder.writeWordPiece(HAND, true, p);
        return TextTokenizer.load(p);
    }

    @Test
    void exactIdsForAHandMadeVocabInBothPolicies() {
        try (TextTokenizer t = hand()) {
            assertEquals(15, t.vocabSize());
            assertEquals(8, t.id("dog"));
            assertEquals(3, t.eosId().orElseThrow());
            assertThrows(LitException.class, () -> t.id("zebra"));
            assertArrayEquals(new int[] {5, 6, 7, 8, 9, 14}, t.ids("A photo of dogs."));
            assertEquals(List.of("a", "photo", "of", "dog", "##s", "."), t.tokens("A photo of dogs."));
            assertArrayEquals(new int[] {1}, t.ids("zebra"), "unknown characters give [UNK]");
            assertArrayEquals(new int[] {11, 13, 12, 9}, t.ids("dgos"), "continuation pieces");

            List<String> texts = List.of("A photo of dogs.", "a cat", "");
            TokenBatch bert = t.encode(texts, 10, Policy.BERT);
            assertEquals(3, bert.batch());
            assertEquals(10, bert.length());
            assertArrayEquals(new int[] {
                2, 5, 6, 7, 8, 9, 14, 0, 0, 0,
                2, 5, 10, 0, 0, 0, 0, 0, 0, 0,
                2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, bert.ids());
            assertEquals(1f, bert.keepMask()[6]);
            assertEquals(0f, bert.keepMask()[7]);

            TokenBatch eos = t.encode(texts, 10, Policy.STICKY_EOS);
            assertArrayEquals(new int[] {
                5, 6, 7, 8, 9, 14, 3, 3, 3, 3,
                5, 10, 3, 3, 3, 3, 3, 3, 3, 3,
                3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, eos.ids());
        }
    }

    @Test
    void tooLongTextsAreTruncatedAndFlagged() {
        try (TextTokenizer t = hand()) {
            List<String> texts = List.of("A photo of dogs.", "a photo");
            TextTokenizer.Encoded b = t.encodeChecked(texts, 4, Policy.BERT);
            assertArrayEquals(new int[] {2, 5, 6, 7, 2, 5, 6, 0}, b.batch().ids());
            assertArrayEquals(new boolean[] {true, false}, b.tooLong());
            assertArrayEquals(new int[] {7, 3}, b.lengths());
            assertEquals(1, b.tooLongCount());

            TextTokenizer.Encoded e = t.encodeChecked(texts, 4, Policy.STICKY_EOS);
            assertArrayEquals(new int[] {5, 6, 7, 3, 5, 6, 3, 3}, e.batch().ids(), "EOS survives truncation");
            assertArrayEquals(new boolean[] {true, false}, e.tooLong());

            // exact fit is not too long
            assertFalse(t.encodeChecked(List.of("a photo"), 3, Policy.BERT).tooLong()[0]);
            assertFalse(t.encodeChecked(List.of("a photo"), 3, Policy.STICKY_EOS).tooLong()[0]);
            assertTrue(t.encodeChecked(List.of("a photo"), 2, Policy.STICKY_EOS).tooLong()[0]);
            assertThrows(LitException.class, () -> t.encode(List.of("a"), 1, Policy.BERT));

            // DJL must not truncate on its own: 600 words > DJL's default 512
            String longText = String.join(" ", java.util.Collections.nCopies(600, "dog"));
            assertEquals(600, t.ids(longText).length);
        }
    }

    @Test
    void eosChoiceAndMissingSpecials() {
        Path p = tmp.resolve("s.json");
        TokenizerBuilder.writeWordPiece(List.of("<pad>", "[UNK]", "a", "</s>", "b"), false, p);
        try (TextTokenizer t = TextTokenizer.load(p)) {
            assertEquals(3, t.eosId().orElseThrow());
            assertArrayEquals(new int[] {2, 4, 3, 3}, t.encode(List.of("a b"), 4, Policy.STICKY_EOS).ids());
            String m = assertThrows(LitException.class, () -> t.encode(List.of("a"), 4, Policy.BERT)).getMessage();
            assertTrue(m.contains("[CLS]"), m);
        }
        Path q = tmp.resolve("q.json");
        TokenizerBuilder.writeWordPiece(List.of("[CLS]", "[UNK]", "a"), false, q);
        try (TextTokenizer t = TextTokenizer.load(q)) {
            assertTrue(t.eosId().isEmpty());
            String m = assertThrows(LitException.class, () -> t.encode(List.of("a"), 4, Policy.STICKY_EOS)).getMessage();
            assertTrue(m.contains("EOS"), m);
            assertArrayEquals(new int[] {0, 2, 0, 0}, t.encode(List.of("a"), 4, Policy.BERT).ids());
        }
        assertThrows(LitException.class, () -> TokenizerBuilder.writeWordPiece(List.of("a", "b"), true, tmp.resolve("x.json")));
        assertThrows(LitException.class, () -> TokenizerBuilder.writeWordPiece(List.of("[UNK]", "a", "a"), true, tmp.resolve("x.json")));
        assertThrows(LitException.class, () -> TextTokenizer.load(tmp.resolve("absent.json")));
    }

    static final List<String> CORPUS = List.of(
            "a photo of a dog", "a photo of two dogs", "A cat on a mat.", "cats and dogs playing",
            "Café crème at the café", "running runner runs", "the dog is running", "北京 photo",
            "a blurry photo of a cat", "a photo of the small dog", "an origami dog", "mountains, rivers & lakes!");

    @Test
    void builtTokenizerLoadsAndRoundTripsWords() throws IOException {
        Path out = tmp.resolve("built/tokenizer.json");
        Files.createDirectories(out.getParent());
        int size = TokenizerBuilder.build(CORPUS, 200, out);
        assertTrue(size <= 200 && size > 60, "size " + size);
        try (TextTokenizer t = TextTokenizer.load(out.getParent())) {
            assertEquals(size, t.vocabSize());
            for (int i = 0; i < TokenizerBuilder.SPECIALS.size(); i++) {
                assertEquals(i, t.id(TokenizerBuilder.SPECIALS.get(i)));
            }
            int unk = t.id("[UNK]");
            for (String text : CORPUS) {
                for (String word : TokenizerBuilder.preTokenize(TokenizerBuilder.normalize(text))) {
                    int[] ids = t.ids(word);
                    assertFalse(Arrays.stream(ids).anyMatch(x -> x == unk), word + " -> " + Arrays.toString(ids));
                    assertEquals(word, t.decode(ids), "round trip of " + word);
                }
            }
            // frequent whole words are single tokens
            for (String w : List.of("photo", "dog", "cat", "of")) {
                assertEquals(1, t.ids(w).length, w);
            }
            // unseen words of seen characters are never [UNK]; accents are stripped
            int[] dogma = t.ids("dogma");
            assertFalse(Arrays.stream(dogma).anyMatch(x -> x == unk), Arrays.toString(dogma));
            assertEquals("dogma", t.decode(dogma));
            assertArrayEquals(t.ids("cafe creme"), t.ids("CAFÉ CRÈME"));
            assertEquals(List.of("北", "京"), t.tokens("北京"));
            // a sentence round-trips up to the BERT decoder's spacing of punctuation
            assertEquals("a photo of two dogs", t.decode(t.ids("A photo of two dogs")));
        }
        // deterministic
        Path again = tmp.resolve("again.json");
        TokenizerBuilder.build(CORPUS, 200, again);
        assertArrayEquals(Files.readAllBytes(out), Files.readAllBytes(again));

        String m = assertThrows(LitException.class, () -> TokenizerBuilder.build(CORPUS, 20, tmp.resolve("small.json"))).getMessage();
        assertTrue(m.contains("at least"), m);
    }

    @Test
    void vocabTxtConversionAndThreadSafety() throws Exception {
        Path vocab = tmp.resolve("vocab.txt");
        Files.write(vocab, HAND);
        Path json = tmp.resolve("fromtxt.json");
        TokenizerBuilder.fromVocabTxt(vocab, true, json);
        try (TextTokenizer t = TextTokenizer.load(json)) {
            assertArrayEquals(new int[] {5, 6, 7, 8, 9, 14}, t.ids("a photo of dogs."));
            int[] expected = t.encode(List.of("a photo of dogs.", "a cat"), 8, Policy.BERT).ids();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<int[]>> fs = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    fs.add(pool.submit(() -> t.encode(List.of("a photo of dogs.", "a cat"), 8, Policy.BERT).ids()));
                }
                for (Future<int[]> f : fs) {
                    assertArrayEquals(expected, f.get());
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(64, t.sha256().length());
        }
    }

    @Test
    void closedTokenizerRefuses() {
        TextTokenizer t = hand();
        t.close();
        t.close();
        assertThrows(LitException.class, () -> t.ids("a"));
    }
}
