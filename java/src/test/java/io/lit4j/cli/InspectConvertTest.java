package io.lit4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.MiniLm;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.model.TwoTower;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lit4j inspect} reports what a checkpoint is; {@code lit4j convert} writes a lit4j folder that embeds bit for bit the same. */
class InspectConvertTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");

    @Test
    void inspectNamesTheFormatTheConfigAndWhetherItLoads() {
        CliTest.Result r = CliTest.run("inspect", MiniLm.folder().toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("onnx", o.get("format").getAsString());
        assertEquals(12, o.getAsJsonObject("config").getAsJsonObject("text").get("heads").getAsInt());
        assertEquals("mean", o.getAsJsonObject("config").getAsJsonObject("text").get("pool").getAsString());
        assertEquals(22_565_376L, o.getAsJsonObject("parameters").get("text").getAsLong(), "all-MiniLM-L6-v2's BertModel less its pooler");
        assertTrue(o.get("tokenizer").getAsString().startsWith("tokenizer.json (30522 ids"), o.toString());
        assertTrue(o.get("loads").getAsString().startsWith("ok"), o.toString());

        CliTest.Result bad = CliTest.run("inspect", GOLDEN.resolve("bert_hf/model.safetensors").toString(), "--json");
        assertEquals(0, bad.code(), bad.err()); // a HF BERT with its pooler and MLM head: known extras, skipped
        assertEquals("huggingface", JsonParser.parseString(bad.out()).getAsJsonObject().get("format").getAsString());
    }

    @Test
    void convertWritesALit4jFolderThatEmbedsTheSame(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("converted");
        Path in = GOLDEN.resolve("bert_onnx");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.copy(in.resolve("model.onnx"), src.resolve("model.onnx"));
        CliTest.Result r = CliTest.run("convert", src.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Checkpoints.Format.LIT4J, Checkpoints.inspect(out).format());
        TokenBatch tokens = new TokenBatch(new int[] {101, 7, 9, 33, 0, 0, 101, 5, 0, 0, 0, 0}, 2, 6);
        try (ScalarBackend be = new ScalarBackend(); TwoTower a = Checkpoints.load(be, src); TwoTower b = Checkpoints.load(be, out)) {
            assertEquals(a.config(), b.config());
            assertArrayEquals(a.embedTexts(tokens), b.embedTexts(tokens), "bit for bit");
        }
        CliTest.Result again = CliTest.run("convert", src.toString(), "--out", out.toString());
        assertTrue(again.code() != 0, "an existing folder is never overwritten");
        assertTrue(again.err().contains("not empty"), again.err());
    }

    @Test
    void theMiniLmNameEmbedsTextsFromTheCommandLine(@TempDir Path tmp) throws Exception {
        Path texts = Files.write(tmp.resolve("t.txt"), List.of("a photo of a cat", "two dogs"));
        CliTest.Result r = CliTest.run("embed", "--model", MiniLm.folder().toString(), "--texts", texts.toString(), "--out",
                tmp.resolve("z.npy").toString(), "--backend", "scalar", "-q");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(tmp.resolve("z.npy")) > 2 * 384 * 4);
        assertTrue(TextTokenizer.findIn(MiniLm.folder()) != null);
    }
}
