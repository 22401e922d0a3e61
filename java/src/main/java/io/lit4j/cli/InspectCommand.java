package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.KnownModels;
import io.lit4j.checkpoint.WeightMap;
import io.lit4j.data.Preprocess;
import io.lit4j.data.TextTokenizer;
import io.lit4j.io.ArraySource;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code lit4j inspect FILE|DIR}: what a checkpoint is, without using it: the format detected, the
 * config inferred, parameters per tower, the dtypes stored, the tokenizer found and the image
 * preprocessing; the keys its loader would miss or leave unused (its recipe run dry,
 * {@link Checkpoints#check}), as lists; then whether it loads (shapes included).
 * Works for every format {@link Checkpoints} reads, so a new format needs no change here.
 */
@Command(name = "inspect", description = {"Show what a checkpoint holds: format, config, parameters per tower, dtypes, tokenizer,",
        "preprocessing, and whether every key maps (missing or unused keys are named)."})
final class InspectCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE|DIR", description = "a model folder, .npz, .safetensors, .onnx, or a name (" + "minilm" + ")")
    String path;

    @Option(names = "--json", description = "machine-readable output on stdout")
    boolean json;

    @Override
    public Integer call() {
        Path p = KnownModels.isName(path) && !Files.exists(Path.of(path)) ? KnownModels.resolve(path) : Path.of(path);
        Checkpoints.Detected d = Checkpoints.inspect(p);
        TwoTowerConfig cfg = d.config();
        Map<String, Long> perTower = new TreeMap<>();
        for (ParamSpec s : cfg.params()) {
            String tower = s.name().startsWith("img.") ? "image" : s.name().startsWith("txt.") ? "text" : "shared";
            perTower.merge(tower, s.numel(), Long::sum);
        }
        TreeSet<String> dtypes = new TreeSet<>();
        try (ArraySource src = ArraySource.open(d.weights())) {
            for (String k : src.keys()) {
                dtypes.add(src.info(k).dtype().name());
            }
        }
        Path dir = Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
        Path tokFile = TextTokenizer.findIn(dir);
        String tokenizer = "none found";
        if (tokFile != null) {
            try (TextTokenizer t = TextTokenizer.load(tokFile, Checkpoints.textConventions(p))) {
                tokenizer = tokFile.getFileName() + " (" + t.vocabSize() + " ids" + t.conventions().map(c -> ", eos " + c.eos().name()
                        .toLowerCase(Locale.ROOT) + ", pad " + c.padId() + (c.lowercase() ? ", lowercased" : "")
                        + (c.canonicalize() ? ", punctuation removed" : "")).orElse("") + ")";
            } catch (LitException e) {
                tokenizer = tokFile.getFileName() + ": " + e.getMessage();
            }
        }
        String preprocess = cfg.hasImage() ? Preprocess.bigVision(cfg.image().imageSize()).describe() : "none (no image tower)";
        WeightMap.Check keys = Checkpoints.check(p);
        String loads;
        try (ScalarBackend be = new ScalarBackend(); TwoTower m = Checkpoints.load(be, p)) {
            loads = "ok: every parameter has its shape, every key is used";
        } catch (LitException e) {
            loads = e.getMessage();
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("path", p.toString());
            o.addProperty("format", d.format().name().toLowerCase(Locale.ROOT));
            o.addProperty("weights", d.weights().toString());
            o.add("config", cfg.toJson());
            JsonObject params = new JsonObject();
            perTower.forEach(params::addProperty);
            o.add("parameters", params);
            o.addProperty("dtypes", String.join(",", dtypes));
            o.addProperty("tokenizer", tokenizer);
            o.addProperty("preprocess", preprocess);
            o.add("missing", strings(keys.missing()));
            o.add("unused", strings(keys.unused()));
            o.add("unmapped", strings(keys.unmapped()));
            o.addProperty("loads", loads);
            out.println(o);
        } else {
            out.println("format:     " + d.format().name().toLowerCase(Locale.ROOT) + " (" + d.weights() + ")");
            out.println("config:     " + cfg.toJson());
            perTower.forEach((t, n) -> out.printf("parameters: %-6s %,d%n", t, n));
            out.println("dtypes:     " + String.join(", ", dtypes));
            out.println("tokenizer:  " + tokenizer);
            out.println("preprocess: " + preprocess);
            out.println("missing:    " + list(keys.missing()));
            out.println("unused:     " + list(keys.unused()));
            if (!keys.unmapped().isEmpty()) {
                out.println("unmapped:   " + list(keys.unmapped()));
            }
            out.println("loads:      " + loads);
        }
        return loads.startsWith("ok") ? 0 : 1;
    }

    private static JsonArray strings(List<String> keys) {
        JsonArray a = new JsonArray();
        keys.forEach(a::add);
        return a;
    }

    private static String list(List<String> keys) {
        return keys.isEmpty() ? "none" : String.join(", ", keys);
    }
}
