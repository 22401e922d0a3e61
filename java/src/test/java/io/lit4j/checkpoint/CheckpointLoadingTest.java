package io.lit4j.checkpoint;

import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.CheckpointException;
import io.lit4j.io.HostArray;
import io.lit4j.io.NpzWriter;
import io.lit4j.io.SafetensorsWriter;
import io.lit4j.model.ParamSpec;
import io.lit4j.model.Presets;
import io.lit4j.model.TwoTower;
import io.lit4j.model.TwoTowerConfig;
import io.lit4j.tensor.Tensor;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static io.lit4j.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Saving and loading lit4j folders, and the errors for files that do not fit the model. */
class CheckpointLoadingTest {
    @AutoClose
    static final Backend be = new ScalarBackend();

    static TwoTower randomSmoke(long seed) {
        TwoTower m = TwoTower.allocate(be, Presets.pair("smoke"));
        Random r = new Random(seed);
        for (var e : m.params().tensors().entrySet()) {
            Tensor t = e.getValue();
            be.upload(random(r, (int) t.numel(), 0.5f), t);
        }
        return m;
    }

    @Test
    void litFolderRoundTripsExactlyAndReplacesAtomically(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("model");
        try (TwoTower m = randomSmoke(1)) {
            LitFormat.save(m, out, null);
            float[] img = random(new Random(2), 2 * 32 * 32 * 3, 1f);
            float[] before = m.embedImages(img, 2);
            try (TwoTower back = Checkpoints.load(be, out)) {
                assertEquals(m.config(), back.config());
                for (ParamSpec p : m.config().params()) {
                    assertArrayEquals(be.download(m.params().get(p.name())), be.download(back.params().get(p.name())), p.name());
                }
                assertArrayEquals(before, back.embedImages(img, 2));
                TokenBatch tb = new TokenBatch(new int[] {5, 6, 7, 0, 0, 0, 0, 0}, 1, 8);
                assertArrayEquals(m.embedTexts(tb), back.embedTexts(tb));
            }
        }
        try (TwoTower m2 = randomSmoke(3)) { // saving over an existing model swaps the folder in whole
            LitFormat.save(m2, out, null);
            try (TwoTower back = Checkpoints.load(be, out)) {
                assertArrayEquals(be.download(m2.params().get("t")), be.download(back.params().get("t")));
            }
        }
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temp or old folders left behind");
        }
    }

    @Test
    void singleSafetensorsFileCarriesItsConfig(@TempDir Path dir) {
        Path out = dir.resolve("m");
        try (TwoTower m = randomSmoke(4)) {
            LitFormat.save(m, out, null);
        }
        Path alone = dir.resolve("alone.safetensors");
        try {
            Files.copy(out.resolve(LitFormat.WEIGHTS), alone);
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
        Checkpoints.Detected d = Checkpoints.inspect(alone);
        assertEquals(Checkpoints.Format.LIT4J, d.format());
        assertEquals(Presets.pair("smoke"), d.config());
    }

    @Test
    void wrongShapesMissingAndUnusedKeysAreErrorsNamingThem(@TempDir Path dir) {
        Path out = dir.resolve("model");
        try (TwoTower m = randomSmoke(5)) {
            LitFormat.save(m, out, null);
        }
        // a config whose MLP is wider than the file's
        TwoTowerConfig wider = new TwoTowerConfig(Presets.image("smoke").withHeadDim(24), Presets.text("smoke").withHeadDim(24), null);
        TwoTowerConfig bad = new TwoTowerConfig(new io.lit4j.model.ViTConfig(32, 8, 3, 32, 2, 4, 80, io.lit4j.model.ViTConfig.Pooling.TOK,
                1e-6f, io.lit4j.backend.Gelu.TANH, 24), wider.text(), null);
        LitException e = assertThrows(LitException.class, () -> Checkpoints.load(be, out, bad));
        assertTrue(e.getMessage().contains("img.blocks.0.mlp.fc1.kernel") && e.getMessage().contains("[32, 80]")
                && e.getMessage().contains("[32, 64]"), e.getMessage());

        // a file with one key renamed: the missing key and the stray one are both reported
        Path npz = dir.resolve("renamed.npz");
        try (NpzWriter w = NpzWriter.create(npz)) {
            w.put("img/embedding/kernel", new long[] {8, 8, 3, 32}, random(new Random(1), 8 * 8 * 3 * 32, 1f));
            w.put("img/embedding/bias", new long[] {32}, random(new Random(2), 32, 1f));
        }
        LitException e2 = assertThrows(LitException.class, () -> Checkpoints.inspect(npz));
        assertTrue(e2.getMessage().contains("renamed.npz"), e2.getMessage());

        // an extra key in a lit4j file
        try (TwoTower m = randomSmoke(6)) {
            Path extra = dir.resolve("extra.safetensors");
            java.util.List<HostArray> arrays = new java.util.ArrayList<>();
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                for (var en : m.params().tensors().entrySet()) {
                    long[] s = java.util.Arrays.stream(en.getValue().shape()).asLongStream().toArray();
                    arrays.add(HostArray.ofFloats(en.getKey(), s, be.download(en.getValue()), a));
                }
                arrays.add(HostArray.ofFloats("img.blocks.0.attn.qvk.kernel", new long[] {1}, new float[] {1}, a));
                SafetensorsWriter.write(extra, java.util.Map.of(LitFormat.METADATA_KEY, m.config().toJson().toString()), arrays);
            }
            LitException e3 = assertThrows(LitException.class, () -> Checkpoints.load(be, extra));
            assertTrue(e3.getMessage().contains("unused keys") && e3.getMessage().contains("qvk"), e3.getMessage());
        }
    }

    @Test
    void pathsThatAreNotModelsSayWhat(@TempDir Path dir) throws Exception {
        LitException missing = assertThrows(LitException.class, () -> Checkpoints.inspect(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
        LitException empty = assertThrows(LitException.class, () -> Checkpoints.inspect(dir));
        assertTrue(empty.getMessage().contains("not a model folder"), empty.getMessage());
        Path txt = Files.writeString(dir.resolve("notes.txt"), "hello");
        LitException other = assertThrows(LitException.class, () -> Checkpoints.inspect(txt));
        assertTrue(other.getMessage().contains("not a model"), other.getMessage());
        Path fake = Files.write(dir.resolve("fake.safetensors"), new byte[] {1, 2, 3});
        LitException trunc = assertThrows(LitException.class, () -> Checkpoints.inspect(fake));
        assertTrue(trunc.getMessage().contains("fake.safetensors"), trunc.getMessage());
        assertFalse(trunc instanceof CheckpointException && ((CheckpointException) trunc).file() == null);
    }
}
