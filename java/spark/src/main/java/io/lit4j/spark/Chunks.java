package io.lit4j.spark;

import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * A partition's rows taken {@code size} at a time, each chunk mapped to as many output rows, lazily:
 * a task holds one chunk, however long its partition. This is where the batches of a
 * {@code mapPartitions} are formed.
 */
final class Chunks implements Iterator<Row> {
    private final Iterator<Row> in;
    private final int size;
    private final Function<List<Row>, List<Row>> map;
    private Iterator<Row> out = Collections.emptyIterator();

    Chunks(Iterator<Row> in, int size, Function<List<Row>, List<Row>> map) {
        this.in = in;
        this.size = size;
        this.map = map;
    }

    @Override
    public boolean hasNext() {
        while (!out.hasNext() && in.hasNext()) {
            List<Row> chunk = new ArrayList<>(size);
            while (chunk.size() < size && in.hasNext()) {
                chunk.add(in.next());
            }
            out = map.apply(chunk).iterator();
        }
        return out.hasNext();
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return out.next();
    }

    /**
     * A float-array column's values. Spark hands a row straight from one of our partition
     * functions to the next without converting it, so the value may be the {@code float[]} we
     * made, or a Scala sequence of boxed floats after a shuffle, a cache or a file.
     */
    static float[] floats(Row row, int col) {
        Object v = row.get(col);
        if (v instanceof float[] f) {
            return f;
        }
        List<Object> list = row.getList(col);
        float[] f = new float[list.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (Float) list.get(i);
        }
        return f;
    }

    /** A string-array column's values (a {@code String[]} or a Scala sequence, as for {@link #floats}). */
    static List<String> strings(Row row, int col) {
        Object v = row.get(col);
        if (v instanceof String[] s) {
            return java.util.Arrays.asList(s);
        }
        return row.getList(col);
    }

    /** {@code row}'s values followed by {@code more}. */
    static Row append(Row row, Object... more) {
        Object[] v = new Object[row.length() + more.length];
        for (int i = 0; i < row.length(); i++) {
            v[i] = row.get(i);
        }
        System.arraycopy(more, 0, v, row.length(), more.length);
        return org.apache.spark.sql.RowFactory.create(v);
    }
}
