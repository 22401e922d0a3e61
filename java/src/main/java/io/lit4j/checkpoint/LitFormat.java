package io.lit4j.checkpoint;

import com.google.gson.GsonBuilder;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.data.PreprocessorConfig;
import io.lit4j.data.TextTokenizer;
import io.lit4j.io.AtomicFolder;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsWriter;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * lit4j's own format: a folder with {@code config.json}, {@code model.safetensors} (parameter
 * names exactly as the model defines them; the config is also stored in the file's metadata),
 * optionally {@code tokenizer.json}, and {@code preprocessor_config.json} when the model's image
 * preprocessing is not its layout's default (one from a HuggingFace folder's, say). Saving writes a complete new folder beside the target and
 * swaps it in, so a crash leaves the old model or the new one, never a mix.
 */
public final class LitFormat {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String TOKENIZER = "tokenizer.json";
    static final String METADATA_KEY = "lit4j.config";

    private LitFormat() {
    }

    static boolean isLitFolder(Path dir) {
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg) || !Files.isRegularFile(dir.resolve(WEIGHTS))) {
            return false;
        }
        try {
            return Files.readString(cfg).contains("\"lit4j\"");
        } catch (IOException e) {
            return false;
        }
    }

    static TwoTowerConfig readConfig(Path dir) {
        Path cfg = dir.resolve(CONFIG);
        try {
            return TwoTowerConfig.parse(Files.readString(cfg), cfg.toString());
        } catch (IOException e) {
            throw new LitException("cannot read " + cfg + ": " + e.getMessage(), e);
        }
    }

    /** Every parameter copied from the key of the same name. */
    static WeightMap weightMap(TwoTowerConfig cfg) {
        WeightMap map = new WeightMap();
        for (ParamSpec p : cfg.params()) {
            map.copy(p.name(), p.name());
        }
        return map;
    }

    /** Saves {@code model} (and a tokenizer file, if given) as a lit4j folder at {@code dir}. */
    public static void save(TwoTower model, Path dir, Path tokenizer) {
        save(model, dir, tokenizer, tmp -> { });
    }

    /** Writes more files into the new folder before it is swapped in (a trainer's optimizer state). */
    @FunctionalInterface
    public interface Extras {
        void write(Path folder) throws IOException;
    }

    /**
     * As {@link #save(TwoTower, Path, Path)}, with {@code extras} writing further files into the
     * folder first: the whole folder, extras included, replaces the old one at once.
     */
    public static void save(TwoTower model, Path dir, Path tokenizer, Extras extras) {
        save(model, dir, tokenizer, null, extras);
    }

    /**
     * As {@link #save(TwoTower, Path, Path, Extras)}; a SentencePiece {@code tokenizer} is saved with a
     * {@link TextTokenizer#CONVENTIONS} saying {@code conventions} when they are given (those the
     * checkpoint's project framed texts with, {@link Checkpoints#textConventions}), so the folder
     * tokenizes the same with no flags.
     */
    public static void save(TwoTower model, Path dir, Path tokenizer, TextTokenizer.Conventions conventions, Extras extras) {
        try (AtomicFolder folder = AtomicFolder.begin(dir, true, true)) {
            String json = new GsonBuilder().setPrettyPrinting().create().toJson(model.config().toJson());
            folder.writeString(CONFIG, json + "\n");
            writeWeights(model, folder.resolve(WEIGHTS), Map.of(METADATA_KEY, json));
            if (model.config().hasImage() && !model.preprocess().equals(model.defaultPreprocess())) {
                folder.writeString(PreprocessorConfig.FILE, PreprocessorConfig.toJson(model.preprocess()) + "\n");
            }
            if (tokenizer != null) {
                copyTokenizer(tokenizer, conventions, folder, "");
            }
            extras.write(folder.tempRoot());
            folder.commit();
        } catch (IOException e) {
            throw new LitException("cannot save the model to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A tokenizer.json is saved as {@value #TOKENIZER}; a SentencePiece {@code .model} under its own
     * name; a {@link TextTokenizer#CONVENTIONS} file with the model it names, so the folder loads
     * with the same conventions; into the folder's {@code sub} ("" or "text/").
     */
    static void copyTokenizer(Path tokenizer, TextTokenizer.Conventions conventions, AtomicFolder folder, String sub) throws IOException {
        String name = tokenizer.getFileName().toString();
        if (conventions != null && name.endsWith(".model")) {
            Files.copy(tokenizer, folder.resolve(sub + name), StandardCopyOption.REPLACE_EXISTING);
            try (TextTokenizer t = TextTokenizer.load(tokenizer, conventions)) { // resolves a pad id the model gives
                folder.writeString(sub + TextTokenizer.CONVENTIONS, TextTokenizer.conventionsJson(name, t.conventions().orElseThrow()) + "\n");
            }
            return;
        }
        if (name.equals(TextTokenizer.CONVENTIONS)) {
            List<Path> files;
            try (TextTokenizer t = TextTokenizer.load(tokenizer)) {
                files = t.files();
            }
            for (Path f : files) {
                Files.copy(f, folder.resolve(sub + f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        } else {
            Files.copy(tokenizer, folder.resolve(sub + (name.endsWith(".model") ? name : TOKENIZER)), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Writes every parameter as fp32 safetensors. */
    public static void writeWeights(TwoTower model, Path file, Map<String, String> metadata) {
        Backend be = model.backend();
        try (Arena arena = Arena.ofConfined()) {
            List<HostArray> arrays = new ArrayList<>();
            for (Map.Entry<String, Tensor> e : model.params().tensors().entrySet()) {
                long[] shape = Arrays.stream(e.getValue().shape()).asLongStream().toArray();
                arrays.add(HostArray.ofFloats(e.getKey(), shape, be.download(e.getValue()), arena));
            }
            SafetensorsWriter.write(file, new LinkedHashMap<>(metadata), arrays);
        }
    }
}
