package io.lit4j.backend;

/** How a tower turns its token sequence into one vector. */
public enum Pool {
    /** Token 0 (ViT's CLS token, BERT's [CLS]). */
    FIRST,
    /** The last position (big_vision's text transformer with sticky EOS). */
    LAST,
    /** Mean over the tokens from a start index on (ViT "gap" skips no token: it has no CLS). */
    MEAN
}
