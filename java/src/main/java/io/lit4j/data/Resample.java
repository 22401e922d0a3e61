package io.lit4j.data;

/**
 * The resampler behind {@link Preprocess}: a separable triangle or bicubic filter, support scaled
 * by the downscale factor (antialiasing), half-pixel centres, weights renormalised at the borders
 * (as PIL's {@code ImagingResample}; bicubic is PIL's {@code bicubic_filter}, a = -0.5, with each
 * pass clamped to 0..255 as PIL's 8-bit passes are, but not rounded). Written here rather than
 * taken from a library because it must be exactly this, in doubles, deterministic everywhere, and
 * java.awt's scaling is neither antialiased this way nor specified to the bit.
 */
final class Resample {
    private Resample() {
    }

    /** Fills {@code rgb[3 * x + c]} (0..255) with row {@code y} of the source. */
    interface RowSource {
        void row(int y, int[] rgb);
    }

    /** Filter taps of one axis for a window of output positions. */
    record Axis(int[] start, int[] count, double[] weights, int stride) {
    }

    /**
     * Taps for outputs {@code offset .. offset + n - 1} of a resize from {@code in} to
     * {@code out} samples.
     */
    static Axis axis(int in, long out, long offset, int n, Preprocess.Filter filter) {
        boolean cubic = filter == Preprocess.Filter.BICUBIC;
        double scale = (double) in / out;
        double filterScale = Math.max(scale, 1.0);
        double support = filterScale * (cubic ? 2 : 1); // the filter's half-width in source pixels, widened by the factor
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[n];
        int[] count = new int[n];
        double[] w = new double[n * stride];
        for (int i = 0; i < n; i++) {
            double center = (offset + i + 0.5) * scale;
            int lo = (int) Math.max(0, Math.floor(center - support + 0.5));
            int hi = (int) Math.min(in, Math.floor(center + support + 0.5));
            double sum = 0;
            int k = 0;
            for (int x = lo; x < hi; x++, k++) {
                double t = Math.abs((x + 0.5 - center) / filterScale);
                double v = cubic ? cubic(t) : t < 1.0 ? 1.0 - t : 0.0;
                w[i * stride + k] = v;
                sum += v;
            }
            if (k > stride) {
                throw new IllegalStateException("resample: " + k + " taps > stride " + stride);
            }
            if (sum <= 0) {
                // cannot happen for in >= 1 (the nearest pixel always has weight > 0); be safe
                int nearest = (int) Math.min(in - 1, Math.max(0, Math.floor(center)));
                lo = nearest;
                k = 1;
                w[i * stride] = 1.0;
                sum = 1.0;
            }
            for (int j = 0; j < k; j++) {
                w[i * stride + j] /= sum;
            }
            start[i] = lo;
            count[i] = k;
        }
        return new Axis(start, count, w, stride);
    }

    /** PIL's {@code bicubic_filter} (Keys' cubic convolution, a = -0.5) at distance {@code t ≥ 0}. */
    static double cubic(double t) {
        double a = -0.5;
        if (t < 1.0) {
            return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
        }
        if (t < 2.0) {
            return (((t - 5.0) * t + 8.0) * t - 4.0) * a;
        }
        return 0.0;
    }

    /** A bicubic pass's value clamped to 0..255 (its negative lobes overshoot); a triangle's is already in range. */
    private static double clamp(double v, boolean cubic) {
        return cubic ? Math.min(255.0, Math.max(0.0, v)) : v;
    }

    /**
     * Resamples a {@code width x height} source to {@code pp.size()} square, mapped to model
     * units, into {@code out[offset ..]} (NHWC).
     */
    static void run(RowSource src, int width, int height, Preprocess pp, float[] out, int offset) {
        int s = pp.size();
        long rw;
        long rh;
        long offX;
        long offY;
        if (pp.resize() == Preprocess.Resize.SQUASH) {
            rw = s;
            rh = s;
            offX = 0;
            offY = 0;
        } else if (width <= height) {
            rw = s;
            rh = Math.max(s, (long) s * height / width);
            offX = 0;
            offY = (rh - s) / 2;
        } else {
            rh = s;
            rw = Math.max(s, (long) s * width / height);
            offY = 0;
            offX = (rw - s) / 2;
        }
        boolean cubic = pp.filter() == Preprocess.Filter.BICUBIC;
        Axis ax = axis(width, rw, offX, s, pp.filter());
        Axis ay = axis(height, rh, offY, s, pp.filter());
        // Horizontal pass into a ring of filtered rows (each source row read once; the vertical
        // windows only move forward), then the vertical pass and value mapping.
        int ring = ay.stride;
        double[] tmp = new double[ring * s * 3];
        int[] rgb = new int[width * 3];
        int nextY = 0;
        for (int j = 0; j < s; j++) {
            int st = ay.start[j];
            int n = ay.count[j];
            if (nextY < st) {
                nextY = st;
            }
            for (; nextY < st + n; nextY++) {
                filterRow(src, nextY, rgb, ax, s, tmp, (nextY % ring) * s * 3, cubic);
            }
            int wo = j * ay.stride;
            for (int i = 0; i < s; i++) {
                for (int c = 0; c < 3; c++) {
                    double acc = 0;
                    for (int k = 0; k < n; k++) {
                        acc += ay.weights[wo + k] * tmp[(((st + k) % ring) * s + i) * 3 + c];
                    }
                    out[offset + (j * s + i) * 3 + c] = (float) pp.map(clamp(acc, cubic), c);
                }
            }
        }
    }

    private static void filterRow(RowSource src, int y, int[] rgb, Axis ax, int s, double[] tmp, int base, boolean cubic) {
        src.row(y, rgb);
        for (int i = 0; i < s; i++) {
            int st = ax.start[i];
            int n = ax.count[i];
            int wo = i * ax.stride;
            double r = 0;
            double g = 0;
            double b = 0;
            for (int k = 0; k < n; k++) {
                double wk = ax.weights[wo + k];
                int p = (st + k) * 3;
                r += wk * rgb[p];
                g += wk * rgb[p + 1];
                b += wk * rgb[p + 2];
            }
            tmp[base + i * 3] = clamp(r, cubic);
            tmp[base + i * 3 + 1] = clamp(g, cubic);
            tmp[base + i * 3 + 2] = clamp(b, cubic);
        }
    }
}
