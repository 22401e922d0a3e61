package io.lit4j.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Text to token ids for the text tower: a HuggingFace {@code tokenizer.json} (through DJL's
 * bundled native tokenizers library, offline) with lit4j's own framing. DJL adds no special
 * tokens, truncates nothing and pads nothing; the {@link Policy} does that.
 *
 * <p>Thread-safe: encoding may run on many threads at once; {@link #close()} waits for them.
 */
public final class TextTokenizer implements AutoCloseable {
    /** How ids are framed and padded to the context length. */
    public enum Policy {
        /**
         * big_vision's LiT BERT preprocessing: {@code [CLS]} + WordPiece ids, no {@code [SEP]},
         * truncated to the context, padded with 0.
         */
        BERT,
        /**
         * HuggingFace's BertTokenizer, as sentence-transformers models were trained:
         * {@code [CLS]} + WordPiece ids + {@code [SEP]}, the ids truncated to {@code context - 2}
         * so {@code [SEP]} always ends the text, padded with 0.
         */
        BERT_SEP,
        /**
         * big_vision's text transformer ({@code eos="sticky"}, padded with EOS): ids + EOS,
         * truncated to {@code context - 1} ids so the last real token is always EOS, padded with
         * EOS. The EOS token is {@code [SEP]}, {@code </s>} or {@code <eos>}, the first the
         * vocabulary has.
         */
        STICKY_EOS
    }

    /**
     * A batch and, per row, whether the text did not fit (it is truncated in the batch) and its
     * untruncated length including the policy's special tokens.
     */
    public record Encoded(TokenBatch batch, boolean[] tooLong, int[] lengths) {
        public int tooLongCount() {
            int n = 0;
            for (boolean b : tooLong) {
                n += b ? 1 : 0;
            }
            return n;
        }
    }

    /** One text framed to the context. */
    record Single(int[] ids, int length, boolean tooLong) {
    }

    private static final List<String> EOS_CANDIDATES = List.of("[SEP]", "</s>", "<eos>");

    private final Path path;
    private final HuggingFaceTokenizer hf;
    private final Map<String, Integer> vocab;
    private final int vocabSize;
    private final String sha256;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private TextTokenizer(Path path, HuggingFaceTokenizer hf, Map<String, Integer> vocab, int vocabSize, String sha256) {
        this.path = path;
        this.hf = hf;
        this.vocab = vocab;
        this.vocabSize = vocabSize;
        this.sha256 = sha256;
    }

    /**
     * Loads a {@code tokenizer.json} (or the one in the given folder).
     *
     * <p>Unless the {@code OPT_OUT_TRACKING} system property or environment variable is already
     * set, this sets the system property to {@code true}: DJL otherwise probes the EC2 metadata
     * endpoint for telemetry when a tokenizer is created, which an offline trainer should not do.
     */
    public static TextTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new LitException(file + ": cannot read tokenizer: " + e, e);
        }
        String json = new String(bytes, StandardCharsets.UTF_8);
        Map<String, Integer> vocab = new HashMap<>();
        int size = readVocab(json, file, vocab);
        if (System.getProperty("OPT_OUT_TRACKING") == null && System.getenv("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(file, Map.of(
                    "addSpecialTokens", "false",
                    "truncation", "false",
                    "padding", "false",
                    "withOverflowingTokens", "false"));
        } catch (IOException | RuntimeException e) {
            throw new LitException(file + ": the tokenizers library cannot load it: " + e.getMessage(), e);
        }
        return new TextTokenizer(file, hf, Map.copyOf(vocab), size, sha256(bytes));
    }

    /** Fills {@code vocab} from the model's vocabulary and {@code added_tokens}; returns max id + 1. */
    private static int readVocab(String json, Path file, Map<String, Integer> vocab) {
        JsonObject root = TokenizerFile.parse(json, file);
        JsonElement model = root.get("model");
        if (model == null || !model.isJsonObject()) {
            throw new LitException(file + ": not a tokenizer.json (no \"model\" object)");
        }
        JsonElement v = model.getAsJsonObject().get("vocab");
        int max = -1;
        try {
            if (v != null && v.isJsonObject()) { // WordPiece, WordLevel, BPE
                for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
                    int id = tokenId(e.getValue(), file, "model.vocab['" + e.getKey() + "']");
                    vocab.put(e.getKey(), id);
                    max = Math.max(max, id);
                }
            } else if (v != null && v.isJsonArray()) { // Unigram: [[piece, score], ...]
                JsonArray a = v.getAsJsonArray();
                for (int i = 0; i < a.size(); i++) {
                    vocab.putIfAbsent(a.get(i).getAsJsonArray().get(0).getAsString(), i);
                }
                max = a.size() - 1;
            } else {
                throw new LitException(file + ": tokenizer model has no vocabulary");
            }
            JsonElement added = root.get("added_tokens");
            if (added != null && added.isJsonArray()) {
                for (JsonElement t : added.getAsJsonArray()) {
                    JsonObject o = t.getAsJsonObject();
                    int id = tokenId(o.get("id"), file, "added_tokens[].id");
                    String content = o.get("content").getAsString();
                    if (content.length() > MAX_ADDED_TOKEN_CHARS) {
                        throw new LitException(file + ": added_tokens[].content of token " + id + " is " + content.length()
                                + " characters long; expected at most " + MAX_ADDED_TOKEN_CHARS);
                    }
                    vocab.putIfAbsent(content, id);
                    max = Math.max(max, id);
                }
            }
        } catch (IllegalStateException | UnsupportedOperationException | NullPointerException | NumberFormatException e) {
            throw new LitException(file + ": malformed vocabulary in tokenizer.json (" + e + ")", e);
        }
        return max + 1;
    }

    /** The most ids a vocabulary may have: a text tower's embedding table holds one row per id. */
    static final int MAX_VOCAB = 1 << 24;

    /**
     * The longest added token accepted: the tokenizers library takes time quadratic in their length
     * to load (a minute for 70,000 characters); real ones are a few dozen characters.
     */
    static final int MAX_ADDED_TOKEN_CHARS = 512;

    /** A token id: a whole number from 0 to {@link #MAX_VOCAB} - 1; otherwise an error naming the field. */
    private static int tokenId(JsonElement e, Path file, String field) {
        if (e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            double d = e.getAsDouble();
            if (d == Math.rint(d) && d >= 0 && d < MAX_VOCAB) {
                return (int) d;
            }
        }
        throw new LitException(file + ": " + field + " should be a token id from 0 to " + (MAX_VOCAB - 1) + ", got " + e);
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The file loaded. */
    public Path path() {
        return path;
    }

    /** SHA-256 of the tokenizer.json bytes, hex: identifies the tokenizer in checkpoints and caches. */
    public String sha256() {
        return sha256;
    }

    /** Largest id + 1 (the text tower's embedding rows must be at least this many). */
    public int vocabSize() {
        return vocabSize;
    }

    /** The id of a token in the vocabulary (including added tokens); {@link LitException} if absent. */
    public int id(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new LitException(path + ": token '" + token + "' is not in the vocabulary");
        }
        return id;
    }

    public boolean has(String token) {
        return vocab.containsKey(token);
    }

    /** The EOS id {@link Policy#STICKY_EOS} uses, if the vocabulary has one. */
    public OptionalInt eosId() {
        for (String t : EOS_CANDIDATES) {
            Integer id = vocab.get(t);
            if (id != null) {
                return OptionalInt.of(id);
            }
        }
        return OptionalInt.empty();
    }

    /** The raw ids of a text: normalised, pre-tokenised and split by the model, no special tokens. */
    public int[] ids(String text) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new LitException(path + ": tokenizer is closed");
            }
            long[] ids = hf.encode(text, false, false).getIds();
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = Math.toIntExact(ids[i]);
            }
            return out;
        } catch (LitException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new LitException(path + ": cannot tokenize text of " + text.length() + " chars: " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The token strings of a text (no special tokens), for display and debugging. */
    public List<String> tokens(String text) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new LitException(path + ": tokenizer is closed");
            }
            return List.of(hf.encode(text, false, false).getTokens());
        } catch (LitException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new LitException(path + ": cannot tokenize text of " + text.length() + " chars: " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Ids back to text; padding ({@code 0} under BERT) and special tokens are skipped. */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        lock.readLock().lock();
        try {
            if (closed) {
                throw new LitException(path + ": tokenizer is closed");
            }
            return hf.decode(l, true);
        } catch (LitException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new LitException(path + ": cannot decode " + ids.length + " ids: " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Encodes a batch; texts that do not fit are truncated (use {@link #encodeChecked} to know which). */
    public TokenBatch encode(List<String> texts, int contextLength, Policy policy) {
        return encodeChecked(texts, contextLength, policy).batch();
    }

    /** Encodes a batch and says which rows were too long for the context (truncated in the batch). */
    public Encoded encodeChecked(List<String> texts, int contextLength, Policy policy) {
        int[] ids = new int[Math.multiplyExact(texts.size(), checkContext(contextLength, policy))];
        boolean[] tooLong = new boolean[texts.size()];
        int[] lengths = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            Single s = encodeSingle(texts.get(i), contextLength, policy);
            System.arraycopy(s.ids(), 0, ids, i * contextLength, contextLength);
            tooLong[i] = s.tooLong();
            lengths[i] = s.length();
        }
        return new Encoded(new TokenBatch(ids, texts.size(), contextLength), tooLong, lengths);
    }

    private int checkContext(int contextLength, Policy policy) {
        int min = policy == Policy.BERT_SEP ? 3 : 2;
        if (contextLength < min) {
            throw new LitException("tokenizer: context length " + contextLength + " < " + min
                    + " leaves no room for a token next to the " + (policy == Policy.STICKY_EOS ? "EOS" : "[CLS]"));
        }
        return contextLength;
    }

    /**
     * Characters tokenized per token of context: a longer text is cut to {@code contextLength} times
     * this before tokenizing (and counts as too long), so a huge caption costs no more than a long one.
     */
    static final int CHARS_PER_TOKEN = 64;

    /** One text framed under {@code policy}. */
    Single encodeSingle(String text, int contextLength, Policy policy) {
        checkContext(contextLength, policy);
        int maxChars = contextLength * CHARS_PER_TOKEN;
        boolean cut = text.length() > maxChars;
        if (cut) {
            int end = Character.isHighSurrogate(text.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
            text = text.substring(0, end);
        }
        int[] raw = ids(text);
        int[] out = new int[contextLength];
        switch (policy) {
            case BERT -> {
                Integer cls = vocab.get("[CLS]");
                if (cls == null) {
                    throw new LitException(path + ": policy BERT needs a [CLS] token and the vocabulary has none");
                }
                out[0] = cls;
                int n = Math.min(raw.length, contextLength - 1);
                System.arraycopy(raw, 0, out, 1, n);
                // the rest stays 0
                return new Single(out, raw.length + 1, cut || raw.length + 1 > contextLength);
            }
            case BERT_SEP -> {
                Integer cls = vocab.get("[CLS]"), sep = vocab.get("[SEP]");
                if (cls == null || sep == null) {
                    throw new LitException(path + ": policy BERT_SEP needs [CLS] and [SEP] tokens and the vocabulary lacks "
                            + (cls == null ? "[CLS]" : "[SEP]"));
                }
                int n = Math.min(raw.length, contextLength - 2);
                out[0] = cls;
                System.arraycopy(raw, 0, out, 1, n);
                out[n + 1] = sep;
                // the rest stays 0
                return new Single(out, raw.length + 2, cut || raw.length + 2 > contextLength);
            }
            case STICKY_EOS -> {
                int eos = eosId().orElseThrow(() -> new LitException(path
                        + ": policy STICKY_EOS needs an EOS token ([SEP], </s> or <eos>) and the vocabulary has none"));
                int n = Math.min(raw.length, contextLength - 1);
                System.arraycopy(raw, 0, out, 0, n);
                Arrays.fill(out, n, contextLength, eos);
                return new Single(out, raw.length + 1, cut || raw.length + 1 > contextLength);
            }
            default -> throw new IllegalArgumentException(String.valueOf(policy));
        }
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                hf.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "TextTokenizer[" + path + ", vocab " + vocabSize + "]";
    }
}
