package io.lit4j.model;

import io.lit4j.LitException;
import io.lit4j.backend.Gelu;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CLIP's two tower configs: their JSON, their parameters, and where the text tower pools. */
class ClipConfigTest {
    /** openai/clip-vit-base-patch32's sizes (its config.json). */
    static TwoTowerConfig b32() {
        return new TwoTowerConfig(new ViTConfig(224, 32, 3, 768, 12, 12, 3072, ViTConfig.Pooling.TOK, 1e-5f, Gelu.QUICK, 512,
                ViTConfig.Layout.CLIP), new ClipTextConfig(49408, 77, 512, 12, 8, 2048, 1e-5f, Gelu.QUICK, 512, 2), null);
    }

    @Test
    void roundTripsThroughLit4jJson() {
        TwoTowerConfig c = b32();
        assertEquals(c, TwoTowerConfig.parse(c.toJson().toString(), "clip"));
        assertTrue(c.toJson().toString().contains("\"layout\":\"clip\""), c.toJson().toString());
        ViTConfig plain = Presets.image("B/16");
        assertTrue(!plain.toJson().has("layout"), "a big_vision tower's JSON is as before");
    }

    @Test
    void parametersAreTheHuggingFaceModelsLessTheFoldedClassPosition() {
        // CLIPModel openai/clip-vit-base-patch32: 151,277,313 parameters; lit4j folds the class
        // token's position row (768 values) into the token, and keeps no biases CLIP does not have.
        assertEquals(151_277_313L - 768, b32().numValues());
        assertTrue(b32().params().stream().noneMatch(p -> p.name().equals("img.patch.bias") || p.name().endsWith("head.bias")));
    }

    @Test
    void theTextTowerPoolsWhereTransformersDoes() {
        int[] ids = {
            49406, 5, 49407, 49407,    // a plain row: the end-of-text token at 2
            49406, 49408, 49407, 0,    // an added token past <|endoftext|>: the legacy rule takes the largest id
            49406, 7, 8, 9};           // truncated without end of text
        ClipTextConfig legacy = new ClipTextConfig(49409, 4, 8, 1, 2, 16, 1e-5f, Gelu.QUICK, 0, ClipTextConfig.LEGACY_EOS);
        ClipTextConfig modern = new ClipTextConfig(49409, 4, 8, 1, 2, 16, 1e-5f, Gelu.QUICK, 0, 49407);
        assertArrayEquals(new int[] {2, 1, 0}, legacy.poolPositions(ids, 3, 4));
        assertArrayEquals(new int[] {2, 2, 0}, modern.poolPositions(ids, 3, 4)); // torch argmax of all-false is 0
    }

    @Test
    void theClipLayoutPoolsTheClassToken() {
        LitException e = assertThrows(LitException.class, () -> new ViTConfig(32, 8, 3, 48, 1, 3, 96, ViTConfig.Pooling.GAP, 1e-5f,
                Gelu.QUICK, 0, ViTConfig.Layout.CLIP));
        assertTrue(e.getMessage().contains("clip") && e.getMessage().contains("GAP"), e.getMessage());
    }
}
