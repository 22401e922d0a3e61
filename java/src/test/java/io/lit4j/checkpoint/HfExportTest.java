package io.lit4j.checkpoint;

import io.lit4j.DefaultModel;
import io.lit4j.LitException;
import io.lit4j.backend.Backend;
import io.lit4j.backend.onednn.OneDnnBackend;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.data.PreprocessorConfig;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.AtomicFolder;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.model.TwoTower;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.lit4j.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HfExport} against an independent reference: {@code make_hf_export_golden.py} read the
 * HuggingFace files this converter writes for five tiny models (CLIP and SigLIP pairs, a ViT, a
 * BERT, a text transformer as SiglipTextModel), ran transcriptions of transformers' forwards on
 * them and recorded the files' sha256 with the embeddings. Here: the converter still writes
 * exactly those files, lit4j's own embeddings of the source models match the reference to 1e-5 on
 * both backends, and the written folders load back through lit4j's HF loaders to the source's
 * embeddings bit for bit.
 *
 * <p>To regenerate the reference: run this test with {@code -Dlit4j.hfexport.keep=/tmp/lit4j-hf-export}
 * (the folders are then kept there), then {@code /usr/bin/python3 java/src/test/reference/make_hf_export_golden.py /tmp/lit4j-hf-export}.
 */
class HfExportTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final Path EXPECTED = GOLDEN.resolve("hf_export.safetensors");
    /** Each case's source: a committed tiny checkpoint lit4j reads. */
    static final Map<String, String> SOURCES = Map.of("clip", "clip_hf", "siglip", "siglip_hf", "vit", "vit_hf", "bert", "bert_hf",
            "txt", "txt");

    @AutoClose
    static final Backend scalar = new ScalarBackend();
    @AutoClose
    static final Backend onednn = new OneDnnBackend(2);

    @TempDir
    Path tmp;

    /** Writes case {@code c}'s HF folder (kept under {@code lit4j.hfexport.keep} when set, for the python script). */
    private Path export(String c) throws IOException {
        String keep = System.getProperty("lit4j.hfexport.keep");
        Path out = keep != null ? Path.of(keep).resolve(c) : tmp.resolve(c);
        if (keep != null && Files.exists(out)) {
            AtomicFolder.deleteTree(out);
        }
        Path src = GOLDEN.resolve(SOURCES.get(c));
        try (TwoTower m = Checkpoints.load(scalar, src)) {
            HfExport.save(m, out, null);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"clip", "siglip", "vit", "bert", "txt"})
    void writesTheFilesTheReferenceReadAndEmbedsLikeIt(String c) throws IOException {
        Path out = export(c);
        try (SafetensorsReader golden = SafetensorsReader.open(EXPECTED)) {
            for (String f : List.of("config.json", "model.safetensors")) {
                assertEquals(golden.metadata().get(c + "/" + f), sha256(out.resolve(f)),
                        c + "/" + f + " is not the file make_hf_export_golden.py read: regenerate the golden (see the class comment)");
            }
            for (Backend be : new Backend[] {scalar, onednn}) {
                try (TwoTower m = Checkpoints.load(be, GOLDEN.resolve(SOURCES.get(c)))) {
                    String what = c + " on " + be.name();
                    if (m.config().hasImage()) {
                        HostArray img = golden.read(c + ".images");
                        assertClose(what + ": image embedding", golden.read(c + ".img").toFloatArray(),
                                m.embedImages(img.toFloatArray(), (int) img.shape()[0]), 1e-5);
                    }
                    if (m.config().hasText()) {
                        assertClose(what + ": text embedding", golden.read(c + ".txt").toFloatArray(), m.embedTexts(tokens(golden, c)), 1e-5);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"clip", "siglip", "vit", "bert", "txt"})
    void loadsBackToTheSameEmbeddingsBitForBit(String c) throws IOException {
        Path out = export(c);
        try (SafetensorsReader golden = SafetensorsReader.open(EXPECTED);
             TwoTower a = Checkpoints.load(scalar, GOLDEN.resolve(SOURCES.get(c))); TwoTower b = Checkpoints.load(scalar, out)) {
            assertEquals(a.config().hasImage(), b.config().hasImage(), c);
            assertEquals(a.config().hasText(), b.config().hasText(), c);
            if (a.config().hasImage()) {
                HostArray img = golden.read(c + ".images");
                int n = (int) img.shape()[0];
                assertArrayEquals(a.embedImages(img.toFloatArray(), n), b.embedImages(img.toFloatArray(), n), c + " image, bit for bit");
            }
            if (a.config().hasText()) {
                assertArrayEquals(a.embedTexts(tokens(golden, c)), b.embedTexts(tokens(golden, c)), c + " text, bit for bit");
            }
            if (a.config().hasImage() && a.config().hasText()) {
                assertEquals(a.temperature(), b.temperature(), c + ": logit_scale is t");
            }
        }
    }

    @Test
    void theShippedDefaultBecomesAViTAndASiglipTextModel() throws IOException {
        Path out = tmp.resolve("default-hf");
        HfExport.Written w;
        try (TwoTower m = Checkpoints.load(scalar, DefaultModel.path())) {
            w = HfExport.save(m, out, DefaultModel.path().resolve("tokenizer.json"));
        }
        assertEquals(List.of("image", "text"), w.folders());
        assertTrue(w.notes().get(0).contains("temperature"), w.notes().toString());
        assertEquals(Checkpoints.Format.HUGGINGFACE, Checkpoints.inspect(out.resolve("image")).format());
        assertTrue(Files.isRegularFile(out.resolve("text/tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("image/preprocessor_config.json")));
        Random rnd = new Random(7);
        try (TwoTower a = Checkpoints.load(scalar, DefaultModel.path()); TwoTower img = Checkpoints.load(scalar, out.resolve("image"));
             TwoTower txt = Checkpoints.load(scalar, out.resolve("text"))) {
            int size = a.config().image().imageSize(), len = a.config().text().contextLength(), vocab = a.config().text().vocabSize();
            float[] px = new float[2 * size * size * 3];
            for (int i = 0; i < px.length; i++) {
                px[i] = rnd.nextFloat() * 2 - 1;
            }
            int[] ids = new int[2 * len];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = rnd.nextInt(vocab);
            }
            TokenBatch t = new TokenBatch(ids, 2, len);
            assertArrayEquals(a.embedImages(px, 2), img.embedImages(px, 2), "image tower, bit for bit");
            assertArrayEquals(a.embedTexts(t), txt.embedTexts(t), "text tower (identity head), bit for bit");
            // v / 127.5 - 1 is written as mean = std = 0.5, the same numbers as a mean/std mapping
            assertEquals(PreprocessorConfig.toJson(a.preprocess()), PreprocessorConfig.toJson(img.preprocess()),
                    "preprocessor_config.json carries the preprocessing");
        }
    }

    @Test
    void towersHfHasNoClassForAreRefusedSayingWhy() {
        try (TwoTower vitWithHead = Checkpoints.load(scalar, GOLDEN.resolve("vit")); TwoTower minilm = Checkpoints.load(scalar, MiniLm.folder())) {
            LitException e = assertThrows(LitException.class, () -> HfExport.save(vitWithHead, tmp.resolve("a"), null));
            assertTrue(e.getMessage().contains("no linear head"), e.getMessage());
            assertTrue(!Files.exists(tmp.resolve("a")), "nothing written");
            LitException m = assertThrows(LitException.class, () -> HfExport.save(minilm, tmp.resolve("b"), null));
            assertTrue(m.getMessage().contains("mean-pooled"), m.getMessage());
        }
    }

    private static TokenBatch tokens(SafetensorsReader golden, String c) {
        HostArray t = golden.read(c + ".tokens");
        assertNotNull(t);
        return new TokenBatch(t.toIntArray(), (int) t.shape()[0], (int) t.shape()[1]);
    }

    static String sha256(Path f) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
