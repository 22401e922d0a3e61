package io.lit4j.spark;

import io.lit4j.DefaultModel;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.backend.Backends;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.model.TwoTower;
import io.lit4j.train.ImageEmbeddingCache;

import java.nio.file.Path;

/**
 * What an image embedding depends on besides the image: the image tower's weights, its
 * preprocessing and the dimension, as {@link ImageEmbeddingCache#digest} names them (the same
 * digest {@code lit4j tune} checks its cache against). Computed on the driver from the checkpoint,
 * read on the scalar backend (no packing: the parameters as the file holds them).
 */
record TowerDigest(String digest, String preprocess, int dim) {
    static TowerDigest of(ModelSpec spec) {
        Path path = spec.model().equals(LitModel.DEFAULT_MODEL) ? DefaultModel.path() : Path.of(spec.resolve());
        try (Backends.Choice scalar = Backends.open("scalar", 1); TwoTower m = Checkpoints.load(scalar.backend(), path)) {
            if (!m.config().hasImage()) {
                throw new LitException(path + ": this model has no image tower");
            }
            String pre;
            try (ImageEmbedder e = ImageEmbedder.of(m, ImageEmbedder.Options.of(1, 0))) { // the preprocessing the embedder (and tune) use
                pre = e.preprocess().describe();
            }
            int dim = m.config().embedDim();
            return new TowerDigest(ImageEmbeddingCache.digest(scalar.backend(), m.params(), pre, dim), pre, dim);
        }
    }
}
