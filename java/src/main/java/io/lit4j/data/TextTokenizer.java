package io.lit4j.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.sentencepiece.SpProcessor;
import ai.djl.sentencepiece.SpTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.io.Digests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Text to token ids for the text tower: a HuggingFace {@code tokenizer.json} (through DJL's
 * bundled native tokenizers library, offline) or a SentencePiece {@code .model} (through DJL's
 * sentencepiece library), with lit4j's own framing. The libraries add no special tokens,
 * truncate nothing and pad nothing; the {@link Policy} does that, or the {@link Conventions} a
 * model folder declares in {@value #CONVENTIONS} (big_vision's {@code eos}, pad id and lowercasing),
 * which then take the tower's place.
 *
 * <p>Thread-safe: encoding may run on many threads at once; {@link #close()} waits for them.
 */
public final class TextTokenizer implements AutoCloseable {
    /**
     * The file a model folder names its tokenizer and text conventions in, e.g.
     * {@code {"tokenizer": "spiece.model", "eos": "sticky", "pad_id": 1, "lowercase": true}}.
     */
    public static final String CONVENTIONS = "tokenizer_conventions.json";

    /**
     * big_vision's text preprocessing (big_vision/pp/ops_text.py, get_pp_tokenize and tokenize):
     * lowercase first if asked; {@code eos} "none" adds no EOS, "yes" appends it (a long text is cut
     * to the context, EOS and all), "sticky" appends it and keeps it last when a long text is cut;
     * shorter texts are padded with {@code padId}. {@code canonicalize}: transformers'
     * SiglipTokenizer.canonicalize_text (models/siglip/tokenization_siglip.py), after the
     * lowercasing: ASCII punctuation ({@code string.punctuation}) removed, whitespace runs made one
     * space, the ends stripped.
     */
    public record Conventions(Eos eos, int padId, boolean lowercase, boolean canonicalize) {
        /** big_vision's {@code eos} setting. */
        public enum Eos { NONE, YES, STICKY }

        /**
         * A {@link #padId} meaning "the SentencePiece model's own pad id", resolved when the model
         * is loaded (big_vision's {@code tok} op pads with {@code tokenizer.pad_token}:
         * big_vision/pp/proj/paligemma/ops.py, get_tokenize).
         */
        public static final int MODEL_PAD = -1;
        /**
         * A {@link #padId} meaning "the model's EOS id" (transformers' SiglipTokenizer pads with
         * {@code pad_token="</s>"}, its EOS: models/siglip/tokenization_siglip.py), resolved on load.
         */
        public static final int EOS_PAD = -2;

        /** big_vision's conventions (no canonicalisation). */
        public Conventions(Eos eos, int padId, boolean lowercase) {
            this(eos, padId, lowercase, false);
        }
    }
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
        STICKY_EOS,
        /**
         * OpenAI CLIP's tokenizer as transformers runs it ({@code CLIPTokenizer} with
         * {@code truncation=True}): {@code <|startoftext|>} + ids + {@code <|endoftext|>}, the ids
         * truncated to {@code context - 2} so the end-of-text token always fits, padded with
         * {@code <|endoftext|>} (the openai checkpoints' pad token; the tower pools at the first
         * end-of-text token and is causal, so what follows it never matters).
         */
        CLIP
    }

    /** CLIP's start- and end-of-text tokens. */
    public static final String CLIP_BOS = "<|startoftext|>", CLIP_EOS = "<|endoftext|>";

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

    /** The library that splits text into pieces: HF tokenizers or SentencePiece. */
    private interface Splitter extends AutoCloseable {
        int[] ids(String text);

        List<String> tokens(String text);

        String decode(int[] ids);

        @Override
        void close();
    }

    private final Path path;
    private final Splitter splitter;
    private final Map<String, Integer> vocab;
    private final int vocabSize;
    private final String sha256;
    private final Conventions declared;       // null: the tower's policy frames the ids
    private final OptionalInt declaredEos;    // SentencePiece's own eos_id
    private final List<Path> files;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private TextTokenizer(Path path, Splitter splitter, Map<String, Integer> vocab, int vocabSize, String sha256, Conventions declared,
                          OptionalInt declaredEos, List<Path> files) {
        this.path = path;
        this.splitter = splitter;
        this.vocab = vocab;
        this.vocabSize = vocabSize;
        this.sha256 = sha256;
        this.declared = declared;
        this.declaredEos = declaredEos;
        this.files = List.copyOf(files);
    }

    /**
     * Loads a {@code tokenizer.json}, a SentencePiece {@code .model}, a {@value #CONVENTIONS}, or
     * the tokenizer a folder holds ({@link #findIn}).
     *
     * <p>Unless the {@code OPT_OUT_TRACKING} system property or environment variable is already
     * set, this sets the system property to {@code true}: DJL otherwise probes the EC2 metadata
     * endpoint for telemetry when a tokenizer is created, which an offline trainer should not do.
     */
    public static TextTokenizer load(Path path) {
        return load(path, null);
    }

    /**
     * As {@link #load(Path)}, with {@code dflt} framing the ids when the file found is a SentencePiece
     * {@code .model} that no {@value #CONVENTIONS} accompanies: the conventions of the project the
     * checkpoint beside it comes from (big_vision's, or transformers' SiglipTokenizer), so such a
     * folder needs no flags. Null: as {@link #load(Path)}.
     */
    public static TextTokenizer load(Path path, Conventions dflt) {
        Path file = path;
        if (Files.isDirectory(path)) {
            file = findIn(path);
            if (file == null) {
                throw new LitException(path + ": no tokenizer in this folder (expected " + CONVENTIONS + ", tokenizer.json or one .model)");
            }
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null && System.getenv("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        String name = file.getFileName().toString();
        if (name.equals(CONVENTIONS)) {
            return withConventions(file);
        }
        if (!name.endsWith(".model")) {
            return huggingFace(file);
        }
        if (dflt == null) {
            return sentencePiece(file, null);
        }
        SentencePieceFile spf = SentencePieceFile.parse(read(file), file);
        int pad = switch (dflt.padId()) {
            case Conventions.MODEL_PAD -> spf.padId();
            case Conventions.EOS_PAD -> spf.eosId();
            default -> dflt.padId();
        };
        if (pad < 0 || pad >= spf.pieces().size()) {
            throw new LitException(file + ": the checkpoint's text conventions pad with id " + pad + ", which this SentencePiece model"
                    + " does not have; add a " + CONVENTIONS + " saying which id pads");
        }
        return sentencePiece(file, new Conventions(dflt.eos(), pad, dflt.lowercase(), dflt.canonicalize()));
    }

    /**
     * {@code c} as a {@value #CONVENTIONS} naming {@code model} (a file name beside it): what a
     * converted folder carries so it loads with the same conventions.
     */
    public static String conventionsJson(String model, Conventions c) {
        JsonObject o = new JsonObject();
        o.addProperty("tokenizer", model);
        o.addProperty("eos", c.eos().name().toLowerCase(Locale.ROOT));
        o.addProperty("pad_id", c.padId());
        o.addProperty("lowercase", c.lowercase());
        if (c.canonicalize()) {
            o.addProperty("canonicalize", true);
        }
        return o.toString();
    }

    /**
     * The tokenizer file a model folder holds, or null: its {@value #CONVENTIONS}, else
     * {@code tokenizer.json}, else its only {@code .model} file.
     */
    public static Path findIn(Path dir) {
        for (String n : new String[] {CONVENTIONS, "tokenizer.json"}) {
            if (Files.isRegularFile(dir.resolve(n))) {
                return dir.resolve(n);
            }
        }
        try (var s = Files.list(dir)) {
            List<Path> models = s.filter(p -> p.getFileName().toString().endsWith(".model") && Files.isRegularFile(p)).toList();
            return models.size() == 1 ? models.get(0) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static TextTokenizer huggingFace(Path file) {
        byte[] bytes = read(file);
        String json = new String(bytes, StandardCharsets.UTF_8);
        Map<String, Integer> vocab = new HashMap<>();
        int size = readVocab(json, file, vocab);
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
        Splitter split = new Splitter() {
            @Override
            public int[] ids(String text) {
                long[] ids = hf.encode(text, false, false).getIds();
                int[] out = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    out[i] = Math.toIntExact(ids[i]);
                }
                return out;
            }

            @Override
            public List<String> tokens(String text) {
                return List.of(hf.encode(text, false, false).getTokens());
            }

            @Override
            public String decode(int[] ids) {
                long[] l = new long[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    l[i] = ids[i];
                }
                return hf.decode(l, true);
            }

            @Override
            public void close() {
                hf.close();
            }
        };
        return new TextTokenizer(file, split, Map.copyOf(vocab), size, sha256(bytes), null, OptionalInt.empty(), List.of(file));
    }

    private static TextTokenizer sentencePiece(Path file, Conventions conventions, Path... more) {
        byte[] bytes = read(file);
        SentencePieceFile spf = SentencePieceFile.parse(bytes, file);
        SpTokenizer sp;
        try {
            sp = new SpTokenizer(bytes);
        } catch (RuntimeException e) {
            throw new LitException(file + ": the sentencepiece library cannot load it: " + e.getMessage(), e);
        }
        SpProcessor proc = sp.getProcessor();
        Splitter split = new Splitter() {
            @Override
            public int[] ids(String text) {
                return proc.encode(text);
            }

            @Override
            public List<String> tokens(String text) {
                return List.of(proc.tokenize(text));
            }

            @Override
            public String decode(int[] ids) {
                int[] kept = Arrays.stream(ids).filter(i -> i >= 0 && i < spf.pieces().size() && i != spf.padId() && i != spf.eosId()
                        && i != spf.bosId()).toArray();
                return proc.decode(kept);
            }

            @Override
            public void close() {
                sp.close();
            }
        };
        List<Path> files = new ArrayList<>(List.of(more));
        files.add(file);
        byte[] all = bytes; // the identity covers the conventions too: they change the ids
        for (Path m : more) {
            byte[] b = read(m);
            all = Arrays.copyOf(all, all.length + b.length);
            System.arraycopy(b, 0, all, bytes.length, b.length);
        }
        OptionalInt eos = spf.eosId() >= 0 ? OptionalInt.of(spf.eosId()) : OptionalInt.empty();
        return new TextTokenizer(file, split, spf.ids(), spf.pieces().size(), sha256(all), conventions, eos, files);
    }

    /** A {@value #CONVENTIONS}: the tokenizer file it names (beside it) with its conventions. */
    private static TextTokenizer withConventions(Path file) {
        JsonObject o = TokenizerFile.parse(new String(read(file), StandardCharsets.UTF_8), file);
        for (String k : o.keySet()) {
            if (!List.of("tokenizer", "eos", "pad_id", "lowercase", "canonicalize").contains(k)) {
                throw new LitException(file + ": unknown field '" + k + "' (tokenizer, eos, pad_id, lowercase, canonicalize)");
            }
        }
        String tok = string(o, "tokenizer", file, null);
        if (tok == null || tok.isEmpty() || tok.contains("/") || tok.contains("\\") || tok.startsWith(".")) {
            throw new LitException(file + ": field 'tokenizer' should name a file beside it (e.g. \"spiece.model\"), got " + o.get("tokenizer"));
        }
        Conventions.Eos eos = switch (string(o, "eos", file, "sticky")) {
            case "none" -> Conventions.Eos.NONE;
            case "yes" -> Conventions.Eos.YES;
            case "sticky" -> Conventions.Eos.STICKY;
            default -> throw new LitException(file + ": field 'eos' should be none, yes or sticky, got " + o.get("eos"));
        };
        JsonElement pad = o.get("pad_id");
        if (pad == null || !pad.isJsonPrimitive() || !pad.getAsJsonPrimitive().isNumber() || pad.getAsDouble() != Math.rint(pad.getAsDouble())
                || pad.getAsDouble() < 0 || pad.getAsDouble() >= MAX_VOCAB) {
            throw new LitException(file + ": field 'pad_id' should be a token id, got " + pad);
        }
        JsonElement lower = o.get("lowercase");
        if (lower != null && !(lower.isJsonPrimitive() && lower.getAsJsonPrimitive().isBoolean())) {
            throw new LitException(file + ": field 'lowercase' should be true or false, got " + lower);
        }
        JsonElement canon = o.get("canonicalize");
        if (canon != null && !(canon.isJsonPrimitive() && canon.getAsJsonPrimitive().isBoolean())) {
            throw new LitException(file + ": field 'canonicalize' should be true or false, got " + canon);
        }
        Conventions c = new Conventions(eos, pad.getAsInt(), lower != null && lower.getAsBoolean(), canon != null && canon.getAsBoolean());
        Path model;
        try {
            model = file.resolveSibling(tok);
        } catch (InvalidPathException e) {
            throw new LitException(file + ": field 'tokenizer' is not a usable file name: " + e.getReason(), e);
        }
        if (!tok.endsWith(".model")) {
            throw new LitException(file + ": field 'tokenizer' should name a SentencePiece .model file, got \"" + tok + "\"");
        }
        TextTokenizer t = sentencePiece(model, c, file);
        if (c.padId() >= t.vocabSize()) {
            t.close();
            throw new LitException(file + ": pad_id " + c.padId() + " is not in the vocabulary of " + tok + " (" + t.vocabSize() + " pieces)");
        }
        return t;
    }

    private static String string(JsonObject o, String key, Path file, String dflt) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return dflt;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new LitException(file + ": field '" + key + "' should be a string, got " + e);
        }
        return e.getAsString();
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new LitException(file + ": cannot read tokenizer: " + e, e);
        }
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
        return Digests.sha256Hex(b);
    }

    /** The file loaded. */
    public Path path() {
        return path;
    }

    /** Every file this tokenizer was read from (a conventions file and its model; or the one file), for copying with a model. */
    public List<Path> files() {
        return files;
    }

    /** The conventions the tokenizer's folder declared, if any: they frame the ids instead of the tower's policy. */
    public Optional<Conventions> conventions() {
        return Optional.ofNullable(declared);
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
        if (declaredEos.isPresent()) {
            return declaredEos;
        }
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
            return splitter.ids(text);
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
            return splitter.tokens(text);
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
        lock.readLock().lock();
        try {
            if (closed) {
                throw new LitException(path + ": tokenizer is closed");
            }
            return splitter.decode(ids);
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
        int min = policy == Policy.CLIP || policy == Policy.BERT_SEP ? 3 : 2;
        if (contextLength < min) {
            throw new LitException("tokenizer: context length " + contextLength + " < " + min
                    + " leaves no room for a token next to the " + switch (policy) {
                        case BERT -> "[CLS]";
                        case BERT_SEP -> "[CLS] and [SEP]";
                        case STICKY_EOS -> "EOS";
                        case CLIP -> "start and end of text";
                    });
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
        if (declared != null) {
            String t = declared.lowercase() ? text.toLowerCase(Locale.ROOT) : text;
            return frame(declared.canonicalize() ? canonical(t) : t, contextLength, cut);
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
            case CLIP -> {
                Integer bos = vocab.get(CLIP_BOS), eos = vocab.get(CLIP_EOS);
                if (bos == null || eos == null) {
                    throw new LitException(path + ": policy CLIP needs the tokens " + CLIP_BOS + " and " + CLIP_EOS
                            + ", and the vocabulary lacks " + (bos == null ? CLIP_BOS : CLIP_EOS));
                }
                out[0] = bos;
                int n = Math.min(raw.length, contextLength - 2);
                System.arraycopy(raw, 0, out, 1, n);
                Arrays.fill(out, n + 1, contextLength, eos);
                return new Single(out, raw.length + 2, cut || raw.length + 2 > contextLength);
            }
            default -> throw new IllegalArgumentException(String.valueOf(policy));
        }
    }

    /** Python's {@code string.punctuation}. */
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    /**
     * transformers' SiglipTokenizer.canonicalize_text: remove_punctuation ({@code str.translate}
     * deleting {@code string.punctuation}), {@code re.sub(r"\s+", " ", text)}, {@code text.strip()}.
     */
    static String canonical(String text) {
        StringBuilder b = new StringBuilder(text.length());
        boolean space = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 128 && PUNCTUATION.indexOf(cp) >= 0) {
                continue;
            }
            if (isPythonSpace(cp)) {
                space = true;
                continue;
            }
            if (space && !b.isEmpty()) {
                b.append(' ');
            }
            space = false;
            b.appendCodePoint(cp);
        }
        return b.toString();
    }

    /** Python 3's {@code \s} in a str pattern and {@code str.isspace()} (Unicode whitespace, the separators included). */
    private static boolean isPythonSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f) || cp == 0x85 || Character.isSpaceChar(cp);
    }

    /** big_vision's tokenize() under the declared {@link Conventions} (big_vision/pp/ops_text.py). */
    private Single frame(String text, int contextLength, boolean cut) {
        int[] raw = ids(text);
        boolean eos = declared.eos() != Conventions.Eos.NONE;
        int eosId = eos ? eosId().orElseThrow(() -> new LitException(path + ": eos \"" + declared.eos().name().toLowerCase(Locale.ROOT)
                + "\" needs an EOS piece and the vocabulary has none")) : -1;
        int n = raw.length + (eos ? 1 : 0);
        int[] out = new int[contextLength];
        Arrays.fill(out, declared.padId());
        int keep = Math.min(raw.length, contextLength);
        System.arraycopy(raw, 0, out, 0, keep);
        if (declared.eos() == Conventions.Eos.STICKY && n >= contextLength) {
            out[contextLength - 1] = eosId; // cut off, but keep the final EOS
        } else if (eos && raw.length < contextLength) {
            out[raw.length] = eosId;
        }
        return new Single(out, n, cut || n > contextLength);
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                splitter.close();
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
