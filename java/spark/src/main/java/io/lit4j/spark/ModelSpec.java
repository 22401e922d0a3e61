package io.lit4j.spark;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.model.Precision;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which model a task opens and how: the model ({@code "default"} for the shipped one, a path every
 * executor can read, or the file name of one shipped with {@code spark-submit --files}), the
 * backend, oneDNN threads (0: the task's {@code spark.task.cpus}), precision and batch size. Small
 * and serialisable: this, not the model, travels to executors.
 */
public record ModelSpec(String model, String backend, int threads, String precision, int batchSize) implements Serializable {
    public ModelSpec {
        if (model == null || model.isBlank()) {
            throw new LitException("no model: set the model path (\"default\" for the shipped model)");
        }
        if (batchSize < 1 || threads < 0) {
            throw new LitException("model " + model + ": batch size " + batchSize + " (>= 1) and threads " + threads + " (>= 0)");
        }
        Precision.parse(precision); // a bad name fails here, on the driver
    }

    /** This spec with threads fixed for the running task: its {@code spark.task.cpus} when threads is 0. */
    ModelSpec forThisTask() {
        if (threads > 0) {
            return this;
        }
        TaskContext tc = TaskContext.get();
        return new ModelSpec(model, backend, tc == null ? 1 : Math.max(1, tc.cpus()), precision, batchSize);
    }

    LitModel.Options options() {
        return LitModel.Options.defaults().withBackend(backend).withThreads(threads).withPrecision(Precision.parse(precision))
                .withBatchSize(batchSize);
    }

    /** Where the model is on this machine: "default", the path itself, or the copy {@code --files} put in the work folder. */
    String resolve() {
        if (model.equals(LitModel.DEFAULT_MODEL) || Files.exists(Path.of(model))) {
            return model;
        }
        try {
            String shipped = SparkFiles.get(Path.of(model).getFileName().toString());
            if (Files.exists(Path.of(shipped))) {
                return shipped;
            }
        } catch (RuntimeException e) {
            // no SparkEnv here (not in a Spark JVM): the message below says what to do
        }
        throw new LitException("model " + model + ": no such file on this machine; give a path every executor can read, "
                + "ship it with spark-submit --files, or use \"default\"");
    }
}
