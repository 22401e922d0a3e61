package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.HfExport;
import io.lit4j.checkpoint.KnownModels;
import io.lit4j.checkpoint.LitFormat;
import io.lit4j.data.TextTokenizer;
import io.lit4j.model.TwoTower;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code lit4j convert IN --out DIR [--to lit4j|hf]}: any checkpoint lit4j reads, written as a lit4j
 * model folder (config.json, fp32 model.safetensors and the tokenizer found beside the input), or
 * with {@code --to hf} as HuggingFace safetensors + config.json for the towers transformers has
 * ({@link HfExport}); either loads back to the same embeddings bit for bit. Through
 * {@link Checkpoints}, so a new format converts with no change here.
 */
@Command(name = "convert", description = {"Write any checkpoint lit4j reads as a lit4j model folder (config.json, model.safetensors,",
        "tokenizer), or with --to hf as HuggingFace safetensors + config.json (CLIP, SigLIP, ViT, BERT towers):",
        "either loads back to the same embeddings bit for bit."})
final class ConvertCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "a model folder, .npz, .safetensors, .onnx, or a name (minilm)")
    String in;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the lit4j folder to write (must not exist, or be empty)")
    Path out;

    @Option(names = "--to", paramLabel = "FORMAT", description = "lit4j (default) or hf: HuggingFace folders for the towers transformers has")
    String to = "lit4j";

    @Option(names = "--json", description = "machine-readable output on stdout")
    boolean json;

    @Override
    public Integer call() {
        if (!to.equals("lit4j") && !to.equals("hf")) {
            throw new LitException("--to should be lit4j or hf, got '" + to + "'");
        }
        Path p = KnownModels.isName(in) && !Files.exists(Path.of(in)) ? KnownModels.resolve(in) : Path.of(in);
        if (Files.exists(out) && !isEmptyFolder(out)) {
            throw new LitException(out + " exists and is not empty: choose a new --out folder");
        }
        Checkpoints.Detected d = Checkpoints.inspect(p);
        Path tok = TextTokenizer.findIn(Files.isDirectory(p) ? p : p.toAbsolutePath().getParent());
        HfExport.Written hf = null;
        try (ScalarBackend be = new ScalarBackend(); TwoTower m = Checkpoints.load(be, p)) {
            TextTokenizer.Conventions conventions = tok != null ? Checkpoints.textConventions(p) : null;
            if (to.equals("hf")) {
                hf = HfExport.save(m, out, d.config().hasText() ? tok : null, conventions);
            } else {
                LitFormat.save(m, out, d.config().hasText() ? tok : null, conventions, folder -> { });
            }
        }
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("from", p.toString());
            o.addProperty("format", d.format().name().toLowerCase(Locale.ROOT));
            o.addProperty("out", out.toString());
            o.addProperty("tokenizer", tok == null ? null : tok.getFileName().toString());
            o.addProperty("to", to);
            if (hf != null) {
                JsonArray folders = new JsonArray(), notes = new JsonArray();
                hf.folders().forEach(folders::add);
                hf.notes().forEach(notes::add);
                o.add("folders", folders);
                o.add("notes", notes);
            }
            spec.commandLine().getOut().println(o);
        } else {
            spec.commandLine().getOut().println("lit4j convert: " + d.format().name().toLowerCase(Locale.ROOT) + " " + p + " -> " + out
                    + (hf != null ? " (HuggingFace" + (hf.folders().equals(List.of("")) ? "" : ": " + String.join(", ", hf.folders())) + ")" : "")
                    + (tok != null && d.config().hasText() ? " (with " + tok.getFileName() + ")" : ""));
            if (hf != null) {
                hf.notes().forEach(n -> spec.commandLine().getOut().println("  note: " + n));
            }
        }
        return 0;
    }

    private static boolean isEmptyFolder(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
