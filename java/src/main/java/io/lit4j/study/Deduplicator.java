package io.lit4j.study;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.LitModel;
import io.lit4j.data.CaptionDataset;
import io.lit4j.data.Images;
import io.lit4j.dedup.DedupRule;
import io.lit4j.dedup.ExactKeys;
import io.lit4j.dedup.NearDuplicates;
import io.lit4j.dedup.PerceptualHash;
import io.lit4j.eval.Evaluator;
import io.lit4j.io.AtomicFolder;
import io.lit4j.report.ProgressBar;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code lit4j dedup} (LiT §5.4): removes from a caption data set its exact duplicates (the same
 * decoded pixels, {@link ExactKeys#pixels}) and near duplicates (perceptual hashes within the
 * rule's Hamming distance, confirmed by the cosine of the locked image tower's embeddings: the
 * core's {@link DedupRule}, run by {@link NearDuplicates}), within the set and against evaluation
 * sets, and writes the cleaned set, a JSON report and a contact sheet of the borderline pairs
 * (cosine within 0.02 of the threshold, on either side, the closest first). The first row of a duplicate group is
 * kept. Captions that repeat exactly (after {@link ExactKeys#normaliseCaption}) are counted, not
 * removed: templated captions repeat by design.
 */
public final class Deduplicator {
    /** Cosine either side of the threshold within which a pair is borderline. */
    static final float BORDER = 0.02f;
    static final int SHEET_PAIRS = 24;

    /** Why a row was dropped: the reason and the row it duplicates ({@code against} names an evaluation file). */
    public record Dropped(int row, String image, String reason, String duplicateOf, int hamming, float cosine) {
    }

    /** What a run found. */
    public record Result(int rows, int kept, int exactPixels, int nearInSet, int exactAgainstEval, int nearAgainstEval,
                         int repeatedCaptions, List<Dropped> dropped, Path cleaned, Path report, Path sheet) {
    }

    private record Image(CaptionDataset ds, CaptionDataset.Row row, BufferedImage img, String key, long hash) {
    }

    private Deduplicator() {
    }

    /**
     * De-duplicates {@code data} with the image tower {@code tower} (a {@link LitModel} with an
     * image tower), against {@code against}, into {@code out}: {@code out/cleaned/} (a caption
     * folder), {@code out/report/dedup.json}, {@code out/report/borderline.png}.
     */
    public static Result run(LitModel tower, Path data, List<Path> against, Path out, DedupRule rule, PrintStream log) {
        if (tower.images() == null) {
            throw new LitException("dedup needs a model with an image tower (its embeddings confirm near duplicates)");
        }
        List<CaptionDataset> open = new ArrayList<>();
        try {
            CaptionDataset ds = CaptionDataset.open(data);
            open.add(ds);
            List<Image> corpus = decode(ds, log);
            List<Image> evals = new ArrayList<>();
            for (Path a : against) {
                CaptionDataset e = CaptionDataset.open(a);
                open.add(e);
                evals.addAll(decode(e, log));
            }
            Map<Integer, Dropped> dropped = new TreeMap<>();
            Map<String, Image> evalKeys = new HashMap<>();
            evals.forEach(e -> evalKeys.putIfAbsent(e.key(), e));
            Map<String, Image> seen = new HashMap<>();
            int exact = 0, exactEval = 0;
            for (Image im : corpus) {
                Image ev = evalKeys.get(im.key());
                Image first = seen.putIfAbsent(im.key(), im);
                if (ev != null) {
                    exactEval++;
                    dropped.put(im.row().index(), new Dropped(im.row().index(), im.row().image(), "exact pixels of an evaluation image",
                            ev.ds().source() + ":" + ev.row().image(), 0, 1));
                } else if (first != null) {
                    exact++;
                    dropped.put(im.row().index(), new Dropped(im.row().index(), im.row().image(), "exact pixels", first.row().image(), 0, 1));
                }
            }
            Map<String, Integer> captions = new HashMap<>();
            int repeated = 0;
            for (CaptionDataset.Row r : ds.rows()) {
                for (String c : r.captions()) {
                    String k = ExactKeys.caption(c);
                    if (k != null && captions.merge(k, 1, Integer::sum) > 1) {
                        repeated++;
                    }
                }
            }
            // near duplicates: the rule with the thresholds lowered by BORDER finds the confirmed pairs and the borderline ones
            DedupRule loose = new DedupRule(rule.maxHamming(), Math.max(-1, rule.cosine() - BORDER), Math.max(-1, rule.evalCosine() - BORDER),
                    rule.bands());
            List<NearDuplicates.Item> items = new ArrayList<>();
            float[] zc = embed(tower, ds, corpus, log);
            int dim = zc.length / Math.max(1, corpus.size());
            List<Image> all = new ArrayList<>();
            for (int i = 0; i < corpus.size(); i++) {
                if (!dropped.containsKey(corpus.get(i).row().index())) {
                    items.add(new NearDuplicates.Item(all.size(), corpus.get(i).hash(), Arrays.copyOfRange(zc, i * dim, (i + 1) * dim), false));
                }
                all.add(corpus.get(i));
            }
            for (CaptionDataset e : open.subList(1, open.size())) {
                List<Image> mine = evals.stream().filter(x -> x.ds() == e).toList();
                float[] ze = embed(tower, e, mine, log);
                for (int i = 0; i < mine.size(); i++) {
                    items.add(new NearDuplicates.Item(all.size(), mine.get(i).hash(), Arrays.copyOfRange(ze, i * dim, (i + 1) * dim), true));
                    all.add(mine.get(i));
                }
            }
            List<NearDuplicates.Pair> pairs = NearDuplicates.find(items, loose);
            List<NearDuplicates.Pair> borderline = new ArrayList<>();
            int near = 0, nearEval = 0;
            for (NearDuplicates.Pair p : pairs) {
                float threshold = p.againstEval() ? rule.evalCosine() : rule.cosine();
                if (Math.abs(p.cosine() - threshold) <= BORDER) {
                    borderline.add(p);
                }
                if (!rule.confirmed(p.cosine(), p.againstEval())) {
                    continue;
                }
                Image a = all.get((int) p.a()), b = all.get((int) p.b());
                Image drop = p.againstEval() ? (a.ds() == ds ? a : b) : b; // within the set, the later row goes
                Image other = drop == a ? b : a;
                int row = drop.row().index();
                if (dropped.containsKey(row)) {
                    continue;
                }
                if (!p.againstEval() && dropped.containsKey(other.row().index())) {
                    continue; // its twin is gone already: keep this one
                }
                if (p.againstEval()) {
                    nearEval++;
                } else {
                    near++;
                }
                dropped.put(row, new Dropped(row, drop.row().image(), p.againstEval() ? "near an evaluation image" : "near duplicate",
                        (other.ds() == ds ? "" : other.ds().source() + ":") + other.row().image(), p.hamming(), p.cosine()));
            }
            boolean[] keep = new boolean[ds.size()];
            for (CaptionDataset.Row r : ds.rows()) {
                keep[r.index()] = !dropped.containsKey(r.index());
            }
            Path cleaned = StudyData.copy(data, out.resolve("cleaned"), keep, new int[ds.size()], log);
            borderline.sort(Comparator.comparingDouble(p -> Math.abs(p.cosine() - (p.againstEval() ? rule.evalCosine() : rule.cosine()))));
            Path reportDir = out.resolve("report");
            Result res = new Result(ds.size(), ds.size() - dropped.size(), exact, near, exactEval, nearEval, repeated,
                    List.copyOf(dropped.values()), cleaned, reportDir.resolve("dedup.json"), reportDir.resolve("borderline.png"));
            try (AtomicFolder f = AtomicFolder.begin(reportDir, true, false)) {
                contactSheet(borderline.subList(0, Math.min(SHEET_PAIRS, borderline.size())), all, rule, f.resolve("borderline.png"));
                f.writeString("dedup.json", json(res, data, against, rule, borderline.size()));
                f.commit();
            }
            return res;
        } finally {
            open.forEach(CaptionDataset::close);
        }
    }

    private static List<Image> decode(CaptionDataset ds, PrintStream log) {
        List<Image> out = new ArrayList<>();
        try (ProgressBar bar = new ProgressBar("hash " + ds.source().getFileName(), ds.size(), log)) {
            for (CaptionDataset.Row r : ds.rows()) {
                BufferedImage img = Images.decode(ds.readImage(r.image()), ds.source() + ":" + r.image());
                out.add(new Image(ds, r, img, ExactKeys.pixels(img), PerceptualHash.of(img)));
                bar.step();
            }
        }
        return out;
    }

    private static float[] embed(LitModel tower, CaptionDataset ds, List<Image> images, PrintStream log) {
        try (ProgressBar bar = new ProgressBar("embed " + ds.source().getFileName(), images.size(), log)) {
            return Evaluator.embed(tower, ds, images.stream().map(Image::row).toList(), bar);
        }
    }

    private static String json(Result r, Path data, List<Path> against, DedupRule rule, int borderline) {
        JsonObject o = new JsonObject();
        o.addProperty("data", data.toString());
        JsonArray a = new JsonArray();
        against.forEach(p -> a.add(p.toString()));
        o.add("against", a);
        o.addProperty("max_hamming", rule.maxHamming());
        o.addProperty("cosine", rule.cosine());
        o.addProperty("eval_cosine", rule.evalCosine());
        o.addProperty("rows", r.rows());
        o.addProperty("kept", r.kept());
        o.addProperty("exact_pixels", r.exactPixels());
        o.addProperty("near_in_set", r.nearInSet());
        o.addProperty("exact_against_eval", r.exactAgainstEval());
        o.addProperty("near_against_eval", r.nearAgainstEval());
        o.addProperty("repeated_captions_counted_not_removed", r.repeatedCaptions());
        o.addProperty("borderline_pairs", borderline);
        JsonArray d = new JsonArray();
        for (Dropped x : r.dropped()) {
            JsonObject j = new JsonObject();
            j.addProperty("row", x.row());
            j.addProperty("image", x.image());
            j.addProperty("reason", x.reason());
            j.addProperty("duplicate_of", x.duplicateOf());
            j.addProperty("hamming", x.hamming());
            j.addProperty("cosine", x.cosine());
            d.add(j);
        }
        o.add("dropped", d);
        return new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
    }

    /** The borderline pairs side by side, 4× up-scaled, with their Hamming distance, cosine and verdict. */
    static void contactSheet(List<NearDuplicates.Pair> pairs, List<Image> all, DedupRule rule, Path png) {
        int cell = 112, cols = 3, rowsN = Math.max(1, (pairs.size() + cols - 1) / cols), pw = 2 * cell + 24, ph = cell + 44;
        BufferedImage sheet = new BufferedImage(cols * pw + 16, rowsN * ph + 56, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(String.format(Locale.ROOT, "Borderline pairs: Hamming <= %d, cosine within %.2f of %.2f (%.2f against evaluation sets)",
                rule.maxHamming(), BORDER, rule.cosine(), rule.evalCosine()), 8, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        if (pairs.isEmpty()) {
            g.drawString("no pair came within the border of the threshold", 8, 44);
        }
        for (int k = 0; k < pairs.size(); k++) {
            NearDuplicates.Pair p = pairs.get(k);
            int x = 8 + (k % cols) * pw, y = 36 + (k / cols) * ph;
            g.drawImage(all.get((int) p.a()).img(), x, y, cell, cell, null);
            g.drawImage(all.get((int) p.b()).img(), x + cell + 4, y, cell, cell, null);
            boolean dup = rule.confirmed(p.cosine(), p.againstEval());
            g.setColor(dup ? new Color(170, 0, 0) : new Color(0, 110, 0));
            g.drawString(String.format(Locale.ROOT, "%s  h=%d  cos=%.3f%s", dup ? "duplicate" : "kept", p.hamming(), p.cosine(),
                    p.againstEval() ? "  (vs eval)" : ""), x, y + cell + 16);
            g.setColor(Color.BLACK);
        }
        g.dispose();
        try {
            ImageIO.write(sheet, "png", png.toFile());
        } catch (IOException e) {
            throw new LitException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }
}
