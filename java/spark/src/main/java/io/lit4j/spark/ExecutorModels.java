package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.LitModel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One native model per executor JVM and {@link ModelSpec}, shared by all the tasks that run there:
 * loaded on first use, closed when the JVM exits. A model that cannot load is remembered as its
 * error, so the tasks after the first fail at once with the same message instead of each loading
 * again. (Not a second embedding path: it only holds {@link LitModel}s.)
 */
final class ExecutorModels {
    private static final Map<ModelSpec, Object> MODELS = new ConcurrentHashMap<>(); // LitModel or the LitException it failed with

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "lit4j-close-models"));
    }

    private ExecutorModels() {
    }

    /** The model of {@code spec} (threads already fixed), loading it if this JVM has not yet. */
    static LitModel get(ModelSpec spec) {
        Object m = MODELS.computeIfAbsent(spec, s -> {
            try {
                return LitModel.open(s.resolve(), s.options());
            } catch (RuntimeException e) {
                return e instanceof LitException le ? le : new LitException("model " + s.model() + ": cannot load: " + e, e);
            }
        });
        if (m instanceof LitException e) {
            throw new LitException("model " + spec.model() + ": cannot load: " + e.getMessage(), e);
        }
        return (LitModel) m;
    }

    /** Closes every model (at JVM exit; tests call it between sessions). */
    static synchronized void closeAll() {
        for (Object m : MODELS.values()) {
            if (m instanceof LitModel model) {
                model.close();
            }
        }
        MODELS.clear();
    }
}
