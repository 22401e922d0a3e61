package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.DefaultModel;
import io.lit4j.LitModel;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TextTokenizer.Conventions;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.AtomicFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A SigLIP folder with a real {@code spiece.model} tokenizes with SigLIP's own conventions and no
 * flags: big_vision's for a big_vision {@code .npz}, transformers' SiglipTokenizer's for a
 * HuggingFace folder; {@code convert} writes them into the lit4j folder. The ids are held to
 * {@code make_siglip_tokenizer_golden.py} (python sentencepiece on the same {@code spm_train}-made model, each
 * pipeline transcribed) on texts with capitals, punctuation, runs of spaces and overlong ones.
 */
class SiglipTextConventionsTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final Path SPM = GOLDEN.resolve("spm/tiny.model");

    @TempDir
    Path tmp;

    record Case(String text, JsonObject ids) {
    }

    static JsonObject expected() throws IOException {
        return JsonParser.parseString(Files.readString(GOLDEN.resolve("spm/siglip_expected.json"))).getAsJsonObject();
    }

    static List<Case> cases(String pipeline) throws IOException {
        List<Case> out = new ArrayList<>();
        for (JsonElement e : expected().getAsJsonArray("texts")) {
            JsonObject o = e.getAsJsonObject();
            if (o.has(pipeline)) {
                out.add(new Case(o.get("text").getAsString(), o));
            }
        }
        assertTrue(out.size() >= 8, pipeline + ": the golden lists its texts");
        return out;
    }

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    /** The model's tokenizer frames every case as {@code pipeline} does (the tower's policy is overridden by the conventions). */
    static void assertTokenizesAs(String pipeline, Path model) throws IOException {
        int len = expected().get("max_len").getAsInt();
        try (LitModel m = LitModel.open(model.toString(), LitModel.Options.defaults().withBackend("scalar"))) {
            assertTrue(m.tokenizer().conventions().isPresent(), model + ": conventions applied");
            assertEquals(len, m.config().text().contextLength());
            for (Case c : cases(pipeline)) {
                TokenBatch b = m.tokenizer().encode(List.of(c.text()), len, m.config().text().tokenPolicy());
                assertArrayEquals(ints(c.ids().getAsJsonArray(pipeline)), b.ids(), pipeline + " via " + model.getFileName() + ": '" + c.text() + "'");
            }
        }
    }

    /** The big_vision SigLIP demo's layout: the .npz and the SentencePiece model it was trained with, side by side. */
    private Path bigVisionFolder() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("webli_en_b16"));
        Files.copy(GOLDEN.resolve("siglip.npz"), dir.resolve("webli_en_b16_224_63724782.npz"));
        Files.copy(SPM, dir.resolve("sentencepiece.model"));
        return dir;
    }

    /** google/siglip-*'s layout: config.json, model.safetensors, spiece.model. */
    private Path hfFolder() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("siglip-base-patch16-224"));
        Files.copy(GOLDEN.resolve("siglip_hf/config.json"), dir.resolve("config.json"));
        Files.copy(GOLDEN.resolve("siglip_hf/model.safetensors"), dir.resolve("model.safetensors"));
        Files.copy(SPM, dir.resolve("spiece.model"));
        return dir;
    }

    @Test
    void aBigVisionSiglipFolderTokenizesAsBigVision() throws IOException {
        assertTokenizesAs("big_vision_siglip", bigVisionFolder());
    }

    @Test
    void aHuggingFaceSiglipFolderTokenizesAsSiglipTokenizer() throws IOException {
        assertTokenizesAs("hf_siglip", hfFolder());
    }

    @Test
    void siglip2PadsWithTheModelsOwnPadId() throws IOException {
        int len = expected().get("max_len").getAsInt();
        try (TextTokenizer t = TextTokenizer.load(SPM, new Conventions(Conventions.Eos.STICKY, Conventions.MODEL_PAD, true))) {
            assertEquals(0, t.conventions().orElseThrow().padId(), "tiny.model's pad id, as Gemma's");
            for (Case c : cases("big_vision_siglip2")) {
                assertArrayEquals(ints(c.ids().getAsJsonArray("big_vision_siglip2")), t.encode(List.of(c.text()), len,
                        TextTokenizer.Policy.STICKY_EOS).ids(), "'" + c.text() + "'");
            }
        }
    }

    @Test
    void convertWritesTheConventionsIntoTheLit4jFolder() throws IOException {
        for (String pipeline : List.of("hf_siglip", "big_vision_siglip")) {
            Path in = pipeline.startsWith("hf") ? hfFolder() : bigVisionFolder();
            Path out = tmp.resolve("lit4j-" + pipeline);
            CliTest.Result r = CliTest.run("convert", in.toString(), "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            JsonObject conv = JsonParser.parseString(Files.readString(out.resolve(TextTokenizer.CONVENTIONS))).getAsJsonObject();
            assertEquals("sticky", conv.get("eos").getAsString(), conv.toString());
            assertEquals(1, conv.get("pad_id").getAsInt(), conv.toString());
            assertTrue(conv.get("lowercase").getAsBoolean(), conv.toString());
            assertEquals(pipeline.startsWith("hf"), conv.has("canonicalize"), conv.toString());
            assertTokenizesAs(pipeline, out);
            AtomicFolder.deleteTree(in); // the next case makes its folder again
        }
    }

    @Test
    void classifyNeedsNoTokenizerFlags() throws IOException {
        Path png = DefaultModel.samples().resolve("fashion-bag.png");
        for (Path model : List.of(hfFolder(), bigVisionFolder())) {
            CliTest.Result r = CliTest.run("classify", png.toString(), "--model", model.toString(), "--labels", "red circle,blue square",
                    "--backend", "scalar");
            assertEquals(0, r.code(), model + ": " + r.err());
            assertTrue(r.out().contains("red circle") || r.out().contains("blue square"), r.out());
        }
    }
}
