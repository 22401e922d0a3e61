package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.io.HostArray;
import io.lit4j.io.Npy;
import io.lit4j.report.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lit4j retrieve}: the images (or texts) of an embedding index most similar to a text query. */
@Command(name = "retrieve", description = "Find the rows of an index made by 'lit4j embed' that best match a text query.")
final class RetrieveCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    @Option(names = "--index", required = true, paramLabel = "FILE.npy", description = "an index from 'lit4j embed' (ids in FILE.ids.txt)")
    Path index;

    @Option(names = "--query", required = true, paramLabel = "TEXT", description = "what to look for, e.g. \"a red car\"")
    String query;

    @Option(names = "--top", paramLabel = "K", description = "rows to show", defaultValue = "5")
    int top;

    @Option(names = "--json", description = "machine-readable output on stdout")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (top < 1) {
            throw new LitException("--top " + top + ": give 1 or more rows to show");
        }
        if (query.isBlank()) {
            throw new LitException("--query is empty: give the text to look for, e.g. --query \"a red car\"");
        }
        if (!Files.isRegularFile(index)) {
            throw new LitException(index + (Files.isDirectory(index) ? ": is a folder" : ": no such file")
                    + "; --index wants the FILE.npy that 'lit4j embed --out FILE.npy' wrote");
        }
        Path idsFile = EmbedCommand.idsFile(index);
        if (!Files.isRegularFile(idsFile)) {
            throw new LitException(index + ": no ids file " + idsFile + " beside it (make the index with 'lit4j embed')");
        }
        List<String> ids = Files.readAllLines(idsFile).stream().filter(l -> !l.isEmpty()).toList();
        try (LitModel m = modelOptions.open(common); Arena a = Arena.ofConfined()) {
            HostArray arr = Npy.readFile(index, a);
            if (arr.shape().length != 2 || arr.shape()[1] != m.embedDim()) {
                throw new LitException(index + ": shape " + Arrays.toString(arr.shape()) + " does not match the model's embedding dim "
                        + m.embedDim() + " (was it made with another model?)");
            }
            if (ids.size() != arr.shape()[0]) {
                throw new LitException(idsFile + ": " + ids.size() + " ids for the " + arr.shape()[0] + " rows of " + index
                        + " (rewrite both with 'lit4j embed')");
            }
            List<LitModel.Hit> hits = m.retrieve(arr.toFloatArray(), ids, query, top);
            if (json) {
                JsonArray rows = new JsonArray();
                for (LitModel.Hit h : hits) {
                    JsonObject o = new JsonObject();
                    o.addProperty("row", h.row());
                    o.addProperty("id", h.id());
                    o.addProperty("score", h.score());
                    rows.add(o);
                }
                JsonObject o = new JsonObject();
                o.addProperty("query", query);
                o.add("hits", rows);
                spec.commandLine().getOut().println(o);
                return 0;
            }
            Table t = new Table("rank", "score", "id");
            int rank = 1;
            for (LitModel.Hit h : hits) {
                t.row(rank++, String.format("%.4f", h.score()), h.id());
            }
            spec.commandLine().getOut().println("query: \"" + query + "\"");
            spec.commandLine().getOut().print(t.toText());
        }
        return 0;
    }
}
