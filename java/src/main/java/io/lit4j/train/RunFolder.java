package io.lit4j.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.data.BadRows;
import io.lit4j.io.AtomicFile;
import io.lit4j.report.LinePlot;

import java.awt.AWTError;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A training run's folder, as the tuner and the pretrainer write it: {@code run.json} (the
 * options, written once), {@code metrics.jsonl} (one JSON object per logged step, appended and
 * flushed as it goes), {@code curves.png} (drawn from the metrics), {@code bad_rows.txt} when data
 * was skipped, and {@code checkpoint/}. On resume the metrics logged after the last checkpoint are
 * dropped, since the resumed run logs those steps again.
 */
final class RunFolder implements AutoCloseable {
    static final String RUN = "run.json";
    static final String METRICS = "metrics.jsonl";
    static final String CURVES = "curves.png";
    static final String CHECKPOINT = "checkpoint";

    private final Path dir;
    private BufferedWriter metrics;

    private RunFolder(Path dir) {
        this.dir = dir;
    }

    /**
     * A new run in {@code dir} with {@code runJson} as its run.json. Unless {@code overwrite}, a
     * folder that already holds a run is an error (continue it instead); with it, its metrics start over.
     */
    static RunFolder create(Path dir, String runJson, boolean overwrite) {
        if (!overwrite && Files.exists(dir.resolve(RUN))) {
            throw new LitException(dir + " already holds a run; continue it with --resume " + dir + " or pick another --out");
        }
        try {
            Files.createDirectories(dir);
            AtomicFile.writeString(dir.resolve(RUN), runJson + "\n");
            Files.deleteIfExists(dir.resolve(METRICS));
        } catch (IOException e) {
            throw new LitException("cannot create the run folder " + dir + ": " + e.getMessage(), e);
        }
        return new RunFolder(dir);
    }

    /** An existing run, to continue: its run.json must be there. */
    static RunFolder open(Path dir) {
        if (!Files.isRegularFile(dir.resolve(RUN))) {
            throw new LitException(dir + " is not a tuning run (no " + RUN + ")");
        }
        return new RunFolder(dir);
    }

    /** Replaces run.json (atomically): for a run.json written before lit4j recorded something it now does. */
    void rewriteRunJson(String runJson) {
        try {
            AtomicFile.writeString(dir.resolve(RUN), runJson + "\n");
        } catch (IOException e) {
            throw new LitException("cannot write " + dir.resolve(RUN) + ": " + e.getMessage(), e);
        }
    }

    /** The run.json text. */
    String runJson() {
        try {
            return Files.readString(dir.resolve(RUN));
        } catch (IOException e) {
            throw new LitException("cannot read " + dir.resolve(RUN) + ": " + e.getMessage(), e);
        }
    }

    Path dir() {
        return dir;
    }

    Path checkpoint() {
        return dir.resolve(CHECKPOINT);
    }

