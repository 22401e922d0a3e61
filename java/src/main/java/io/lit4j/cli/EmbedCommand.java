package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.data.CaptionDataset;
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

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lit4j embed}: L2-normalised embeddings of a folder of images or a file of texts, as .npy (+ ids). */
@Command(name = "embed", description = {"Embed a folder of images or a file of texts (one per line) into FILE.npy [n, dim],",
        "with the row ids in FILE.ids.txt (image paths or line numbers): an index for 'lit4j retrieve'."})
final class EmbedCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    static final class Source {
        @Option(names = "--images", description = "folder of images (recursively)")
        Path images;

        @Option(names = "--texts", description = "text file, one text per line")
        Path texts;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--out", required = true, description = "FILE.npy")
    Path out;

    @Override
    public Integer call() throws IOException {
        try (LitModel m = modelOptions.open(common)) {
            List<String> ids = new ArrayList<>();
            float[] z;
            if (source.images != null) {
                try (CaptionDataset ds = CaptionDataset.ofImagesOnly(source.images);
                     ProgressBar bar = new ProgressBar("embed", ds.size(), System.err)) {
                    if (ds.size() == 0) {
                        throw new LitException(source.images + ": no images found");
                    }
                    ImageEmbedder.Result r = m.images().embedAll(ImageSource.of(ds), true, bar::step);
                    Skipped.report(spec.commandLine().getErr(), "embed", ds.badRows(), r.skipped());
                    if (r.names().isEmpty()) {
                        throw new LitException(source.images + ": none of its " + ds.size() + " images could be decoded");
                    }
                    ids.addAll(r.names());
                    z = r.embeddings();
                }
            } else {
                List<String> lines = Files.readAllLines(source.texts).stream().filter(l -> !l.isBlank()).toList();
                for (int i = 0; i < lines.size(); i++) {
                    ids.add(lines.get(i));
                }
                z = m.embedTexts(lines);
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment seg = a.allocate((long) z.length * 4);
                MemorySegment.copy(z, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, z.length);
                Npy.writeFile(out, DType.F32, new long[] {ids.size(), m.embedDim()}, seg);
            }
            AtomicFile.writeString(idsFile(out), String.join("\n", ids) + "\n");
            spec.commandLine().getOut().println("wrote " + ids.size() + " embeddings of dim " + m.embedDim() + " to " + out + " (ids: " + idsFile(out) + ")");
        }
        return 0;
    }

    static Path idsFile(Path npy) {
        String n = npy.getFileName().toString();
        return npy.resolveSibling((n.endsWith(".npy") ? n.substring(0, n.length() - 4) : n) + ".ids.txt");
    }
}
