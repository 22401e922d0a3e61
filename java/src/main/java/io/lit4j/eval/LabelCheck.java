package io.lit4j.eval;

import io.lit4j.data.TextTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Warnings about class names a model cannot read well, said before their scores are trusted: a
 * name made mostly of tokens its vocabulary does not know ("靴" and "обувь" both become [UNK] for an
 * English WordPiece vocabulary, so they get identical scores), or prompts cut at the context length.
 */
public final class LabelCheck {
    /** The unknown-token spellings of the vocabularies lit4j reads (WordPiece, SentencePiece, BPE). */
    private static final List<String> UNKNOWN = List.of("[UNK]", "<unk>", "<UNK>");

    private LabelCheck() {
    }

    /**
     * One line per problem, naming the class: unknown tokens (at least half of a name's tokens) and
     * prompts longer than {@code contextLength} tokens under {@code policy}.
     */
    public static List<String> warnings(TextTokenizer tok, int contextLength, TextTokenizer.Policy policy,
                                        List<ZeroShotClassifier.Label> labels, List<String> templates) {
        List<Integer> unknown = UNKNOWN.stream().filter(tok::has).map(tok::id).toList();
        List<String> out = new ArrayList<>();
        for (ZeroShotClassifier.Label label : labels) {
            for (String alias : label.aliases()) {
                int[] ids = tok.ids(alias);
                long unk = Arrays.stream(ids).filter(unknown::contains).count();
                if (ids.length == 0 || (unk > 0 && unk * 2 >= ids.length)) {
                    out.add("label '" + alias + "': " + (ids.length == 0 ? "no tokens" : unk + " of its " + ids.length + " tokens")
                            + " unknown to the model's tokenizer (" + tok.path().getFileName() + "); its score says little");
                }
                List<String> prompts = templates.stream().map(t -> Templates.fill(t, alias)).toList();
                boolean[] cut = tok.encodeChecked(prompts, contextLength, policy).tooLong();
                int n = 0;
                for (boolean c : cut) {
                    n += c ? 1 : 0;
                }
                if (n > 0) {
                    out.add("label '" + alias + "': " + n + " of its " + prompts.size() + " prompts are longer than the model's "
                            + contextLength + "-token context and are cut");
                }
            }
        }
        return out;
    }
}
