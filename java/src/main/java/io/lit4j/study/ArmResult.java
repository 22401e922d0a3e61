package io.lit4j.study;

import com.google.gson.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One tuned arm of a study: its name, seed, metrics (zero-shot {@code top1}/{@code top5},
 * retrieval {@code i2t_r1} ... {@code t2i_r10}, each prefixed by its evaluation's name, and
 * {@code skipped}, the training rows the tuner skipped), the
 * final training loss, the steps, and the wall seconds its tuning took (evaluation not counted).
 */
public record ArmResult(String arm, long seed, Map<String, Double> metrics, double finalLoss, long steps, double seconds) {
    /** The keys of an arm's JSON that are not metrics ({@code command}: the study run that made it, kept by {@link StudyReport}). */
    static final Set<String> NOT_METRICS = Set.of("arm", "seed", "final_loss", "steps", "seconds", "command");

    public ArmResult {
        metrics = new LinkedHashMap<>(metrics);
    }

    public double metric(String key) {
        return metrics.getOrDefault(key, Double.NaN);
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("arm", arm);
        o.addProperty("seed", seed);
        metrics.forEach(o::addProperty);
        o.addProperty("final_loss", finalLoss);
        o.addProperty("steps", steps);
        o.addProperty("seconds", seconds);
        return o;
    }

    static ArmResult fromJson(JsonObject o) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String k : o.keySet()) {
            if (!NOT_METRICS.contains(k)) {
                m.put(k, o.get(k).getAsDouble());
            }
        }
        return new ArmResult(o.get("arm").getAsString(), o.get("seed").getAsLong(), m, o.get("final_loss").getAsDouble(),
                o.get("steps").getAsLong(), o.get("seconds").getAsDouble());
    }
}
