package io.lit4j.report;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * One numeric axis: view limits, the mapping to pixels (linear or log10), and "nice" ticks at
 * 1, 2 or 5 × 10ᵏ with labels to match.
 */
final class Axis {
    record Tick(double value, Charts.Label label) {
    }

    final boolean log;
    final double lo;
    final double hi;
    private double p0;
    private double p1;
    final List<Tick> major = new ArrayList<>();
    final List<Double> minor = new ArrayList<>();

    private Axis(boolean log, double lo, double hi) {
        this.log = log;
        this.lo = lo;
        this.hi = hi;
    }

    /** An axis with exactly these limits (for a log axis both must be positive). */
    static Axis fixed(double lo, double hi, boolean log) {
        if (log && !(lo > 0 && hi > lo)) {
            return new Axis(true, 1, 10);
        }
        if (!(hi > lo)) {
            return new Axis(log, lo - 0.5, lo + 0.5);
        }
        return new Axis(log, lo, hi);
    }

    /**
     * An axis around data in [min, max] (NaN when there is none) padded by {@code margin} of the
     * span on each side (in log space for a log axis). {@code fixLo} / {@code fixHi} override a limit
     * unless NaN.
     */
    static Axis around(double min, double max, boolean log, double margin, double fixLo, double fixHi) {
        double a;
        double b;
        if (Double.isNaN(min) || Double.isNaN(max)) {
            a = 0;
            b = 1;
        } else {
            a = log ? Math.log10(min) : min;
            b = log ? Math.log10(max) : max;
            if (b - a <= Math.abs(b) * 1e-12 || b == a) {
                double d = log ? 0.5 : (a == 0 ? 0.5 : Math.abs(a) * 0.1);
                a -= d;
                b += d;
            } else {
                double span = b - a;
                a -= margin * span;
                b += margin * span;
            }
        }
        double lo = log ? Math.pow(10, a) : a;
        double hi = log ? Math.pow(10, b) : b;
        if (!Double.isNaN(fixLo) && (!log || fixLo > 0)) {
            lo = fixLo;
        }
        if (!Double.isNaN(fixHi) && (!log || fixHi > 0)) {
            hi = fixHi;
        }
        if (!(hi > lo)) {
            return fixed(lo, hi, log);
        }
        return new Axis(log, lo, hi);
    }

    /** Sets the pixel positions of the low and the high limit (p1 may be below p0, as for y). */
    void place(double p0, double p1) {
        this.p0 = p0;
        this.p1 = p1;
    }

    /** Pixel position of {@code v}; NaN when it cannot be shown (non-finite, or ≤ 0 on a log axis). */
    double px(double v) {
        if (!Double.isFinite(v)) {
            return Double.NaN;
        }
        if (log) {
            if (v <= 0) {
                return Double.NaN;
            }
            return p0 + (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * (p1 - p0);
        }
        return p0 + (v - lo) / (hi - lo) * (p1 - p0);
    }

    boolean inside(double v) {
        double eps = (log ? Math.log10(hi / lo) : hi - lo) * 1e-9;
        if (log) {
            double l = Math.log10(v);
            return l >= Math.log10(lo) - eps && l <= Math.log10(hi) + eps;
        }
        return v >= lo - eps && v <= hi + eps;
    }

    /** Computes at most {@code maxTicks} major ticks (and minor ticks on a log axis). */
    void ticks(int maxTicks) {
        major.clear();
        minor.clear();
        int n = Math.max(2, maxTicks);
        if (log) {
            logTicks(n);
        } else {
            linearTicks(n);
        }
    }

    /** Smallest step of 1, 2 or 5 × 10ᵏ that is at least {@code raw}. */
    static double niceStep(double raw) {
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * mag >= raw * (1 - 1e-9)) {
                return m * mag;
            }
        }
        return 10 * mag;
    }

    private void linearTicks(int n) {
        // the smallest 1-2-5 step that puts at most n ticks inside the limits
        double step = niceStep((hi - lo) / (n + 1));
        long k0;
        long k1;
        while (true) {
            k0 = (long) Math.ceil(lo / step - 1e-9);
            k1 = (long) Math.floor(hi / step + 1e-9);
            if (k1 - k0 + 1 <= n) {
                break;
            }
            step = niceStep(step * 1.01);
        }
        double maxAbs = Math.max(Math.abs(k0 * step), Math.abs(k1 * step));
        int sciExp = 0;
        boolean sci = maxAbs >= 1e6 || (maxAbs > 0 && maxAbs < 1e-3);
        if (sci) {
            sciExp = (int) Math.floor(Math.log10(maxAbs));
        }
        double shown = sci ? step / Math.pow(10, sciExp) : step;
        int decimals = Math.max(0, -(int) Math.floor(Math.log10(shown) + 1e-9));
        for (long k = k0; k <= k1; k++) {
            double v = k * step;
            Charts.Label label;
            if (k == 0) {
                label = Charts.Label.of("0");
            } else if (sci) {
                label = new Charts.Label(Charts.fixed(v / Math.pow(10, sciExp), decimals) + "×10",
                        Integer.toString(sciExp).replace('-', '−'));
            } else {
                label = Charts.Label.of(Charts.fixed(v, decimals).replace('-', '−'));
            }
            major.add(new Tick(v, label));
        }
    }

    private void logTicks(int n) {
        double a = Math.log10(lo);
        double b = Math.log10(hi);
        int e0 = (int) Math.floor(a);
        int e1 = (int) Math.ceil(b);
        if (b - a < 1.3) {
            int[][] sets = {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
            for (int[] set : sets) {
                major.clear();
                for (int e = e0; e <= e1; e++) {
                    for (int m : set) {
                        double v = m * Math.pow(10, e);
                        if (inside(v)) {
                            major.add(new Tick(v, plain(m, e)));
                        }
                    }
                }
                if (major.size() >= 3) {
                    break;
                }
            }
            while (major.size() > n) {
                List<Tick> thinned = new ArrayList<>();
                for (int i = 0; i < major.size(); i += 2) {
                    thinned.add(major.get(i));
                }
                major.clear();
                major.addAll(thinned);
            }
            for (int e = e0; e <= e1; e++) {
                for (int m = 1; m <= 9; m++) {
                    double v = m * Math.pow(10, e);
                    if (inside(v) && major.stream().noneMatch(t -> Math.abs(t.value() / v - 1) < 1e-9)) {
                        minor.add(v);
                    }
                }
            }
            return;
        }
        int first = (int) Math.ceil(a - 1e-9);
        int last = (int) Math.floor(b + 1e-9);
        int stride = Math.max(1, (int) Math.ceil((last - first + 1) / (double) n));
        for (int e = e0; e <= e1; e++) {
            double v = Math.pow(10, e);
            if (inside(v)) {
                if (Math.floorMod(e, stride) == 0) {
                    major.add(new Tick(v, new Charts.Label("10", Integer.toString(e).replace('-', '−'))));
                } else {
                    minor.add(v);
                }
            }
            if (stride == 1) {
                for (int m = 2; m <= 9; m++) {
                    if (inside(m * v)) {
                        minor.add(m * v);
                    }
                }
            }
        }
    }

    private static Charts.Label plain(int m, int e) {
        if (e >= -5 && e <= 6) {
            return Charts.Label.of(BigDecimal.valueOf(m).scaleByPowerOfTen(e).stripTrailingZeros().toPlainString());
        }
        return new Charts.Label(m + "×10", Integer.toString(e).replace('-', '−'));
    }
}
