package io.lit4j.datasets;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The studies' reference recipe for Fashion-MNIST captions (issue 14): one fixed caption per
 * image, a frame drawn uniformly from {@link #FRAMES} with {@code {n}} a name drawn uniformly from
 * the class's {@link #NAMES} and {@code {a}} its article ("a pair of" for trousers, pants, slacks
 * and sandals, else "an" before a vowel, else "a"). Written out word for word so that an outside
 * run of the same recipe draws from the same sentences; how a draw is seeded is lit4j's own.
 */
public final class ReferenceCaptions {
    /** The 20 frames, as the issue lists them. */
    public static final List<String> FRAMES = List.of(
            "a grayscale image of {a} {n}", "someone's {n} on a plain background", "{n} , product photo",
            "a small picture showing {a} {n}", "{a} {n} for sale", "catalog shot of {a} {n}", "low resolution image of {a} {n}",
            "here is {a} {n}", "this is {a} {n}", "{a} {n} seen from the front", "black and white picture of {a} {n}",
            "an online shop listing : {n}", "{n} isolated on a dark background", "my new {n}", "{a} {n} , 28 by 28 pixels",
            "the {n} in this picture", "thumbnail of {a} {n}", "a fashion item : {n}", "{a} stylish {n}", "close-up of {a} {n}");

    /** The names of each class, in label order. */
    public static final List<List<String>> NAMES = List.of(
            List.of("t-shirt/top", "t-shirt", "tee", "top"),
            List.of("trouser", "trousers", "pants", "slacks"),
            List.of("pullover", "sweater", "jumper"),
            List.of("dress", "gown"),
            List.of("coat", "jacket", "overcoat"),
            List.of("sandal", "sandals"),
            List.of("shirt", "button-up shirt", "blouse"),
            List.of("sneaker", "trainer", "running shoe"),
            List.of("bag", "handbag", "purse"),
            List.of("ankle boot", "boot", "bootie"));

    /** The canonical names zero-shot prompts use (the first of each class's names). */
    public static final List<String> CANONICAL = NAMES.stream().map(List::getFirst).toList();

    /** The ten evaluation templates of the recipe, over {@link #CANONICAL}. */
    public static final List<String> TEMPLATES = List.of(
            "a photo of a {}.", "a blurry photo of a {}.", "itap of a {}.", "a photo of the small {}.", "a bad photo of the {}.",
            "art of the {}.", "a {} in a video game.", "a photo of the large {}.", "a close-up photo of a {}.",
            "a black and white photo of the {}.");

    private static final Set<String> PAIRS = Set.of("trousers", "pants", "slacks", "sandals");

    private ReferenceCaptions() {
    }

    /** The article the recipe puts before {@code name}. */
    public static String article(String name) {
        return PAIRS.contains(name) ? "a pair of" : SceneText.article(name);
    }

    /** The one caption of image {@code index} of class {@code label} under {@code seed}. */
    public static String caption(int label, long seed, int index) {
        SplittableRandom rng = new SplittableRandom(Scenes.mix(Scenes.mix(seed * 0x9E3779B97F4A7C15L + 14) ^ index));
        return caption(label, rng);
    }

    /** A caption for class {@code label} drawn from {@code rng}. */
    public static String caption(int label, SplittableRandom rng) {
        String frame = FRAMES.get(rng.nextInt(FRAMES.size()));
        String name = Scenes.pick(rng, NAMES.get(label));
        return frame.replace("{a}", article(name)).replace("{n}", name);
    }
}
