package io.lit4j.study;

import io.lit4j.LitException;
import io.lit4j.data.TextTokenizer;
import io.lit4j.datasets.MultilingualCaptions;
import io.lit4j.datasets.ReferenceCaptions;
import io.lit4j.report.BarPlot;
import io.lit4j.report.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code lit4j study multilingual} (LiT §5.5): Lu tuned on English captions only and on captions
 * in six languages (each image captioned once, in a language drawn uniformly), with one
 * multilingual SentencePiece tokenizer for both, then zero-shot per evaluation language with that
 * language's class names and templates ({@link MultilingualCaptions}).
 */
public final class MultilingualStudy {
    /** Where the committed tokenizer lies, from the repository root. */
    public static final Path TOKENIZER = Path.of("models", "studies", "tokenizer", "lit4j-6lang.model");

    /**
     * Tokens of the text tower: 24, not the recipe's 16, because the SentencePiece pieces of the
     * longer captions (English included) run past 16 and such rows would be skipped.
     */
    static final int CONTEXT = 24;

    private MultilingualStudy() {
    }

    /** The reference multilingual training pairs (Fashion-MNIST train, one caption per image in a language drawn uniformly). */
    static Path allLanguages(StudyContext c) {
        int n = c.options().quick() ? StudyContext.QUICK_TRAIN : 0;
        return StudyData.fashion(c.work().resolve("data").resolve("fashion-6lang-train" + (n > 0 ? "-" + n : "")), c.fashionTrain(),
                StudyData.subset(c.fashionTrain().size(), n, 0),
                (label, i) -> MultilingualCaptions.caption(MultilingualCaptions.ALL, label, 0, i), 0, 0, 0, c.log());
    }

    /**
     * Writes the tokenizer's training text: every caption of the six-language training pairs and
     * every language's class names in its templates (what {@code make-tokenizer.sh} feeds {@code spm_train}).
     */
    public static void writeCorpus(StudyContext c, Path file) {
        Set<String> lines = new LinkedHashSet<>();
        for (long seed = 0; seed < 3; seed++) {
            for (int i = 0; i < c.fashionTrain().size(); i++) {
                lines.add(MultilingualCaptions.caption(MultilingualCaptions.ALL, c.fashionTrain().label(i), seed, i));
                lines.add(ReferenceCaptions.caption(c.fashionTrain().label(i), seed, i));
            }
        }
        for (MultilingualCaptions.Language l : MultilingualCaptions.ALL) {
            for (String t : l.templates()) {
                for (List<String> names : l.names()) {
                    names.forEach(n -> lines.add(t.replace("{}", n)));
                }
            }
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, new ArrayList<>(lines));
        } catch (IOException e) {
            throw new LitException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public static StudyReport run(StudyContext c, Path tokenizer, Path allData) {
        if (!Files.isRegularFile(tokenizer)) {
            throw new LitException("tokenizer " + tokenizer + " not found: run from the repository root, or pass --tokenizer FILE "
                    + "(models/studies/tokenizer/make-tokenizer.sh makes one)");
        }
        if (c.options().data() != null && allData == null) {
            throw new LitException("--data gives the English-only pairs; give the multilingual pairs too with --all-languages-data DIR");
        }
        int vocab;
        try (TextTokenizer tok = TextTokenizer.load(tokenizer)) {
            vocab = tok.vocabSize();
        }
        StudyReport report = new StudyReport("multilingual", c.options());
        Path english = c.trainData();
        Path all = allData != null ? allData : allLanguages(c);
        List<EvalSet> evals = new ArrayList<>();
        for (MultilingualCaptions.Language l : MultilingualCaptions.ALL) {
            evals.add(EvalSet.fashion(l.code(), c.evalData(), l.canonical(), l.templates(), false));
        }
        long seed = c.options().seeds().getFirst();
        String text = c.options().textTower() != null ? c.options().textTower() : c.textTower(c.options().quick() ? 16 : 96, vocab, CONTEXT);
        String[] arms = {"English only", "six languages"};
        Path[] sets = {english, all};
        List<ArmResult> rs = new ArrayList<>();
        int steps = c.options().quick() ? 3 : c.options().stepsFor(StudyContext.rows(english));
        for (int i = 0; i < arms.length; i++) {
            rs.add(c.tune(report, arms[i], c.arm("multilingual", arms[i], seed, sets[i]).setup("Lu").textTower(text).tokenizer(tokenizer.toString())
                    .steps(steps).warmup(steps / 10).build(), evals));
        }
        List<String> codes = MultilingualCaptions.ALL.stream().map(MultilingualCaptions.Language::code).toList();
        List<String> headers = new ArrayList<>(List.of("tuned on"));
        MultilingualCaptions.ALL.forEach(l -> headers.add(l.code() + " top-1"));
        headers.add("mean non-English");
        Table t = new Table(headers.toArray(String[]::new));
        double[][] v = new double[arms.length][codes.size()];
        for (int i = 0; i < arms.length; i++) {
            List<Object> row = new ArrayList<>(List.of(arms[i]));
            double sum = 0;
            for (int k = 0; k < codes.size(); k++) {
                v[i][k] = rs.get(i).metric(codes.get(k) + "_top1");
                row.add(SetupsStudy.f(v[i][k]));
                sum += k == 0 ? 0 : v[i][k];
            }
            row.add(SetupsStudy.f(sum / (codes.size() - 1)));
            t.row(row.toArray());
        }
        report.table(t);
        StringBuilder gains = new StringBuilder();
        for (int k = 0; k < codes.size(); k++) {
            gains.append(k == 0 ? "" : ", ").append(codes.get(k)).append(String.format(Locale.ROOT, " %+.3f", v[1][k] - v[0][k]));
        }
        report.finding("six languages minus English only, zero-shot top-1 per evaluation language: " + gains);
        report.note("one SentencePiece unigram tokenizer (" + vocab + " pieces, " + tokenizer.getFileName() + ") and a " + CONTEXT
                + "-token text tower for both arms; each arm "
                + steps + " steps; evaluation: each language's own class names and templates on the same test images");
        report.chart("multilingual.png", png -> new BarPlot("Multilingual LiT (Lu): zero-shot top-1 per evaluation language",
                "evaluation language (class names and templates in that language)", "zero-shot top-1 on "
                + (c.reference() ? "Fashion-MNIST test" : c.evalData().toString()), codes)
                .subtitle("en English, de German, es Spanish, ru Russian, zh Chinese, ja Japanese")
                .series("tuned on English captions only", v[0]).series("tuned on captions in all six languages", v[1])
                .line("chance (1 of 10 classes)", 0.1).save(png));
        return report;
    }
}