    /** Appends one metrics line and flushes it (a crash loses nothing logged). */
    void log(JsonObject row) {
        try {
            if (metrics == null) {
                metrics = Files.newBufferedWriter(dir.resolve(METRICS), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
            metrics.write(row + "\n");
            metrics.flush();
        } catch (IOException e) {
            throw new LitException("cannot write " + dir.resolve(METRICS) + ": " + e.getMessage(), e);
        }
    }

    /** Drops the metrics logged after {@code step} (the last checkpoint's): a resumed run logs those steps again. */
    void truncateMetrics(long step) {
        Path file = dir.resolve(METRICS);
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            StringBuilder keep = new StringBuilder();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank() && JsonParser.parseString(line).getAsJsonObject().get("step").getAsLong() <= step) {
                    keep.append(line).append('\n');
                }
            }
            AtomicFile.writeString(file, keep.toString());
        } catch (IOException | RuntimeException e) {
            throw new LitException(file + ": cannot rewrite the metrics log: " + e.getMessage(), e);
        }
    }

    /** Writes what was skipped to bad_rows.txt and says so; nothing when nothing was. */
    void reportBadRows(BadRows bad, String command, PrintStream log) {
        if (bad.isEmpty()) {
            return;
        }
        Path file = dir.resolve("bad_rows.txt");
        try {
            AtomicFile.writeString(file, bad.summary() + "\n");
        } catch (IOException e) {
            throw new LitException("cannot write " + file + ": " + e.getMessage(), e);
        }
        log.println("lit4j " + command + ": " + bad.total() + " bad rows skipped (" + file + "):\n" + bad.summary());
    }

    /**
     * Draws curves.png from the metrics: the loss (raw and smoothed), then, when logged, the
     * temperature, the learning rate and the evaluation metric, each in a panel of its own over the
     * steps. The chart is a convenience: if drawing fails (e.g. fonts during JVM shutdown), it says
     * so and goes on.
     */
    void plot(String title, PrintStream log) {
        try {
            JsonObject run = JsonParser.parseString(runJson()).getAsJsonObject();
            int limit = run.has("evalLimit") ? run.get("evalLimit").getAsInt() : 0;
            plot(dir.resolve(METRICS), dir.resolve(CURVES), title, evalData(run), limit);
        } catch (RuntimeException | LinkageError | AWTError e) {
            log.println("lit4j: could not draw " + dir.resolve(CURVES) + ": " + e);
        }
    }

    /** The eval data as run.json names it, e.g. "scenes/test"; null when there is none. */
    private static String evalData(JsonObject run) {
        if (!run.has("evalData") || run.get("evalData").isJsonNull()) {
            return null;
        }
        Path data = Path.of(run.get("evalData").getAsString());
        if (data.getNameCount() >= 2) {   // "scenes/test" says more than "test"
            data = data.subpath(data.getNameCount() - 2, data.getNameCount());
        }
        return data.toString();
    }

    /** One column of the metrics log: NaN where a row lacks the key. */
    private static double[] column(List<JsonObject> rows, String key) {
        return rows.stream().mapToDouble(m -> m.has(key) ? m.get(key).getAsDouble() : Double.NaN).toArray();
    }

    static void plot(Path metrics, Path png, String title, String evalData, int evalLimit) {
        List<JsonObject> rows = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(metrics)) {
                if (!line.isBlank()) {
                    rows.add(JsonParser.parseString(line).getAsJsonObject());
                }
            }
        } catch (IOException e) {
            throw new LitException("cannot read " + metrics + ": " + e.getMessage(), e);
        }
        if (rows.isEmpty()) {
            return;
        }
        double[] x = column(rows, "step");
        LinePlot chart = new LinePlot(title, "step");
        chart.panel("loss").smoothed("loss", x, column(rows, "loss"));
        if (rows.stream().anyMatch(m -> m.has("temperature"))) {
            chart.panel("temperature").line("temperature", x, column(rows, "temperature"));
        }
        if (rows.stream().anyMatch(m -> m.has("lr"))) {
            chart.panel("learning rate").line("learning rate", x, column(rows, "lr"));
        }
        for (String key : List.of("eval_top1", "eval_t2i_r1")) {
            List<JsonObject> evals = rows.stream().filter(m -> m.has(key)).toList();
            if (!evals.isEmpty()) {
                String metric = key.equals("eval_top1") ? "zero-shot top-1" : "text-to-image recall@1";
                double images = evals.getLast().has("eval_images") ? evals.getLast().get("eval_images").getAsDouble() : 0;
                String on = evalData == null ? "the eval data" : images > 0 ? evalData + " (" + (long) images + " images)"
                        : evalData + (evalLimit > 0 ? " (at most " + evalLimit + " images)" : "");
                chart.panel(metric).range(0, 1).line(metric + " on " + on,
                        column(evals, "step"), column(evals, key));
            }
        }
        chart.save(png);
    }

    @Override
    public void close() {
        if (metrics != null) {
            try {
                metrics.close();
            } catch (IOException ignored) {
                // every line was flushed as it was written
            }
            metrics = null;
        }
    }
}
