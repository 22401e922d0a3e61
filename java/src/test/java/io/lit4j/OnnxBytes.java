package io.lit4j;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes small ONNX files for bad-input tests with protobuf-java's {@link CodedOutputStream}, field
 * numbers from onnx/onnx {@code onnx/onnx.proto}: a ModelProto whose graph (field 7) holds nodes
 * (1) and initializers (5).
 */
final class OnnxBytes {
    private OnnxBytes() {
    }

    /** Fields of one message, written as they are added. */
    static final class Msg {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CodedOutputStream out = CodedOutputStream.newInstance(bytes);

        Msg string(int field, String s) {
            return io(() -> out.writeString(field, s));
        }

        Msg int64(int field, long v) {
            return io(() -> out.writeInt64(field, v));
        }

        Msg bytes(int field, byte[] b) {
            return io(() -> out.writeBytes(field, ByteString.copyFrom(b)));
        }

        Msg msg(int field, Msg m) {
            return io(() -> out.writeBytes(field, ByteString.copyFrom(m.toBytes())));
        }

        byte[] toBytes() {
            io(out::flush);
            return bytes.toByteArray();
        }

        private interface Write {
            void run() throws IOException;
        }

        private Msg io(Write w) {
            try {
                w.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }
    }

    /** A TensorProto: dims (1), data_type FLOAT (2), name (8), raw_data (9) of {@code raw} bytes. */
    static Msg floats(String name, long[] dims, int rawBytes) {
        Msg t = new Msg();
        for (long d : dims) {
            t.int64(1, d);
        }
        return t.int64(2, 1).string(8, name).bytes(9, new byte[rawBytes]);
    }

    /** A NodeProto: inputs (1), outputs (2), name (3), op_type (4). */
    static Msg node(String name, String op, List<String> inputs, List<String> outputs) {
        Msg n = new Msg();
        inputs.forEach(i -> n.string(1, i));
        outputs.forEach(o -> n.string(2, o));
        return n.string(3, name).string(4, op);
    }

    /** A ModelProto (ir_version 8) whose graph holds {@code nodes} then {@code inits}. */
    static byte[] model(List<Msg> nodes, List<Msg> inits) {
        Msg g = new Msg().string(2, "test");
        nodes.forEach(n -> g.msg(1, n));
        inits.forEach(i -> g.msg(5, i));
        return new Msg().int64(1, 8).string(2, "lit4j-test").msg(7, g).toBytes();
    }
}
