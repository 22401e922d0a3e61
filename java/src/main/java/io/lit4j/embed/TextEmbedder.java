package io.lit4j.embed;

import io.lit4j.LitException;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.model.TextConfig;
import io.lit4j.model.TwoTower;

import java.util.List;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * Texts to embeddings, the one way lit4j does it: tokenized as the text tower expects (its
 * context length and {@link TextConfig#tokenPolicy() policy}), then embedded in chunks of
 * {@link #CHUNK} texts so that memory is bounded by the chunk, not by the list. Thread-safe.
 */
public final class TextEmbedder {
    /** Texts per forward pass. */
    public static final int CHUNK = 256;

    private final TextTokenizer tokenizer;
    private final TextConfig tower;
    private final int dim;
    private final Function<TokenBatch, float[]> embed;

    /** {@code embed} maps a batch of token ids to {@code [batch, dim]} embeddings. */
    public TextEmbedder(TextTokenizer tokenizer, TextConfig tower, int dim, Function<TokenBatch, float[]> embed) {
        if (tokenizer.vocabSize() > tower.vocabSize()) {
            throw new LitException(tokenizer.path() + ": the tokenizer has " + tokenizer.vocabSize() + " tokens but the text tower only "
                    + tower.vocabSize());
        }
        this.tokenizer = tokenizer;
        this.tower = tower;
        this.dim = dim;
        this.embed = embed;
    }

    /** A model's text tower: L2-normalised embeddings. */
    public static TextEmbedder of(TwoTower model, TextTokenizer tokenizer) {
        if (!model.config().hasText()) {
            throw new LitException("this model has no text tower");
        }
        return new TextEmbedder(tokenizer, model.config().text(), model.config().embedDim(), model::embedTexts);
    }

    public int dim() {
        return dim;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** The text tower's fixed context length: every text is one row of this many ids. */
    public int contextLength() {
        return tower.contextLength();
    }

    /** Token ids of {@code texts} as the tower expects them, with each text's untruncated length. */
    public TextTokenizer.Encoded encode(List<String> texts) {
        return tokenizer.encodeChecked(texts, tower.contextLength(), tower.tokenPolicy());
    }

    /** Embeddings {@code [tokens.batch(), dim]} of texts already {@linkplain #encode encoded}, in one forward pass. */
    public float[] embedTokens(TokenBatch tokens) {
        return embed.apply(tokens);
    }

    /** Embeddings {@code [texts.size(), dim]}, row-major. */
    public float[] embed(List<String> texts) {
        return embed(texts, done -> { });
    }

    /** As {@link #embed(List)}, telling {@code progress} how many texts each chunk embedded. */
    public float[] embed(List<String> texts, LongConsumer progress) {
        float[] out = new float[Math.multiplyExact(texts.size(), dim)];
        for (int s = 0; s < texts.size(); s += CHUNK) {
            List<String> part = texts.subList(s, Math.min(texts.size(), s + CHUNK));
            TokenBatch tb = tokenizer.encode(part, tower.contextLength(), tower.tokenPolicy());
            System.arraycopy(embed.apply(tb), 0, out, s * dim, part.size() * dim);
            progress.accept(part.size());
        }
        return out;
    }
}
