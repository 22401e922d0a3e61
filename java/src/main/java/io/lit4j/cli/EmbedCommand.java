package io.lit4j.cli;

import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.embed.ImageSource;
import io.lit4j.io.AtomicFile;
import io.lit4j.io.Npy;
import io.lit4j.report.ProgressBar;
import io.lit4j.tensor.DType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lit4j embed}: L2-normalised embeddings of images or of a file of texts, as .npy (+ ids). */
@Command(name = "embed", description = {"Embed images or texts into FILE.npy: an index for 'lit4j retrieve'.",
        "Writes [n, dim] L2-normalised rows, their ids in FILE.ids.txt (image paths or the texts), and the images that",
        "could not be decoded (skipped) in FILE.bad_files.txt."})
final class EmbedCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    static final class Source {
        @Option(names = "--images", arity = "1..*", paramLabel = "IMAGES",
                description = "image files, folders (recursively), quoted globs or - (paths on stdin)")
        List<String> images;

        @Option(names = "--texts", paramLabel = "FILE", description = "text file, one text per line (- for stdin)")
        Path texts;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--out", required = true, paramLabel = "FILE.npy", description = "the embeddings; ids and skipped files go beside it")
    Path out;

    @Option(names = "--json", description = "machine-readable summary on stdout")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (Files.isDirectory(out)) {
            throw new LitException(out + ": is a folder; --out wants a file name such as " + out.resolve("index.npy"));
        }
        List<String> texts = source.texts == null ? null : readTexts(source.texts);
        ImageInputs inputs = source.images == null ? null : ImageInputs.resolve(source.images, System.in);
        try (LitModel m = modelOptions.open(common)) {
            List<String> ids = new ArrayList<>();
            List<Skipped.File> skipped = List.of();
            float[] z;
            if (inputs != null) {
                try (ProgressBar bar = common.progress("embed", inputs.images().size())) {
                    ImageEmbedder.Result r = m.images().embedAll(ImageSource.files(inputs.paths()), i -> inputs.images().get(i).skippable(),
                            bar::step);
                    bar.close();
                    skipped = Skipped.list(inputs, r);
                    Skipped.report(common, inputs.listing(), r.skipped());
                    if (r.indices().length == 0) {
                        throw new LitException("none of the " + inputs.images().size() + " images in " + String.join(" ", source.images)
                                + " could be decoded");
                    }
                    for (int i : r.indices()) {
                        ids.add(inputs.images().get(i).shown());
                    }
                    z = r.embeddings();
                }
            } else {
                ids.addAll(texts);
                try (ProgressBar bar = texts.size() > 1024 ? common.progress("embed", texts.size()) : ProgressBar.silent()) {
                    z = m.texts().embed(texts, bar::step);
                }
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment seg = a.allocate((long) z.length * 4);
                MemorySegment.copy(z, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, z.length);
                Npy.writeFile(out, DType.F32, new long[] {ids.size(), m.embedDim()}, seg);
            }
            AtomicFile.writeString(idsFile(out), String.join("\n", ids) + "\n");
            Path bad = sibling(out, ".bad_files.txt");
            boolean wroteBad = Skipped.write(bad, skipped);
            if (!wroteBad) {
                Files.deleteIfExists(bad); // an old list from an earlier run would mislead
            }
            if (json) {
                JsonObject o = new JsonObject();
                o.addProperty("embeddings", out.toString());
                o.addProperty("ids", idsFile(out).toString());
                o.addProperty("rows", ids.size());
                o.addProperty("dim", m.embedDim());
                o.add("skipped", Skipped.json(skipped));
                if (wroteBad) {
                    o.addProperty("bad_files", bad.toString());
                }
                spec.commandLine().getOut().println(o);
            } else {
                spec.commandLine().getOut().println("wrote " + ids.size() + " embeddings of dim " + m.embedDim() + " to " + out + " (ids: "
                        + idsFile(out) + (wroteBad ? "; skipped files: " + bad : "") + ")");
            }
        }
        return 0;
    }

    /** The non-blank lines of a text file (or stdin), each a text to embed. */
    private static List<String> readTexts(Path file) {
        try {
            List<String> lines;
            if (file.toString().equals("-")) {
                lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).lines().toList();
            } else if (Files.isDirectory(file)) {
                throw new LitException(file + ": is a folder; --texts wants a text file with one text per line (for images use --images "
                        + file + ")");
            } else if (!Files.isRegularFile(file)) {
                throw new LitException(file + ": no such file; --texts wants a text file with one text per line");
            } else {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            }
            List<String> texts = lines.stream().filter(l -> !l.isBlank()).toList();
            if (texts.isEmpty()) {
                throw new LitException(file + ": holds no text (one text per line; blank lines are skipped)");
            }
            return texts;
        } catch (MalformedInputException e) {
            throw new LitException(file + ": is not UTF-8 text (" + e.getMessage() + "); --texts wants one text per line", e);
        } catch (IOException | UncheckedIOException e) {
            throw new LitException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static Path idsFile(Path npy) {
        return sibling(npy, ".ids.txt");
    }

    private static Path sibling(Path npy, String suffix) {
        String n = npy.getFileName().toString();
        return npy.resolveSibling((n.endsWith(".npy") ? n.substring(0, n.length() - 4) : n) + suffix);
    }
}
