package io.lit4j.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.lit4j.LitException;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Checks a {@code tokenizer.json} before the native tokenizers library sees it. That library
 * aborts the whole JVM (a Rust panic across JNI), rather than reporting an error, on some
 * malformed files: JSON that its strict parser rejects inside the {@code decoder} section, and a
 * {@code Precompiled} normalizer whose {@code precompiled_charsmap} does not parse. So the file must
 * be strict JSON (no control characters in strings, no trailing data), nested at most
 * {@value #MAX_DEPTH} deep, with finite numbers, no lone surrogates, and well-formed charsmaps.
 */
final class TokenizerFile {
    /** serde_json refuses deeper documents (its limit is 128). */
    static final int MAX_DEPTH = 100;

    private TokenizerFile() {
    }

    /** The parsed root object, or a {@link LitException} naming {@code file} and what is wrong. */
    static JsonObject parse(String json, Path file) {
        JsonElement root;
        try {
            JsonReader reader = new JsonReader(new StringReader(json));
            reader.setStrictness(Strictness.STRICT);
            root = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new LitException(file + ": not a tokenizer.json (data after the JSON object)");
            }
        } catch (LitException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new LitException(file + ": not a tokenizer.json (not strict JSON: " + jsonProblem(e) + ")", e);
        }
        if (!root.isJsonObject()) {
            throw new LitException(file + ": not a tokenizer.json (expected a JSON object)");
        }
        check(root, "$", 0, file);
        return root.getAsJsonObject();
    }

    /** Gson's message in one line, without its advice to parse leniently. */
    private static String jsonProblem(Exception e) {
        Throwable c = e.getCause() != null && e.getMessage() != null && e.getMessage().startsWith(e.getCause().getClass().getName())
                ? e.getCause() : e;
        String m = String.valueOf(c.getMessage());
        int nl = m.indexOf('\n');
        return (nl < 0 ? m : m.substring(0, nl)).replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON",
                "malformed JSON").strip();
    }

    private static void check(JsonElement e, String where, int depth, Path file) {
        if (depth > MAX_DEPTH) {
            throw new LitException(file + ": not a tokenizer.json (nested more than " + MAX_DEPTH + " deep at " + where + ")");
        }
        if (e.isJsonObject()) {
            JsonObject o = e.getAsJsonObject();
            for (Map.Entry<String, JsonElement> m : o.entrySet()) {
                checkString(m.getKey(), where, file);
                check(m.getValue(), where + "." + m.getKey(), depth + 1, file);
            }
            JsonElement type = o.get("type");
            if (type != null && type.isJsonPrimitive() && type.getAsString().equals("Precompiled")) {
                checkCharsmap(o.get("precompiled_charsmap"), where, file);
            }
        } else if (e.isJsonArray()) {
            int i = 0;
            for (JsonElement x : e.getAsJsonArray()) {
                check(x, where + "[" + i++ + "]", depth + 1, file);
            }
        } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            if (!Double.isFinite(e.getAsDouble())) {
                throw new LitException(file + ": not a tokenizer.json (number out of range at " + where + ": " + e + ")");
            }
        } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            checkString(e.getAsString(), where, file);
        }
    }

    private static void checkString(String s, String where, Path file) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new LitException(file + ": not a tokenizer.json (a lone surrogate \\u" + Integer.toHexString(c)
                        + " in a string at " + where + ")");
            }
        }
    }

    /**
     * What the tokenizers library parses: base64 of a u32 trie size, that many bytes of a double-array
     * trie, then UTF-8 text. The trie is walked as its lookups walk it (keys of up to 5 bytes: a
     * grapheme or one character) to make sure no lookup indexes past the trie or into the text
     * off a character boundary, either of which aborts the JVM.
     */
    private static void checkCharsmap(JsonElement map, String where, Path file) {
        String why;
        if (map == null || !map.isJsonPrimitive() || !map.getAsJsonPrimitive().isString()) {
            why = "missing or not a string";
        } else {
            try {
                byte[] b = Base64.getDecoder().decode(map.getAsString());
                if (!Base64.getEncoder().encodeToString(b).equals(map.getAsString())) {
                    throw new IllegalArgumentException("not canonical");
                }
                why = charsmapProblem(b);
            } catch (IllegalArgumentException e) {
                why = "not base64";
            }
        }
        if (why != null) {
            throw new LitException(file + ": not a usable tokenizer.json (the Precompiled normalizer's precompiled_charsmap at "
                    + where + " has " + why + ")");
        }
    }

    /**
     * What is wrong with a charsmap's bytes (as a SentencePiece model stores them, and a
     * tokenizer.json in base64), or null when it is safe to hand to a native library.
     */
    static String charsmapProblem(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long trieBytes = b.length < 4 ? -1 : bb.getInt(0) & 0xFFFFFFFFL;
        if (trieBytes < 4 || trieBytes / 4 * 4 > b.length - 4) {
            return "a trie that is empty or runs past the end";
        }
        int units = (int) (trieBytes / 4);
        long[] trie = new long[units];
        for (int i = 0; i < units; i++) {
            trie[i] = bb.getInt(4 + 4 * i) & 0xFFFFFFFFL;
        }
        int text = 4 + 4 * units;
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b, text, b.length - text));
        } catch (CharacterCodingException e) {
            return "text that is not UTF-8";
        }
        return trieProblem(trie, b, text);
    }

    /** Null when every lookup of up to 5 bytes stays inside the trie and lands on a character of the text. */
    private static String trieProblem(long[] trie, byte[] b, int text) {
        int textLen = b.length - text;
        Set<Long> level = new HashSet<>(Set.of(offset(trie[0])));
        Set<Long> seen = new HashSet<>(level);
        for (int depth = 0; depth < 5 && !level.isEmpty(); depth++) {
            Set<Long> next = new HashSet<>();
            for (long p : level) {
                for (int c = 1; c < 256; c++) {
                    long q = p ^ c;
                    if (q >= trie.length) {
                        return "a trie node that points past its end";
                    }
                    long unit = trie[(int) q];
                    if ((unit & ((1L << 31) | 0xFF)) != c) {
                        continue;
                    }
                    long child = q ^ offset(unit);
                    if (((unit >> 8) & 1) == 1) {
                        if (child >= trie.length) {
                            return "a trie leaf past its end";
                        }
                        long v = trie[(int) child] & ((1L << 31) - 1);
                        if (v > textLen || (v < textLen && (b[text + (int) v] & 0xC0) == 0x80)) {
                            return "a trie value outside its text";
                        }
                    }
                    if (seen.add(child)) {
                        next.add(child);
                    }
                }
            }
            level = next;
        }
        return null;
    }

    private static long offset(long unit) {
        return (unit >> 10) << ((unit & (1 << 9)) >> 6);
    }
}
