package io.lit4j.embed;

import io.lit4j.LitException;
import io.lit4j.data.CaptionDataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Images to embed, in order: each has a name (its id in results and messages) and bytes read on demand. */
public interface ImageSource {
    int size();

    /** Image {@code i}'s name: the path, or the dataset-relative image name. */
    String name(int i);

    /** Image {@code i}'s encoded bytes; a {@link LitException} naming the file when they cannot be read. Thread-safe. */
    byte[] read(int i);

    /** Image files. */
    static ImageSource files(List<Path> files) {
        List<Path> fs = List.copyOf(files);
        return new ImageSource() {
            @Override
            public int size() {
                return fs.size();
            }

            @Override
            public String name(int i) {
                return fs.get(i).toString();
            }

            @Override
            public byte[] read(int i) {
                try {
                    return Files.readAllBytes(fs.get(i));
                } catch (IOException e) {
                    throw new LitException(fs.get(i) + ": cannot read: " + e.getMessage(), e);
                }
            }
        };
    }

    /** The named images of a dataset (names as its rows give them). */
    static ImageSource of(CaptionDataset ds, List<String> images) {
        List<String> names = List.copyOf(images);
        return new ImageSource() {
            @Override
            public int size() {
                return names.size();
            }

            @Override
            public String name(int i) {
                return names.get(i);
            }

            @Override
            public byte[] read(int i) {
                return ds.readImage(names.get(i));
            }
        };
    }

    /** Every row's image of a dataset, in row order. */
    static ImageSource of(CaptionDataset ds) {
        return of(ds, ds.rows().stream().map(CaptionDataset.Row::image).toList());
    }
}
