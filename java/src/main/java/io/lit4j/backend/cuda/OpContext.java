package io.lit4j.backend.cuda;

/**
 * The op the calling thread is running, for error messages: {@code CudaBackend} names each op
 * and its operands on entry, and a library call failing deep inside reports it ("in layerNorm
 * F32[3,17] F32[3,17]"). The text is only built when something fails; ops do not nest.
 */
final class OpContext {
    private record Op(String name, Object[] operands) {
    }

    private static final ThreadLocal<Op> CURRENT = new ThreadLocal<>();

    private OpContext() {
    }

    /** Marks the start of {@code op}; pass the tensors it takes (nulls are skipped). */
    static void enter(String op, Object... operands) {
        CURRENT.set(new Op(op, operands));
    }

    /** The current op and its operands as one line, or null outside one. */
    static String current() {
        Op op = CURRENT.get();
        if (op == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(op.name());
        for (Object o : op.operands()) {
            if (o != null) {
                b.append(' ').append(o);
            }
        }
        return b.toString();
    }
}
