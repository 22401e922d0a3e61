package io.lit4j.tensor;

import io.lit4j.LitException;

import java.util.Arrays;

/** Shape arithmetic and the checks every op makes before it touches memory. */
public final class Shapes {
    private Shapes() {
    }

    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new LitException("negative dimension in shape " + str(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new LitException("shape " + str(shape) + " has more elements than fit in a long");
            }
        }
        return n;
    }

    public static String str(int... shape) {
        return Arrays.toString(shape);
    }

    /** Throws unless {@code t} has exactly {@code expected} as its shape. */
    public static void require(String op, String name, Tensor t, int... expected) {
        if (!Arrays.equals(t.shape(), expected)) {
            throw new LitException(op + ": " + name + " has shape " + str(t.shape()) + ", expected " + str(expected));
        }
    }

    public static void requireType(String op, String name, Tensor t, DType... allowed) {
        for (DType d : allowed) {
            if (t.dtype() == d) {
                return;
            }
        }
        throw new LitException(op + ": " + name + " is " + t.dtype() + ", expected one of " + Arrays.toString(allowed));
    }

    /** Throws unless {@code a} and {@code b} have the same shape (their dtypes may differ). */
    public static void requireSameShape(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new LitException(op + ": " + nameA + " " + a + " and " + nameB + " " + b + " must have the same shape");
        }
    }

    public static void requireSame(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (!a.sameLayout(b)) {
            throw new LitException(op + ": " + nameA + " " + a + " and " + nameB + " " + b + " must match");
        }
    }
}
