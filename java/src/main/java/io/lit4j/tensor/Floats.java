package io.lit4j.tensor;

/** Conversions between fp32 and the 16-bit float formats. */
public final class Floats {
    private Floats() {
    }

    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** fp32 to bf16 with round-to-nearest-even; NaN stays NaN. */
    public static short f32ToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) {
            return (short) ((x >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }

    public static float f16ToF32(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short f32ToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
