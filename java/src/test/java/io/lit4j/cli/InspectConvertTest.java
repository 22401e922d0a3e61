package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.lit4j.backend.scalar.ScalarBackend;
import io.lit4j.checkpoint.Checkpoints;
import io.lit4j.checkpoint.MiniLm;
import io.lit4j.data.TextTokenizer;
import io.lit4j.data.TokenBatch;
import io.lit4j.io.HostArray;
import io.lit4j.io.SafetensorsReader;
import io.lit4j.io.SafetensorsWriter;
import io.lit4j.model.TwoTower;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
    void inspectListsMissingAndUnusedKeysAsFields(@TempDir Path tmp) throws Exception {
        JsonObject clean = JsonParser.parseString(CliTest.run("inspect", GOLDEN.resolve("bert_hf").toString(), "--json").out())
                .getAsJsonObject();
        assertEquals(0, clean.getAsJsonArray("missing").size(), clean.toString());
        assertEquals(0, clean.getAsJsonArray("unused").size(), "the pooler and MLM head are known extras: " + clean);

        // the same BERT with one layer's output bias dropped and a key no BERT has added
        Path dir = Files.createDirectories(tmp.resolve("broken"));
        Files.copy(GOLDEN.resolve("bert_hf/config.json"), dir.resolve("config.json"));
        String dropped = "bert.encoder.layer.1.output.dense.bias", extra = "bert.encoder.layer.0.adapter.weight";
        try (SafetensorsReader in = SafetensorsReader.open(GOLDEN.resolve("bert_hf/model.safetensors")); Arena arena = Arena.ofConfined()) {
            List<HostArray> arrays = new ArrayList<>();
            for (String k : in.keys()) {
                if (!k.equals(dropped)) {
                    arrays.add(in.read(k));
                }
            }
            arrays.add(HostArray.ofFloats(extra, new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6}, arena));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of(), arrays);
        }
        CliTest.Result r = CliTest.run("inspect", dir.toString(), "--json");
        assertEquals(1, r.code(), "a file that does not load: " + r.out());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(List.of(dropped), strings(o.getAsJsonArray("missing")), o.toString());
        assertEquals(List.of(extra), strings(o.getAsJsonArray("unused")), o.toString());

        CliTest.Result text = CliTest.run("inspect", dir.toString());
        assertTrue(text.out().contains("missing:    " + dropped + "\n") && text.out().contains("unused:     " + extra + "\n"), text.out());
        CliTest.Result ok = CliTest.run("inspect", GOLDEN.resolve("vit_hf").toString());
        assertTrue(ok.out().contains("missing:    none\n") && ok.out().contains("unused:     none\n"), ok.out());
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
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
    void convertToHfWritesAHuggingFaceFolder(@TempDir Path tmp) {
        Path out = tmp.resolve("hf");
        CliTest.Result r = CliTest.run("convert", GOLDEN.resolve("siglip_hf").toString(), "--out", out.toString(), "--to", "hf", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("hf", o.get("to").getAsString());
        assertEquals(1, o.getAsJsonArray("folders").size(), o.toString());
        assertEquals(Checkpoints.Format.HUGGINGFACE, Checkpoints.inspect(out).format(), "a SiglipModel folder");
        CliTest.Result bad = CliTest.run("convert", GOLDEN.resolve("siglip_hf").toString(), "--out", tmp.resolve("x").toString(), "--to", "onnx");
        assertTrue(bad.code() != 0 && bad.err().contains("--to should be lit4j or hf"), bad.err());
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
