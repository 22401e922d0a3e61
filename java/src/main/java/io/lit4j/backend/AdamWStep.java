package io.lit4j.backend;

/**
 * The scalars of one AdamW update: {@code p -= lr·wd·p}, then with {@code m = β1·m + (1−β1)·g},
 * {@code v = β2·v + (1−β2)·g²}: {@code p -= lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps)}.
 *
 * @param step the 1-based update count t used for bias correction
 */
public record AdamWStep(float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
    public AdamWStep {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW step count starts at 1, got " + step);
        }
    }

    /** 1 − β1^t */
    public double correction1() {
        return 1 - Math.pow(beta1, step);
    }

    /** 1 − β2^t */
    public double correction2() {
        return 1 - Math.pow(beta2, step);
    }
}
