package io.lit4j.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.TrainBatches;
import io.lit4j.io.AtomicFile;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.io.SafetensorsWriter;
import io.lit4j.model.TwoTower;
import io.lit4j.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What a trainer saves beside the model so that a run continues exactly: the steps done, where
 * the batch stream is, and the optimizer's update count ({@code trainer.json}) and moments
 * ({@code optimizer.safetensors}). {@link #save} writes them with the model as one lit4j folder,
 * replaced atomically.
 */
record TrainerCheckpoint(long step, TrainBatches.State data, long updates) {
    static final String STATE = "trainer.json";
    static final String OPTIMIZER = "optimizer.safetensors";

    /** Saves {@code model}, its tokenizer and the trainer state at {@code step} into {@code dir}. */
    static void save(TwoTower model, AdamW optimizer, TrainBatches.State data, long step, Path dir, Path tokenizer) {
        JsonObject st = new JsonObject();
        st.addProperty("step", step);
        st.addProperty("epoch", data.epoch());
        st.addProperty("position", data.position());
        st.addProperty("batches", data.batches());
        st.addProperty("updates", optimizer.updates());
        Backend be = model.backend();
        LitFormat.save(model, dir, tokenizer, folder -> {
            try (Arena arena = Arena.ofConfined()) {
                List<HostArray> arrays = new ArrayList<>();
                for (Map.Entry<String, Tensor> e : optimizer.state().entrySet()) {
                    long[] shape = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
                    arrays.add(HostArray.ofFloats(e.getKey(), shape, be.download(e.getValue()), arena));
                }
                SafetensorsWriter.write(folder.resolve(OPTIMIZER), Map.of(), arrays);
            }
            AtomicFile.writeString(folder.resolve(STATE), st + "\n");
        });
    }

    /** The trainer state saved in {@code dir}. */
    static TrainerCheckpoint read(Path dir) {
        Path file = dir.resolve(STATE);
        try {
            JsonObject st = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            return new TrainerCheckpoint(count(st, "step", file),
                    new TrainBatches.State(Math.toIntExact(count(st, "epoch", file)), Math.toIntExact(count(st, "position", file)),
                            count(st, "batches", file)),
                    count(st, "updates", file));
        } catch (LitException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new LitException(file + ": cannot read the trainer state: " + e.getMessage(), e);
        }
    }

    /** A whole, non-negative number the state must have. */
    private static long count(JsonObject st, String field, Path file) {
        JsonElement v = st.get(field);
        if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw new LitException(file + ": field \"" + field + "\" is missing or not a number; the checkpoint is damaged (resume from an "
                    + "earlier one, or start a new run from its weights with --model)");
        }
        double d = v.getAsDouble();
        if (d < 0 || d != Math.rint(d) || d > Integer.MAX_VALUE * 1024.0 * 1024.0) {
            throw new LitException(file + ": field \"" + field + "\" is " + v + "; expected a whole number of 0 or more");
        }
        return v.getAsLong();
    }

    /** Loads the optimizer's moments and update count saved in {@code dir}. */
    void restore(Backend be, AdamW optimizer, Path dir) {
        Path file = dir.resolve(OPTIMIZER);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (Map.Entry<String, Tensor> e : optimizer.state().entrySet()) {
                if (!r.contains(e.getKey())) {
                    throw new LitException(file + ": no optimizer state for '" + e.getKey() + "' (was the run's setup changed?)");
                }
                be.upload(r.read(e.getKey()).toFloatArray(), e.getValue());
            }
        }
        optimizer.restore(updates);
    }
}
