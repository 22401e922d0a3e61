package io.lit4j.checkpoint;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.io.ArrayInfo;
import io.lit4j.io.ArraySource;
import io.lit4j.io.CheckpointException;
import io.lit4j.io.HostArray;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.Params;
import io.lit4j.tensor.DType;
import io.lit4j.tensor.Shapes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * How the arrays of a foreign checkpoint become lit4j parameters: one recipe per parameter that
 * reads source keys and reshapes, transposes, splits or concatenates them. Loading checks that
 * every parameter has a recipe, that each result has the parameter's exact shape, and that every
 * source key was used (or is one the format is known to carry for other purposes): anything else
 * is an error naming the keys and shapes.
 */
public final class WeightMap {

    /** Produces one parameter's values from the source. */
    @FunctionalInterface
    public interface Recipe {
        Arr make(Reader r);
    }

    /** A host array during conversion. */
    public record Arr(long[] shape, float[] data) {
        public Arr {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + data.length + " values");
            }
        }

        public long dim(int i) {
            return shape[i < 0 ? shape.length + i : i];
        }

        public String shapeString() {
            return Arrays.toString(shape);
        }

        /** The same values with another shape of equal size. */
        public Arr reshape(long... s) {
            return new Arr(s, data);
        }

        /** Drops leading size-1 dimensions until the rank is {@code rank}. */
        public Arr squeezeLeading(int rank) {
            int drop = shape.length - rank;
            for (int i = 0; i < drop; i++) {
                if (shape[i] != 1) {
                    return this;
                }
            }
            return drop > 0 ? new Arr(Arrays.copyOfRange(shape, drop, shape.length), data) : this;
        }

        /** Slice {@code i} of dimension 0 (a scanned checkpoint's block {@code i}). */
        public Arr index0(int i) {
            long[] s = Arrays.copyOfRange(shape, 1, shape.length);
            int n = data.length / (int) shape[0];
            return new Arr(s, Arrays.copyOfRange(data, i * n, (i + 1) * n));
        }

        /** Rows [from, to) of dimension 0. */
        public Arr index0Range(int from, int to) {
            long[] s = shape.clone();
            s[0] = to - from;
            int n = data.length / (int) shape[0];
            return new Arr(s, Arrays.copyOfRange(data, from * n, to * n));
        }

        /** A general axis permutation: result dim k is source dim {@code perm[k]}. */
        public Arr permute(int... perm) {
            int r = shape.length;
            long[] ns = new long[r];
            long[] srcStrides = new long[r];
            long s = 1;
            for (int i = r - 1; i >= 0; i--) {
                srcStrides[i] = s;
                s *= shape[i];
            }
            for (int k = 0; k < r; k++) {
                ns[k] = shape[perm[k]];
            }
            float[] out = new float[data.length];
            int[] idx = new int[r];
            for (int o = 0; o < out.length; o++) {
                long src = 0;
                for (int k = 0; k < r; k++) {
                    src += idx[k] * srcStrides[perm[k]];
                }
                out[o] = data[(int) src];
                for (int k = r - 1; k >= 0; k--) {
                    if (++idx[k] < ns[k]) {
                        break;
                    }
                    idx[k] = 0;
                }
            }
            return new Arr(ns, out);
        }

        /** [a, b] to [b, a]. */
        public Arr transpose() {
            return permute(1, 0);
        }

        /** Concatenates 2-D arrays along their last axis, or 1-D arrays end to end. */
        public static Arr concatLast(Arr... parts) {
            long rows = parts[0].shape.length == 1 ? 1 : parts[0].shape[0];
            long cols = 0;
            for (Arr p : parts) {
                cols += p.shape[p.shape.length - 1];
            }
            float[] out = new float[(int) (rows * cols)];
            long off = 0;
            for (Arr p : parts) {
                int c = (int) p.shape[p.shape.length - 1];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(p.data, r * c, out, (int) (r * cols + off), c);
                }
                off += c;
            }
            return parts[0].shape.length == 1 ? new Arr(new long[] {cols}, out) : new Arr(new long[] {rows, cols}, out);
        }
    }

    /**
     * Reads source arrays for recipes, remembering which keys were used. A dry reader ({@link #check})
     * reads no values: it records each key asked for (or missing) and hands back a placeholder of
     * the array's rank with every dimension 1, so recipes run to their last read cheaply.
     */
    public static final class Reader {
        private final ArraySource src;
        private final boolean dry;
        private final Set<String> used = new LinkedHashSet<>();
        private final Set<String> missing = new LinkedHashSet<>();
        private final Map<String, Arr> stackedCache = new HashMap<>();

        Reader(ArraySource src) {
            this(src, false);
        }

        private Reader(ArraySource src, boolean dry) {
            this.src = src;
            this.dry = dry;
        }

        /** A dry read: the key recorded as used or missing, and a placeholder of its rank. */
        private Arr placeholder(String key) {
            if (!src.contains(key)) {
                missing.add(key);
                return new Arr(new long[] {1}, new float[1]);
            }
            used.add(key);
            long[] ones = new long[src.info(key).shape().length];
            Arrays.fill(ones, 1);
            return new Arr(ones, new float[1]);
        }

        public boolean has(String key) {
            return src.contains(key);
        }

        public ArrayInfo info(String key) {
            require(key);
            return src.info(key);
        }

        public Arr read(String key) {
            if (dry) {
                return placeholder(key);
            }
            require(key);
            used.add(key);
            return new Arr(src.info(key).shape(), src.readFloats(key));
        }

        /** Block {@code i} of a scanned (stacked) array; the stack is read once and cached. */
        public Arr readStacked(String key, int i) {
            if (dry) {
                Arr p = placeholder(key);
                return p.shape().length > 1 ? p.index0(0) : p;
            }
            require(key);
            used.add(key);
            Arr all = stackedCache.computeIfAbsent(key, k -> new Arr(src.info(k).shape(), src.readFloats(k)));
            if (i >= all.shape[0]) {
                throw new CheckpointException(src.file(), key, "has " + all.shape[0] + " stacked blocks, block " + i + " was asked for");
            }
            return all.index0(i);
        }

        private void require(String key) {
            if (!src.contains(key)) {
                if (dry) {
                    missing.add(key);
                }
                throw new CheckpointException(src.file(), key, "missing from the checkpoint" + nearby(key));
            }
        }

        private String nearby(String key) {
            String prefix = key.contains("/") ? key.substring(0, key.lastIndexOf('/') + 1) : "";
            List<String> near = new ArrayList<>();
            for (String k : src.keys()) {
                if (!prefix.isEmpty() && k.startsWith(prefix) && near.size() < 6) {
                    near.add(k);
                }
            }
            return near.isEmpty() ? "" : " (keys beside it: " + near + ")";
        }

        Path file() {
            return src.file();
        }

        Set<String> used() {
            return used;
        }
    }

    private final Map<String, Recipe> recipes = new LinkedHashMap<>();
    private final Map<String, String> copies = new HashMap<>(); // lit4j name -> source key, for plain copies
    private final List<Predicate<String>> ignored = new ArrayList<>();
    private final List<String> ignoredWhy = new ArrayList<>();

    /** Sets how parameter {@code litName} is made. */
    public WeightMap put(String litName, Recipe recipe) {
        recipes.put(litName, recipe);
        copies.remove(litName);
        return this;
    }

    /** A parameter copied from one source key (leading 1-dims squeezed, e.g. [1,N,D] to [N,D]). */
    public WeightMap copy(String litName, String key) {
        put(litName, r -> r.read(key));
        copies.put(litName, key);
        return this;
    }

    /**
     * A plain copy of an fp32 array of the parameter's shape goes from the mapped file straight into
     * the tensor (no heap array); true when it did.
     */
    private boolean copyInPlace(ArraySource source, Reader reader, Backend backend, Params params, ParamSpec spec) {
        String key = copies.get(spec.name());
        if (key == null || !source.contains(key)) {
            return false;
        }
        ArrayInfo info = source.info(key);
        if (info.dtype() != DType.F32 || !Arrays.equals(info.shape(), Arrays.stream(spec.shape()).asLongStream().toArray())) {
            return false; // conversions and reshapes take the general path
        }
        HostArray raw = source.readInPlace(key);
        if (raw == null) {
            return false;
        }
        backend.upload(raw.data(), DType.F32, params.get(spec.name()));
        raw.releasePages();
        reader.used.add(key);
        return true;
    }

    /** Source keys the format carries for other uses (an MLM head, a pooler): skipped, not errors. */
    public WeightMap ignore(Predicate<String> keys, String why) {
        ignored.add(keys);
        ignoredWhy.add(why);
        return this;
    }

    /** Fills every parameter of {@code params} from {@code source}; see the class comment for the checks. */
    public void load(ArraySource source, Backend backend, Params params) {
        Reader reader = new Reader(source);
        for (ParamSpec spec : params.specs()) {
            if (copyInPlace(source, reader, backend, params, spec)) {
                continue;
            }
            Recipe recipe = recipes.get(spec.name());
            if (recipe == null) {
                throw new LitException(source.file() + ": no rule maps any key to parameter '" + spec.name() + "' (lit4j bug or unsupported layout)");
            }
            Arr a;
            try {
                a = recipe.make(reader);
            } catch (CheckpointException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new CheckpointException(source.file(), null, "cannot build parameter '" + spec.name() + "': " + e.getMessage(), e);
            }
            Arr shaped = a.squeezeLeading(spec.shape().length);
            if (!Arrays.equals(shaped.shape(), Arrays.stream(spec.shape()).asLongStream().toArray())) {
                throw new CheckpointException(source.file(), "parameter '" + spec.name() + "' should be " + Shapes.str(spec.shape())
                        + " but the checkpoint gives " + a.shapeString() + " - is the config right for this file?");
            }
            params.set(backend, spec.name(), spec.shape(), shaped.data());
        }
        Set<String> unused = unused(source, reader);
        if (!unused.isEmpty()) {
            List<String> shown = new ArrayList<>(unused).subList(0, Math.min(unused.size(), 12));
            throw new CheckpointException(source.file(), "unused keys: " + shown + (unused.size() > shown.size() ? " and "
                    + (unused.size() - shown.size()) + " more" : "") + " - a typo, or a layout lit4j does not know?");
        }
    }

    /** The source's keys no recipe read and no {@link #ignore} rule covers, sorted. */
    private Set<String> unused(ArraySource source, Reader reader) {
        Set<String> unused = new TreeSet<>();
        for (String k : source.keys()) {
            if (!reader.used().contains(k) && ignored.stream().noneMatch(p -> p.test(k))) {
                unused.add(k);
            }
        }
        return unused;
    }

    /**
     * What {@link #load} would find wrong with the keys, as lists rather than an exception.
     *
     * @param missing  source keys a recipe reads that the file lacks
     * @param unused   the file's keys no recipe reads and no ignore rule covers
     * @param unmapped parameters no recipe makes (a lit4j bug or a layout it does not know)
     */
    public record Check(List<String> missing, List<String> unused, List<String> unmapped) {
        public Check {
            missing = List.copyOf(missing);
            unused = List.copyOf(unused);
            unmapped = List.copyOf(unmapped);
        }

        /** True when every key maps: nothing missing, unused or unmapped. */
        public boolean clean() {
            return missing.isEmpty() && unused.isEmpty() && unmapped.isEmpty();
        }
    }

    /**
     * Runs every recipe of {@code specs} on a dry reader (no values read, so this is cheap for any
     * size of file) and lists the keys that would be missing or unused. Shapes are not checked
     * here: that needs the values' layout, which {@link #load} checks.
     */
    public Check check(ArraySource source, List<ParamSpec> specs) {
        Reader reader = new Reader(source, true);
        List<String> unmapped = new ArrayList<>();
        for (ParamSpec spec : specs) {
            Recipe recipe = recipes.get(spec.name());
            if (recipe == null) {
                unmapped.add(spec.name());
                continue;
            }
            try {
                recipe.make(reader);
            } catch (RuntimeException e) {
                // placeholder values: a recipe's arithmetic on them may fail after its reads, which are recorded
            }
        }
        return new Check(new ArrayList<>(reader.missing), new ArrayList<>(unused(source, reader)), unmapped);
    }

    /** Exposed for messages. */
    public List<String> ignoredReasons() {
        return List.copyOf(ignoredWhy);
    }

}
