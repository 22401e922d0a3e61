package io.lit4j.datasets;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Descriptive captions for Fashion-MNIST images: a class noun (the class name or a synonym) with
 * 0–2 adjectives inside one of many sentence frames. The frames and adjectives are chosen so
 * that no caption is, contains, or is one word away from a zero-shot prompt template (CLIP's 80
 * and big_vision's {@code clip_best}): no "a photo of", no "a {}." alone, no adjective a template
 * uses ("plastic", "toy", "large", "small", "clean", ...). Tests check this over many samples.
 */
final class FashionCaptions {
    private FashionCaptions() {
    }

    /** How a class is named: nouns (first = class alias), whether it comes in pairs, adjectives. */
    record Words(List<String> nouns, boolean pair, List<String> adjectives, String category) {
    }

    static final List<Words> CLASSES = List.of(
            new Words(List.of("t-shirt", "tee", "top"), false,
                    List.of("short-sleeved", "cotton", "casual", "crew-neck", "loose-fitting", "basic"), "clothing"),
            new Words(List.of("trousers", "pants"), true,
                    List.of("slim", "straight-leg", "long", "casual", "wide-leg", "tailored"), "clothing"),
            new Words(List.of("pullover", "sweater", "jumper"), false,
                    List.of("warm", "knitted", "woolly", "cosy", "long-sleeved", "thick"), "clothing"),
            new Words(List.of("dress"), false,
                    List.of("sleeveless", "summer", "long", "elegant", "flowing", "knee-length"), "clothing"),
            new Words(List.of("coat", "jacket"), false,
                    List.of("winter", "warm", "long", "buttoned", "zip-up", "heavy"), "clothing"),
            new Words(List.of("sandal"), false,
                    List.of("strappy", "summer", "open-toed", "flat", "light", "buckled"), "footwear"),
            new Words(List.of("shirt"), false,
                    List.of("button-up", "collared", "long-sleeved", "formal", "checked", "cotton"), "clothing"),
            new Words(List.of("sneaker", "trainer", "running shoe"), false,
                    List.of("rubber-soled", "sporty", "lace-up", "canvas", "comfortable", "athletic"), "footwear"),
            new Words(List.of("bag", "handbag", "purse"), false,
                    List.of("leather", "shoulder", "everyday", "zipped", "boxy", "tote"), "accessories"),
            new Words(List.of("ankle boot", "boot"), false,
                    List.of("leather", "heeled", "lace-up", "winter", "chunky", "suede"), "footwear"));

    /** Adjectives any class may take. */
    static final List<String> GENERIC_ADJECTIVES = List.of(
            "grey", "plain", "simple", "pale", "faded", "monochrome", "ordinary", "neat");

    /**
     * Sentence frames: {@code {np}} = noun phrase with a determiner ("a warm jumper", "a pair of
     * trousers"), {@code {n}} = the noun with its adjectives but no determiner, {@code {cat}} =
     * clothing / footwear / accessories.
     */
    static final List<String> FRAMES = List.of(
            "a grayscale product photo of {np}",
            "{np}, photographed flat",
            "catalogue image: {n}",
            "this is {np}",
            "someone's {n} on a dark background",
            "{np} laid out on a black backdrop",
            "product shot showing {np}",
            "online shop listing for {np}",
            "thumbnail of {np} from a clothing store",
            "{np} seen from the front",
            "a greyscale picture showing {np}",
            "here we have {np}",
            "an image of {np}, centred in the frame",
            "{np} against a plain black background",
            "inventory picture: {n}",
            "fashion item: {n}",
            "{np} for sale",
            "a monochrome shot of {np}",
            "low-res scan of {np}",
            "the item pictured is {np}",
            "you are looking at {np}",
            "{np} in shades of grey",
            "a 28 by 28 pixel image of {np}",
            "{cat} category: {n}",
            "{np}, nothing else in the picture",
            "shop photo, front view: {np}",
            "a tiny greyscale thumbnail showing {np}",
            "{np} placed in the middle of a dark square",
            "someone is selling {np}",
            "looks like {np} to me",
            "a faded black-and-white picture of {np}",
            "from the {cat} section: {np}",
            "{np}, shown on its own",
            "what we see here is {np}",
            "web store picture of {np}",
            "{np} on display against black",
            "a scanned picture of {np} on black");

    /** 2 or 3 distinct captions for an image of class {@code label}. */
    static List<String> captions(int label, SplittableRandom rng) {
        int n = 2 + rng.nextInt(2);
        Set<String> out = new LinkedHashSet<>();
        List<String> frames = new ArrayList<>(FRAMES);
        while (out.size() < n) {
            String frame = frames.remove(rng.nextInt(frames.size()));
            out.add(fill(frame, CLASSES.get(label), rng));
        }
        return List.copyOf(out);
    }

    static String fill(String frame, Words w, SplittableRandom rng) {
        String noun = Scenes.pick(rng, w.nouns());
        String adjs = adjectives(w, rng);
        String n = adjs.isEmpty() ? noun : adjs + " " + noun;
        String np;
        if (w.pair()) {
            np = rng.nextDouble() < 0.7 ? "a pair of " + n : "some " + n;
        } else {
            np = SceneText.article(n) + " " + n;
        }
        return frame.replace("{np}", np).replace("{n}", n).replace("{cat}", w.category());
    }

    private static String adjectives(Words w, SplittableRandom rng) {
        double u = rng.nextDouble();
        int k = u < 0.4 ? 0 : u < 0.8 ? 1 : 2;
        List<String> picked = new ArrayList<>();
        while (picked.size() < k) {
            String a = rng.nextDouble() < 0.7 ? Scenes.pick(rng, w.adjectives()) : Scenes.pick(rng, GENERIC_ADJECTIVES);
            if (!picked.contains(a)) {
                picked.add(a);
            }
        }
        return String.join(" ", picked);
    }
}
