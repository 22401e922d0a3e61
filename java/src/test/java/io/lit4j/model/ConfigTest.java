package io.lit4j.model;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigTest {
    @Test
    void everyPresetRoundTripsThroughJson() {
        for (String name : Presets.names().get("model")) {
            TwoTowerConfig c = Presets.pair(name);
            assertEquals(c, TwoTowerConfig.parse(c.toJson().toString(), name), name);
        }
    }

    @Test
    void presetSizesMatchThePublishedModels() {
        // HF ViTModel B/16 has 86,389,248 parameters: minus its pooler (590,592) and the CLS slot of
        // the position table (768, folded into the CLS token here) leaves 85,797,888.
        long vitB = Presets.image("B/16").params().stream().mapToLong(ParamSpec::numel).sum();
        assertEquals(85_797_888, vitB);
        // HF BertModel base has 109,482,240: minus the pooler (590,592) leaves 108,891,648.
        long bert = Presets.text("bert-base").params().stream().mapToLong(ParamSpec::numel).sum();
        assertEquals(108_891_648, bert);
        assertEquals(197, Presets.image("B/16").tokens());
        // google/siglip-base-patch16-224 (SiglipModel): 203.16M parameters, of which the vision
        // tower (SiglipVisionModel, MAP head included) has 92.88M.
        TwoTowerConfig siglip = Presets.pair("siglip-b16-224");
        assertEquals(203.16e6, siglip.numValues(), 0.005e6);
        assertEquals(92.88e6, siglip.image().params().stream().mapToLong(ParamSpec::numel).sum(), 0.005e6);
        assertEquals(196, siglip.image().tokens(), "no CLS token");
        ViTConfig so = Presets.image("So400m/14");
        assertTrue(so.width() == 1152 && so.depth() == 27 && so.mlpDim() == 4304 && so.heads() == 16 && so.numPatches() == 256);
    }

    @Test
    void unknownFieldsAndBadValuesAreNamed() {
        String typo = "{\"format\":\"lit4j\",\"image\":{\"image_size\":32,\"patch_size\":8,\"width\":32,\"depth\":1,\"heads\":4,\"mlp_dim\":64,\"hed_dim\":8}}";
        LitException e = assertThrows(LitException.class, () -> TwoTowerConfig.parse(typo, "cfg.json"));
        assertTrue(e.getMessage().contains("hed_dim") && e.getMessage().contains("typo"), e.getMessage());
        String bad = "{\"image\":{\"image_size\":30,\"patch_size\":8,\"width\":32,\"depth\":1,\"heads\":4,\"mlp_dim\":64}}";
        LitException e2 = assertThrows(LitException.class, () -> TwoTowerConfig.parse(bad, "cfg.json"));
        assertTrue(e2.getMessage().contains("image_size 30"), e2.getMessage());
        LitException e3 = assertThrows(LitException.class, () -> TwoTowerConfig.parse("{not json", "cfg.json"));
        assertTrue(e3.getMessage().contains("cfg.json"), e3.getMessage());
    }

    @Test
    void towersMustAgreeOnTheEmbeddingWidth() {
        LitException e = assertThrows(LitException.class, () -> new TwoTowerConfig(Presets.image("smoke").withHeadDim(16),
                Presets.text("smoke").withHeadDim(24), TwoTowerConfig.Loss.SOFTMAX));
        assertTrue(e.getMessage().contains("16") && e.getMessage().contains("24"), e.getMessage());
    }

    @Test
    void sigmoidLossAddsTheBias() {
        TwoTowerConfig s = new TwoTowerConfig(Presets.image("smoke").withHeadDim(8), Presets.text("smoke").withHeadDim(8),
                TwoTowerConfig.Loss.SIGMOID);
        assertTrue(s.params().stream().anyMatch(p -> p.name().equals("b")));
    }
}
