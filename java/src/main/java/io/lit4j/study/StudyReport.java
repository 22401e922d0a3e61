package io.lit4j.study;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.io.AtomicFolder;
import io.lit4j.report.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A study's results folder, {@code out/<study>/}, written all at once (replacing the last one):
 * {@code table.md} (the table, the command, the wall time, the machine's load before and after),
 * {@code results.json} (every arm's metrics, the command, the time, the load, the findings), the
 * PNG charts, and {@code command.txt} (the command alone, to paste).
 */
public final class StudyReport {
    private final String study;
    private final String command;
    private final long start = System.nanoTime();
    private final String loadBefore = load();
    private final List<ArmResult> arms = new ArrayList<>();
    private final List<String> findings = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<Chart> charts = new ArrayList<>();
    private Table table;

    private record Chart(String file, Consumer<Path> draw) {
    }

    public StudyReport(String study, String command) {
        this.study = study;
        this.command = command;
    }

    public void add(ArmResult r) {
        arms.add(r);
    }

    public List<ArmResult> arms() {
        return List.copyOf(arms);
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
        JsonObject o = new JsonObject();
        o.addProperty("study", study);
        o.addProperty("command", command);
        o.addProperty("wall_seconds", Math.round(secs));
        o.addProperty("load_before", loadBefore);
        o.addProperty("load_after", loadAfter);
        JsonArray a = new JsonArray();
        arms.forEach(r -> a.add(r.toJson()));
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
        md.append("\nCommand: `").append(command).append("`  \n");
        md.append(String.format(Locale.ROOT, "Wall time: %.0f s (%.1f min)  \n", secs, secs / 60));
        md.append("Machine: ").append(loadBefore).append(" before, ").append(loadAfter).append(" after\n");
        try (AtomicFolder folder = AtomicFolder.begin(dir, true, false)) {
            for (Chart c : charts) {
                c.draw().accept(folder.resolve(c.file()));
            }
            folder.writeString("results.json", new GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting().create().toJson(o)
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
