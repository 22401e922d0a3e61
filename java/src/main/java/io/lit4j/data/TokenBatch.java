package io.lit4j.data;

import io.lit4j.LitException;

/** Token ids for a batch of texts, row-major {@code [batch, length]}, padded with 0. */
public record TokenBatch(int[] ids, int batch, int length) {
    public TokenBatch {
        if (batch < 0 || length <= 0 || ids.length != (long) batch * length) {
            throw new LitException("token batch: " + ids.length + " ids do not make " + batch + " rows of " + length);
        }
    }

    /** 1 where the token is real, 0 where it is padding (id 0): BERT's attention mask. */
    public float[] keepMask() {
        float[] m = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            m[i] = ids[i] != 0 ? 1f : 0f;
        }
        return m;
    }
}
