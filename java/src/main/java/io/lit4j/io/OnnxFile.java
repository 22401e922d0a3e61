package io.lit4j.io;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.lit4j.tensor.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights and the node list of an ONNX model file ({@code .onnx}): its graph's initializers as
 * named arrays (an {@link ArraySource}), and each node's operator, name, inputs and outputs, which
 * a loader follows to learn what an anonymous initializer ({@code onnx::MatMul_1234}) is.
 *
 * <p>Why a reader of its own: ONNX files are protobuf messages (onnx/onnx {@code onnx/onnx.proto},
 * {@code ModelProto}), but no maintained Maven artifact ships Java classes generated from that
 * {@code .proto} for the current protobuf runtime (ONNX Runtime's Java API reads files natively
 * and exposes no initializers), and {@code protoc} is not part of lit4j's build. So this walks the
 * wire format with protobuf-java's own {@link CodedInputStream}, reading only the fields lit4j
 * needs ({@code ModelProto.graph}, {@code GraphProto.node/initializer/input/output},
 * {@code NodeProto.input/output/name/op_type}, {@code TensorProto.dims/data_type/name/raw_data/
 * float_data/int32_data/int64_data/data_location}) and skipping every other field. Field numbers
 * are those of {@code onnx.proto}.
 *
 * <p>The file is memory-mapped; {@code raw_data} arrays are zero-copy slices of the mapping, valid
 * until {@link #close()}. Everything is checked on {@link #open}: sizes against the file, shapes
 * against the data each array holds. Weights kept outside the file ({@code data_location:
 * EXTERNAL}, used for models over 2 GiB) are refused with a message saying so.
 */
public final class OnnxFile implements ArraySource {
    /** protobuf messages, and so ONNX files with their weights inside, are at most 2 GiB. */
    static final long MAX_BYTES = Integer.MAX_VALUE;

    /**
     * One graph node: what {@link #nodes()} lists. {@code constant} holds the values of a
     * {@code Constant} node's {@code value} when it is a small numeric tensor (shape constants,
     * a LayerNorm's epsilon, attention's scale); null otherwise.
     */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs, double[] constant) {
    }

    /** The most values of a Constant node kept in {@link Node#constant()}. */
    static final int MAX_CONSTANT_VALUES = 64;

    /** An initializer: its info and its bytes (a slice of the mapping or values decoded onto the heap). */
    private record Init(ArrayInfo info, MemorySegment data) {
    }

    // onnx.proto TensorProto.DataType values lit4j reads
    private static final int FLOAT = 1, INT32 = 6, INT64 = 7, FLOAT16 = 10, BFLOAT16 = 16;

    private final Path file;
    private final Arena arena;
    private final Map<String, Init> inits;
    private final Map<String, String> otherTypes;
    private final List<Node> nodes;
    private final List<String> inputs, outputs;
    private final String producer;

    private OnnxFile(Path file, Arena arena, Parsed p) {
        this.file = file;
        this.arena = arena;
        this.inits = Collections.unmodifiableMap(p.inits);
        this.otherTypes = Collections.unmodifiableMap(p.otherTypes);
        this.nodes = List.copyOf(p.nodes);
        this.inputs = List.copyOf(p.inputs);
        this.outputs = List.copyOf(p.outputs);
        this.producer = p.producer;
    }

    /** Maps {@code file} and reads its graph: every node and the table of initializers (their data stays in the file). */
    public static OnnxFile open(Path file) {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file, "is a folder, not an .onnx file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > MAX_BYTES) {
                throw new CheckpointException(file, size + " bytes is more than an ONNX file with its weights inside can hold (2 GiB);"
                        + " lit4j does not read ONNX external data");
            }
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                Parsed p = new Parsed(file, mapped);
                p.model(size == 0 ? ByteBuffer.allocate(0) : mapped.asByteBuffer());
                if (p.nodes.isEmpty() && p.inits.isEmpty()) {
                    throw new CheckpointException(file, "holds no ONNX graph (no nodes, no initializers): not an ONNX model");
                }
                return new OnnxFile(file, arena, p);
            } catch (RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw CheckpointException.io(file, null, "open", e);
        } catch (IOException e) {
            throw CheckpointException.io(file, null, "read", e);
        }
    }

    /** The graph's nodes in file order (which ONNX requires to be topological). */
    public List<Node> nodes() {
        return nodes;
    }

    /** The graph's input names (initializers excluded where an exporter lists them as inputs too). */
    public List<String> graphInputs() {
        return inputs.stream().filter(n -> !inits.containsKey(n)).toList();
    }

    public List<String> graphOutputs() {
        return outputs;
    }

    /** "name version" of the program that wrote the file (may be blank). */
    public String producer() {
        return producer;
    }

    /** Initializers of element types lit4j does not read (name to ONNX type number): never weights of a tower. */
    public Map<String, String> otherInitializers() {
        return otherTypes;
    }

    @Override
    public Path file() {
        return file;
    }

    /** The initializers of types lit4j reads (fp32, fp16, bf16, int32, int64), in file order. */
    @Override
    public List<String> keys() {
        return List.copyOf(inits.keySet());
    }

    @Override
    public boolean contains(String key) {
        return inits.containsKey(key);
    }

    private Init init(String key) {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("OnnxFile for " + file + " is closed");
        }
        Init i = inits.get(key);
        if (i == null) {
            throw new CheckpointException(file, key, "no such initializer; the graph has " + inits.size() + " readable ones"
                    + (inits.isEmpty() ? "" : ": " + ArrayFile.quoted(keys())));
        }
        return i;
    }

    @Override
    public ArrayInfo info(String key) {
        return init(key).info();
    }

    @Override
    public HostArray readInPlace(String key) {
        Init i = init(key);
        return new HostArray(i.info(), i.data());
    }

    @Override
    public float[] readFloats(String key) {
        HostArray a = readInPlace(key);
        float[] v = a.toFloatArray();
        a.releasePages();
        return v;
    }

    /** Unmaps the file; arrays read in place must not be used afterwards. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /** The walk over the wire format, filling the tables as it goes. */
    private static final class Parsed {
        final Path file;
        final MemorySegment mapped;
        final Map<String, Init> inits = new LinkedHashMap<>();
        final Map<String, String> otherTypes = new LinkedHashMap<>();
        final List<Node> nodes = new ArrayList<>();
        final List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        String producer = "";
        boolean sawGraph;

        Parsed(Path file, MemorySegment mapped) {
            this.file = file;
            this.mapped = mapped;
        }

        private CheckpointException damaged(String what, Exception e) {
            return new CheckpointException(file, null, "not a readable ONNX model (" + what + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + "); the file is damaged, truncated or of another format", e);
        }

        void model(ByteBuffer bytes) {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            String name = "", version = "";
            try {
                while (!in.isAtEnd()) {
                    int tag = in.readTag();
                    switch (WireFormat.getTagFieldNumber(tag)) {
                        case 2 -> name = string(in, tag, "ModelProto.producer_name");
                        case 3 -> version = string(in, tag, "ModelProto.producer_version");
                        case 7 -> {
                            if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED || sawGraph) {
                                throw new CheckpointException(file, "not a readable ONNX model (ModelProto.graph appears twice"
                                        + " or is not a message); the file is damaged or of another format");
                            }
                            sawGraph = true;
                            int limit = in.pushLimit(in.readRawVarint32());
                            graph(in);
                            in.popLimit(limit);
                        }
                        default -> in.skipField(tag);
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (e instanceof CheckpointException c) {
                    throw c;
                }
                throw damaged("at byte " + in.getTotalBytesRead(), e);
            }
            if (!sawGraph) {
                throw new CheckpointException(file, "has no ONNX graph (ModelProto.graph): not an ONNX model");
            }
            producer = (name + " " + version).strip();
        }

        private static String string(CodedInputStream in, int tag, String field) throws IOException {
            if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                throw new IOException(field + " is not a string");
            }
            return in.readStringRequireUtf8();
        }

        private void graph(CodedInputStream in) throws IOException {
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                int field = WireFormat.getTagFieldNumber(tag);
                if ((field == 1 || field == 5 || field == 11 || field == 12)
                        && WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    throw new IOException("GraphProto field " + field + " is not a message");
                }
                switch (field) {
                    case 1 -> nodes.add(message(in, this::node));
                    case 5 -> initializer(message(in, this::tensor));
                    case 11 -> inputs.add(message(in, this::valueName));
                    case 12 -> outputs.add(message(in, this::valueName));
                    case 15 -> throw new CheckpointException(file, "holds sparse initializers, which lit4j does not read");
                    default -> in.skipField(tag);
                }
            }
        }

        private interface Body<T> {
            T read(CodedInputStream in) throws IOException;
        }

        private static <T> T message(CodedInputStream in, Body<T> body) throws IOException {
            int limit = in.pushLimit(in.readRawVarint32());
            T t = body.read(in);
            if (!in.isAtEnd()) {
                throw new IOException("a message ends early");
            }
            in.popLimit(limit);
            return t;
        }

        private Node node(CodedInputStream in) throws IOException {
            List<String> ins = new ArrayList<>(), outs = new ArrayList<>();
            String name = "", op = "";
            double[] value = null;
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> ins.add(string(in, tag, "NodeProto.input"));
                    case 2 -> outs.add(string(in, tag, "NodeProto.output"));
                    case 3 -> name = string(in, tag, "NodeProto.name");
                    case 4 -> op = string(in, tag, "NodeProto.op_type");
                    case 5 -> {
                        if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            throw new IOException("NodeProto.attribute is not a message");
                        }
                        double[] v = message(in, this::attributeValue);
                        value = v != null ? v : value;
                    }
                    default -> in.skipField(tag);
                }
            }
            return new Node(name, op, List.copyOf(ins), List.copyOf(outs), op.equals("Constant") ? value : null);
        }

        /** An AttributeProto's tensor ({@code t}, field 5) as values when it is small and numeric; null otherwise. */
        private double[] attributeValue(CodedInputStream in) throws IOException {
            double[] v = null;
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                if (WireFormat.getTagFieldNumber(tag) == 5 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    Tensor t = message(in, this::tensor);
                    if (t.data() != null && t.info().numel() <= MAX_CONSTANT_VALUES) {
                        HostArray a = new HostArray(t.info(), t.data());
                        v = t.info().dtype().isFloating() ? toDoubles(a.toFloatArray()) : toDoubles(a.toIntArray());
                    }
                } else {
                    in.skipField(tag);
                }
            }
            return v;
        }

        private static double[] toDoubles(float[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }

        private static double[] toDoubles(int[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }

        private String valueName(CodedInputStream in) throws IOException {
            String name = "";
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                if (WireFormat.getTagFieldNumber(tag) == 1) {
                    name = string(in, tag, "ValueInfoProto.name");
                } else {
                    in.skipField(tag);
                }
            }
            return name;
        }

        /** A parsed TensorProto: its name, its ONNX type, and (for the types lit4j reads) its info and bytes. */
        private record Tensor(String name, int type, ArrayInfo info, MemorySegment data) {
        }

        private void initializer(Tensor t) {
            if (t.name() == null || t.name().isEmpty()) {
                throw new CheckpointException(file, "an initializer has no name; the file is damaged");
            }
            if (inits.containsKey(t.name()) || otherTypes.containsKey(t.name())) {
                throw new CheckpointException(file, t.name(), "two initializers have this name; the file is damaged");
            }
            if (t.info() == null) {
                otherTypes.put(t.name(), "ONNX type " + t.type());
            } else {
                inits.put(t.name(), new Init(t.info(), t.data()));
            }
        }

        /** One TensorProto, checked: its data must be inside the file and hold exactly its shape. */
        private Tensor tensor(CodedInputStream in) throws IOException {
            List<Long> dims = new ArrayList<>();
            int type = 0;
            String name = null;
            long rawAt = -1, rawLen = 0;
            long floatsAt = -1, floatsLen = 0;
            List<Float> floats = new ArrayList<>();
            List<Long> ints = new ArrayList<>();
            boolean external = false;
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                int wire = WireFormat.getTagWireType(tag);
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> varints(in, wire, dims);
                    case 2 -> type = in.readInt32();
                    case 3 -> throw new CheckpointException(file, name, "a tensor stored in segments, which lit4j does not read");
                    case 4 -> {
                        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) { // packed little-endian floats: read in place
                            int n = in.readRawVarint32();
                            floatsAt = in.getTotalBytesRead();
                            floatsLen = n;
                            in.skipRawBytes(n);
                        } else {
                            floats.add(in.readFloat());
                        }
                    }
                    case 5, 7 -> varints(in, wire, ints);
                    case 8 -> name = string(in, tag, "TensorProto.name");
                    case 9 -> {
                        if (wire != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            throw new IOException("TensorProto.raw_data is not bytes");
                        }
                        int n = in.readRawVarint32();
                        rawAt = in.getTotalBytesRead();
                        rawLen = n;
                        in.skipRawBytes(n);
                    }
                    case 14 -> external = in.readEnum() == 1;
                    case 13 -> {
                        external = true;
                        in.skipField(tag);
                    }
                    default -> in.skipField(tag);
                }
            }
            if (name == null) {
                name = "";
            }
            if (external) {
                throw new CheckpointException(file, name, "its data is in an external file (ONNX external data), which lit4j"
                        + " does not read: save the model with its weights inside (onnx.save_model(..., save_as_external_data=False))");
            }
            DType dtype = switch (type) {
                case FLOAT -> DType.F32;
                case FLOAT16 -> DType.F16;
                case BFLOAT16 -> DType.BF16;
                case INT32 -> DType.I32;
                case INT64 -> DType.I64;
                default -> null;
            };
            if (dtype == null) {
                return new Tensor(name, type, null, null);
            }
            long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
            for (long d : shape) {
                if (d < 0) {
                    throw new CheckpointException(file, name, "negative dimension in dims " + dims);
                }
            }
            ArrayInfo info;
            try {
                info = new ArrayInfo(name, dtype, shape);
            } catch (RuntimeException e) {
                throw new CheckpointException(file, name, e.getMessage(), e);
            }
            MemorySegment data;
            if (rawAt >= 0) {
                data = inPlace(info, rawAt, rawLen, "raw_data");
            } else if (floatsAt >= 0 || !floats.isEmpty()) {
                if (dtype != DType.F32) {
                    throw new CheckpointException(file, name, dtype + " tensor with values in float_data; the file is damaged");
                }
                data = floatsAt >= 0 ? inPlace(info, floatsAt, floatsLen, "float_data") : heap(info, floats.size(), floats, null);
            } else {
                data = heap(info, ints.size(), null, ints);
            }
            return new Tensor(name, type, info, data);
        }

        private MemorySegment inPlace(ArrayInfo info, long at, long len, String field) {
            if (len != info.byteSize()) {
                throw new CheckpointException(file, info.key(), info.dtype() + " " + info.shapeString() + " needs " + info.byteSize()
                        + " bytes but " + field + " holds " + len + "; the file is damaged");
            }
            return mapped.asSlice(at, len);
        }

        /** Values given one by one (float_data, int32_data, int64_data) as little-endian bytes in {@code info}'s dtype. */
        private MemorySegment heap(ArrayInfo info, int count, List<Float> floats, List<Long> ints) {
            if (count != info.numel()) {
                throw new CheckpointException(file, info.key(), info.dtype() + " " + info.shapeString() + " needs " + info.numel()
                        + " values but the tensor holds " + count + "; the file is damaged");
            }
            ByteBuffer b = ByteBuffer.allocate((int) info.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                switch (info.dtype()) {
                    case F32 -> b.putFloat(floats.get(i));
                    case I32 -> b.putInt((int) (long) ints.get(i));
                    case I64 -> b.putLong(ints.get(i));
                    case F16, BF16 -> b.putShort((short) (long) ints.get(i)); // onnx.proto: 16-bit floats travel in int32_data
                }
            }
            return MemorySegment.ofArray(b.array());
        }

        private static void varints(CodedInputStream in, int wire, List<Long> out) throws IOException {
            if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = in.pushLimit(in.readRawVarint32());
                while (!in.isAtEnd()) {
                    out.add(in.readInt64());
                }
                in.popLimit(limit);
            } else {
                out.add(in.readInt64());
            }
        }
    }
}
