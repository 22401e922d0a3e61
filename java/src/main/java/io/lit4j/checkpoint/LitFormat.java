package io.lit4j.checkpoint;

import com.google.gson.GsonBuilder;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.io.AtomicFile;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * lit4j's own format: a folder with {@code config.json}, {@code model.safetensors} (parameter
 * names exactly as the model defines them; the config is also stored in the file's metadata) and
 * optionally {@code tokenizer.json}. Saving writes a complete new folder beside the target and
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
        Path abs = dir.toAbsolutePath();
        Path parent = abs.getParent();
        String rnd = Long.toHexString(ThreadLocalRandom.current().nextLong());
        Path tmp = parent.resolve("." + abs.getFileName() + "." + rnd + ".tmp");
        try {
            Files.createDirectories(parent);
            Files.createDirectory(tmp);
            String json = new GsonBuilder().setPrettyPrinting().create().toJson(model.config().toJson());
            AtomicFile.writeString(tmp.resolve(CONFIG), json + "\n");
            writeWeights(model, tmp.resolve(WEIGHTS), Map.of(METADATA_KEY, json));
            if (tokenizer != null) {
                Files.copy(tokenizer, tmp.resolve(TOKENIZER), StandardCopyOption.REPLACE_EXISTING);
            }
            extras.write(tmp);
            swapIn(tmp, abs, rnd);
        } catch (IOException e) {
            deleteTree(tmp);
            throw new LitException("cannot save the model to " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteTree(tmp);
            throw e;
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

    private static void swapIn(Path tmp, Path target, String rnd) throws IOException {
        if (!Files.exists(target)) {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        if (!Files.isDirectory(target)) {
            throw new IOException(target + " exists and is not a folder");
        }
        Path old = target.resolveSibling("." + target.getFileName() + "." + rnd + ".old");
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    /**
     * After a crash between the two renames of a save, {@code dir} may be missing while its
     * previous version waits beside it as {@code .dir.*.old}: put that back. Returns whether
     * {@code dir} exists afterwards.
     */
    public static boolean recover(Path dir) {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return true;
        }
        String prefix = "." + abs.getFileName() + ".";
        try (Stream<Path> s = Files.list(abs.getParent())) {
            Path old = s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(".old"))
                    .findFirst().orElse(null);
            if (old != null) {
                Files.move(old, abs, StandardCopyOption.ATOMIC_MOVE);
                return true;
            }
        } catch (IOException e) {
            throw new LitException("cannot recover " + dir + ": " + e.getMessage(), e);
        }
        return false;
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // best effort: a leftover hidden folder is harmless
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
