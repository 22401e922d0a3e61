package io.lit4j.data;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.io.AtomicFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Makes a BERT-style WordPiece {@code tokenizer.json} (HuggingFace tokenizers format), so lit4j
 * can train its own text tower offline.
 *
 * <p>The file has the BERT normaliser (clean text, CJK spacing, accent stripping, lowercasing),
 * the BERT pre-tokeniser (whitespace and punctuation), a WordPiece model with {@code [UNK]} and
 * {@code ##} continuations, and BERT's {@code [CLS] ... [SEP]} post-processor for other tools
 * (lit4j's {@link TextTokenizer} adds its own framing instead).
 *
 * <p>Vocabulary built by {@link #build}, in id order: {@code [PAD]=0, [UNK]=1, [CLS]=2,
 * [SEP]=3, [MASK]=4}; every character seen, in code point order; the {@code ##} form of each;
 * then the most frequent whole words (two characters or more) and the most frequent {@code ##}
 * suffixes shared by two or more distinct words, ranked together by occurrence count (ties: words
 * first, then by string), up to the requested size. Since every character is there, no word made
 * of seen characters is ever {@code [UNK]} (except words over 100 characters, WordPiece's limit).
 */
public final class TokenizerBuilder {
    /** The specials, with their ids. */
    public static final List<String> SPECIALS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
    /** WordPiece's {@code max_input_chars_per_word}. */
    public static final int MAX_WORD_CHARS = 100;
    private static final Set<String> SPECIAL_LIKE = Set.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "<s>", "</s>", "<eos>", "<pad>", "<unk>");

    private TokenizerBuilder() {
    }

    /**
     * Builds a vocabulary of at most {@code vocabSize} tokens from {@code corpus} (captions,
     * class names, prompts) and writes {@code out} atomically. Returns the vocabulary size, which
     * is smaller than asked when the corpus has fewer candidates. Throws when {@code vocabSize}
     * cannot hold the specials and every character (the message says how many are needed).
     */
    public static int build(Iterable<String> corpus, int vocabSize, Path out) {
        Map<String, Long> words = new HashMap<>();
        for (String text : corpus) {
            for (String w : preTokenize(normalize(text))) {
                words.merge(w, 1L, Long::sum);
            }
        }
        TreeSet<Integer> chars = new TreeSet<>();
        for (String w : words.keySet()) {
            w.codePoints().forEach(chars::add);
        }
        int minimum = SPECIALS.size() + 2 * chars.size();
        if (vocabSize < minimum) {
            throw new LitException("tokenizer: a vocabulary of " + vocabSize + " cannot hold the " + SPECIALS.size()
                    + " specials and the " + chars.size() + " characters of the corpus with their ## forms: ask for at least "
                    + minimum);
        }
        LinkedHashSet<String> vocab = new LinkedHashSet<>(SPECIALS);
        for (int c : chars) {
            vocab.add(new String(Character.toChars(c)));
        }
        for (int c : chars) {
            vocab.add("##" + new String(Character.toChars(c)));
        }

        // candidates: whole words, and ## suffixes shared by >= 2 distinct words
        Map<String, Long> suffixCount = new HashMap<>();
        Map<String, Integer> suffixWords = new HashMap<>();
        for (Map.Entry<String, Long> e : words.entrySet()) {
            String w = e.getKey();
            int[] cps = w.codePoints().toArray();
            if (cps.length > MAX_WORD_CHARS) {
                continue;
            }
            for (int k = 1; k <= cps.length - 2; k++) {
                String suffix = "##" + new String(cps, k, cps.length - k);
                suffixCount.merge(suffix, e.getValue(), Long::sum);
                suffixWords.merge(suffix, 1, Integer::sum);
            }
        }
        record Candidate(String token, long count, boolean word) {
        }
        List<Candidate> candidates = new ArrayList<>();
        for (Map.Entry<String, Long> e : words.entrySet()) {
            int len = e.getKey().codePointCount(0, e.getKey().length());
            if (len >= 2 && len <= MAX_WORD_CHARS) {
                candidates.add(new Candidate(e.getKey(), e.getValue(), true));
            }
        }
        for (Map.Entry<String, Long> e : suffixCount.entrySet()) {
            if (suffixWords.get(e.getKey()) >= 2) {
                candidates.add(new Candidate(e.getKey(), e.getValue(), false));
            }
        }
        candidates.sort(Comparator.comparingLong(Candidate::count).reversed()
                .thenComparing(c -> !c.word())
                .thenComparing(Candidate::token));
        for (Candidate c : candidates) {
            if (vocab.size() >= vocabSize) {
                break;
            }
            vocab.add(c.token());
        }
        List<String> list = new ArrayList<>(vocab);
        writeWordPiece(list, true, out);
        return list.size();
    }

    /**
     * Writes a WordPiece {@code tokenizer.json} for an explicit vocabulary (id = position).
     * {@code [UNK]} is required; the BERT specials and {@code <s> </s> <eos> <pad> <unk>} present
     * are marked special. {@code lowercase} selects an uncased (lowercase + strip accents) or
     * cased normaliser.
     */
    public static void writeWordPiece(List<String> vocab, boolean lowercase, Path out) {
        if (!vocab.contains("[UNK]")) {
            throw new LitException("tokenizer: the vocabulary needs an [UNK] token");
        }
        Set<String> seen = new HashSet<>();
        for (String t : vocab) {
            if (t == null || t.isEmpty()) {
                throw new LitException("tokenizer: empty token at id " + seen.size());
            }
            if (!seen.add(t)) {
                throw new LitException("tokenizer: token '" + t + "' appears twice in the vocabulary");
            }
        }
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        for (int i = 0; i < vocab.size(); i++) {
            if (SPECIAL_LIKE.contains(vocab.get(i))) {
                JsonObject t = new JsonObject();
                t.addProperty("id", i);
                t.addProperty("content", vocab.get(i));
                t.addProperty("single_word", false);
                t.addProperty("lstrip", false);
                t.addProperty("rstrip", false);
                t.addProperty("normalized", false);
                t.addProperty("special", true);
                added.add(t);
            }
        }
        root.add("added_tokens", added);
        JsonObject norm = new JsonObject();
        norm.addProperty("type", "BertNormalizer");
        norm.addProperty("clean_text", true);
        norm.addProperty("handle_chinese_chars", true);
        norm.addProperty("strip_accents", lowercase);
        norm.addProperty("lowercase", lowercase);
        root.add("normalizer", norm);
        JsonObject pre = new JsonObject();
        pre.addProperty("type", "BertPreTokenizer");
        root.add("pre_tokenizer", pre);
        int cls = vocab.indexOf("[CLS]");
        int sep = vocab.indexOf("[SEP]");
        if (cls >= 0 && sep >= 0) {
            JsonObject post = new JsonObject();
            post.addProperty("type", "BertProcessing");
            JsonArray s = new JsonArray();
            s.add("[SEP]");
            s.add(sep);
            JsonArray c = new JsonArray();
            c.add("[CLS]");
            c.add(cls);
            post.add("sep", s);
            post.add("cls", c);
            root.add("post_processor", post);
        } else {
            root.add("post_processor", JsonNull.INSTANCE);
        }
        JsonObject dec = new JsonObject();
        dec.addProperty("type", "WordPiece");
        dec.addProperty("prefix", "##");
        dec.addProperty("cleanup", true);
        root.add("decoder", dec);
        JsonObject model = new JsonObject();
        model.addProperty("type", "WordPiece");
        model.addProperty("unk_token", "[UNK]");
        model.addProperty("continuing_subword_prefix", "##");
        model.addProperty("max_input_chars_per_word", MAX_WORD_CHARS);
        JsonObject v = new JsonObject();
        for (int i = 0; i < vocab.size(); i++) {
            v.addProperty(vocab.get(i), i);
        }
        model.add("vocab", v);
        root.add("model", model);
        String json = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create().toJson(root) + "\n";
        try {
            AtomicFile.writeString(out, json);
        } catch (IOException e) {
            throw new LitException(out + ": cannot write tokenizer: " + e, e);
        }
    }

    /** Converts a BERT {@code vocab.txt} (one token per line, id = line number) to a tokenizer.json. */
    public static void fromVocabTxt(Path vocabTxt, boolean lowercase, Path out) {
        List<String> lines;
        try {
            lines = Files.readAllLines(vocabTxt, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LitException(vocabTxt + ": cannot read: " + e, e);
        }
        List<String> vocab = new ArrayList<>(lines.size());
        for (String l : lines) {
            String t = l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
            vocab.add(t);
        }
        while (!vocab.isEmpty() && vocab.get(vocab.size() - 1).isEmpty()) {
            vocab.remove(vocab.size() - 1); // trailing blank lines
        }
        writeWordPiece(vocab, lowercase, out);
    }

    // ------------------------------------------------------------- BERT text rules (for counting)

    /** HF's BertNormalizer with clean_text, handle_chinese_chars, strip_accents and lowercase on. */
    static String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                return;
            }
            if (isWhitespace(c)) {
                sb.append(' ');
            } else if (isChinese(c)) {
                sb.append(' ').appendCodePoint(c).append(' ');
            } else {
                sb.appendCodePoint(c);
            }
        });
        String nfd = Normalizer.normalize(sb, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(nfd.length());
        nfd.codePoints().forEach(c -> {
            if (Character.getType(c) != Character.NON_SPACING_MARK) {
                out.append(new String(Character.toChars(c)).toLowerCase(Locale.ROOT));
            }
        });
        return out.toString();
    }

    /** HF's BertPreTokenizer: split on whitespace, punctuation characters become their own words. */
    static List<String> preTokenize(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (isWhitespace(c)) {
                flush(cur, out);
            } else if (isPunctuation(c)) {
                flush(cur, out);
                out.add(new String(Character.toChars(c)));
            } else {
                cur.appendCodePoint(c);
            }
        });
        flush(cur, out);
        return out;
    }

    private static void flush(StringBuilder cur, List<String> out) {
        if (!cur.isEmpty()) {
            out.add(cur.toString());
            cur.setLength(0);
        }
    }

    private static boolean isWhitespace(int c) {
        return c == '\t' || c == '\n' || c == '\r' || Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    private static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
                || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    private static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
            return true;
        }
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION
                || t == Character.START_PUNCTUATION || t == Character.END_PUNCTUATION
                || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION
                || t == Character.OTHER_PUNCTUATION;
    }

    private static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
