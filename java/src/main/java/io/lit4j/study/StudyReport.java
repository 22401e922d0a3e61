package io.lit4j.study;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.LitException;
import io.lit4j.io.AtomicFolder;
import io.lit4j.report.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A study's results folder, {@code out/<study>/}, written all at once (replacing the last one):
 * {@code table.md} (the table, the options, every contributing command with its wall time and the
 * machine's load before and after), {@code results.json} (the options, every arm's metrics and the
 * command that made it, the runs, the findings), the PNG charts, and {@code command.txt} (this
 * run's command alone, to paste).
 *
 * <p><b>Adding to a table.</b> A study that calls {@link #keepEarlierArms()} (setups does) adds to
 * the {@code results.json} already in its folder instead of replacing it: earlier arms that this
 * run does not run are kept with the command that made them, this run's arms replace those of the
 * same arm and seed, and the runs that still contribute an arm are all listed. Only a file with the
 * same {@linkplain StudyOptions#recipe() recipe} and study options merges; any other is refused,
 * naming the field that differs ({@code --replace} starts afresh). A field the earlier file lacks
 * (files written before the options were recorded) counts as the command line's default,
 * {@link StudyOptions#defaultRecipe()}, which is what those runs used.
 */
public final class StudyReport {
    static final String RESULTS = "results.json";

    private final String study;
    private final String command;
    private final StudyOptions so;
    private final JsonObject options;
    private final long start = System.nanoTime();
    private final String loadBefore = load();
    private final List<ArmResult> arms = new ArrayList<>();
    /** Earlier arms kept from the folder's results.json, with the command of each. */
    private final List<Earlier> earlier = new ArrayList<>();
    /** Earlier runs, as results.json's {@code runs} records them. */
    private final List<JsonObject> earlierRuns = new ArrayList<>();
    private final List<String> findings = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<Chart> charts = new ArrayList<>();
    private Table table;

    private record Chart(String file, Consumer<Path> draw) {
    }

    private record Earlier(ArmResult arm, String command) {
    }

    /** A report of {@code study} run with {@code o}: its command and recipe go into the report. */
    public StudyReport(String study, StudyOptions o) {
        this.study = study;
        this.so = o;
        this.command = o.command();
        this.options = o.recipe();
    }

    /** Records a study option that decides its numbers (in results.json and table.md; a merged table needs it equal). */
    public StudyReport option(String key, Number value) {
        options.addProperty(key, value instanceof Float f ? Double.valueOf(f.toString()) : value); // 0.95f as 0.95, as it reads back
        return this;
    }

    /**
     * Unless {@code --replace}: keeps the arms of the {@code results.json} already in this study's
     * folder (see the class comment); refuses one made with other options. Call before tuning.
     */
    public void keepEarlierArms() {
        if (so.replace()) {
            return;
        }
        Path file = so.out().resolve(study).resolve(RESULTS);
        if (!Files.isRegularFile(file)) {
            return;
        }
        JsonObject old;
        try {
            old = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new LitException(file + " is unreadable (" + e.getMessage() + "): fix or remove it, or pass --replace");
        }
        if (!old.has("study") || !old.get("study").getAsString().equals(study) || !old.has("arms")) {
            throw new LitException(file + " is not the results of study " + study + ": remove it or pass --replace");
        }
        JsonObject was = old.has("options") ? old.getAsJsonObject("options") : new JsonObject();
        JsonObject defaults = StudyOptions.defaultRecipe();
        for (String k : options.keySet()) {
            JsonElement before = was.has(k) ? was.get(k) : defaults.get(k);
            if (!options.get(k).equals(before)) {
                throw new LitException(file + " was made with " + k + " = " + (before == null ? "(not recorded)" : before) + ", this run has " + k
                        + " = " + options.get(k) + ": its arms cannot share a table with this run's (same options, or --replace to start afresh)");
            }
        }
        String oldCommand = old.has("command") ? old.get("command").getAsString() : "(unknown)";
        if (old.has("runs")) {
            old.getAsJsonArray("runs").forEach(r -> earlierRuns.add(r.getAsJsonObject()));
        } else {
            earlierRuns.add(run(oldCommand, old.has("wall_seconds") ? old.get("wall_seconds").getAsLong() : -1,
                    old.has("load_before") ? old.get("load_before").getAsString() : "load average: unknown",
                    old.has("load_after") ? old.get("load_after").getAsString() : "load average: unknown"));
        }
        for (JsonElement e : old.getAsJsonArray("arms")) {
            JsonObject a = e.getAsJsonObject();
            earlier.add(new Earlier(ArmResult.fromJson(a), a.has("command") ? a.get("command").getAsString() : oldCommand));
        }
    }

    public void add(ArmResult r) {
        arms.add(r);
    }

    /** Every arm of the table: the earlier ones kept (in place of the same arm and seed, this run's), then this run's others. */
    public List<ArmResult> arms() {
        return entries().stream().map(Earlier::arm).toList();
    }

    /** {@link #arms()} with the command that made each. */
    private List<Earlier> entries() {
        List<Earlier> out = new ArrayList<>();
        List<ArmResult> mine = new ArrayList<>(arms);
        for (Earlier e : earlier) {
            ArmResult now = mine.stream().filter(r -> same(r, e.arm())).findFirst().orElse(null);
            out.add(now == null ? e : new Earlier(now, command));
            mine.remove(now);
        }
        mine.forEach(r -> out.add(new Earlier(r, command)));
        return out;
    }

    private static boolean same(ArmResult a, ArmResult b) {
        return a.arm().equals(b.arm()) && a.seed() == b.seed();
    }

    private static JsonObject run(String command, long wallSeconds, String loadBefore, String loadAfter) {
        JsonObject r = new JsonObject();
        r.addProperty("command", command);
        r.addProperty("wall_seconds", wallSeconds);
        r.addProperty("load_before", loadBefore);
        r.addProperty("load_after", loadAfter);
        return r;
    }

    public void table(Table t) {
        table = t;
    }

    /** A sentence the study concludes from its numbers (printed, and in the JSON and table.md). */
    public void finding(String line) {
        findings.add(line);
    }

    /** A sentence about how the study ran (what was skipped, what a number means). */
    public void note(String line) {
        notes.add(line);
    }

    /** A chart drawn into {@code file} when the report is written. */
    public void chart(String file, Consumer<Path> draw) {
        charts.add(new Chart(file, draw));
    }

    /** The machine's load averages, as {@code uptime} prints them (from /proc/loadavg; "unknown" elsewhere). */
    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return "load average: " + f[0] + ", " + f[1] + ", " + f[2] + " on " + Runtime.getRuntime().availableProcessors() + " cores";
        } catch (IOException | RuntimeException e) {
            return "load average: unknown";
        }
    }

    public double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    /** Writes the folder {@code out/<study>} and returns it. */
    public Path write(Path out) {
        Path dir = out.resolve(study);
        double secs = seconds();
        String loadAfter = load();
        List<Earlier> all = entries();
        // the runs that still contribute an arm, the earliest first, then this one
        List<JsonObject> runs = new ArrayList<>();
        for (JsonObject r : earlierRuns) {
            String c = r.get("command").getAsString();
            if (!c.equals(command) && all.stream().anyMatch(e -> e.command().equals(c))) {
                runs.add(r);
            }
        }
        runs.add(run(command, Math.round(secs), loadBefore, loadAfter));
        JsonObject o = new JsonObject();
        o.addProperty("study", study);
        o.addProperty("command", command);
        o.add("options", options);
        o.addProperty("wall_seconds", Math.round(secs));
        o.addProperty("load_before", loadBefore);
        o.addProperty("load_after", loadAfter);
        JsonArray rs = new JsonArray();
        runs.forEach(rs::add);
        o.add("runs", rs);
        JsonArray a = new JsonArray();
        for (Earlier e : all) {
            JsonObject j = e.arm().toJson();
            j.addProperty("command", e.command());
            a.add(j);
        }
        o.add("arms", a);
        JsonArray f = new JsonArray();
        findings.forEach(f::add);
        o.add("findings", f);
        JsonArray n = new JsonArray();
        notes.forEach(n::add);
        o.add("notes", n);
        StringBuilder md = new StringBuilder();
        md.append("# lit4j study ").append(study).append("\n\n");
        if (table != null) {
            md.append(table.toMarkdown()).append('\n');
        }
        for (String s : findings) {
            md.append("- ").append(s).append('\n');
        }
        for (String s : notes) {
            md.append("- note: ").append(s).append('\n');
        }
        md.append("\nOptions: ").append(options.entrySet().stream().map(e -> e.getKey() + " = " + e.getValue())
                .collect(Collectors.joining(", "))).append("  \n");
        if (runs.size() > 1) {
            md.append("\nThe arms come from ").append(runs.size()).append(" runs, the earliest first (results.json names each arm's):\n");
        }
        for (JsonObject r : runs) {
            long w = r.get("wall_seconds").getAsLong();
            md.append("\nCommand: `").append(r.get("command").getAsString()).append("`  \n");
            md.append(w < 0 ? "Wall time: unknown  \n" : String.format(Locale.ROOT, "Wall time: %d s (%.1f min)  \n", w, w / 60.0));
            md.append("Machine: ").append(r.get("load_before").getAsString()).append(" before, ").append(r.get("load_after").getAsString())
                    .append(" after\n");
        }
        try (AtomicFolder folder = AtomicFolder.begin(dir, true, false)) {
            for (Chart c : charts) {
                c.draw().accept(folder.resolve(c.file()));
            }
            folder.writeString(RESULTS, new GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting().create().toJson(o)
                    + "\n");
            folder.writeString("table.md", md.toString());
            folder.writeString("command.txt", command + "\n");
            folder.commit();
        }
        return dir;
    }

    /** The table as text, then the findings: what the command prints. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        if (table != null) {
            sb.append(table.toText());
        }
        findings.forEach(s -> sb.append(s).append('\n'));
        notes.forEach(s -> sb.append("note: ").append(s).append('\n'));
        return sb.toString();
    }
}
