package io.lit4j.cli;

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

    @Option(names = "--index", required = true, description = "FILE.npy from 'lit4j embed' (ids in FILE.ids.txt)")
    Path index;

    @Option(names = "--query", required = true)
    String query;

    @Option(names = "--top", defaultValue = "5")
    int top;

    @Override
    public Integer call() throws IOException {
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
            Table t = new Table("rank", "score", "id");
            int rank = 1;
            for (LitModel.Hit h : m.retrieve(arr.toFloatArray(), ids, query, top)) {
                t.row(rank++, String.format("%.4f", h.score()), h.id());
            }
            spec.commandLine().getOut().println("query: \"" + query + "\"");
            spec.commandLine().getOut().print(t.toText());
        }
        return 0;
    }
}
