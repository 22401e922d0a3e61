package io.lit4j.tensor;

import io.lit4j.LitException;

/** Element types lit4j stores. Compute is fp32 or bf16; f16 and i64 appear only in checkpoints. */
public enum DType {
    F32(4, "F32"),
    BF16(2, "BF16"),
    F16(2, "F16"),
    I32(4, "I32"),
    I64(8, "I64");

    private final int bytes;
    private final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    public int byteSize() {
        return bytes;
    }

    /** The dtype string safetensors headers use ("F32", "BF16", ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    public boolean isFloating() {
        return this == F32 || this == BF16 || this == F16;
    }

    public static DType fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        throw new LitException("unsupported dtype '" + name + "' (lit4j reads F32, BF16, F16, I32, I64)");
    }
}
