package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.LitException;
import io.lit4j.data.BadRows;
import io.lit4j.embed.ImageEmbedder;
import io.lit4j.io.AtomicFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Tells the user which images a command left out: a folder's undecodable files are skipped, not
 * fatal. The count and a few examples go to stderr; every skipped file is listed in the JSON output
 * and, for commands that write files, in {@code bad_files.txt} beside them.
 */
final class Skipped {
    /** A file left out and why. */
    record File(String image, String reason) {
    }

    private Skipped() {
    }

    static void report(Main.Common common, BadRows... reports) {
        BadRows all = new BadRows();
        for (BadRows r : reports) {
            all.addAll(r);
        }
        if (!all.isEmpty()) {
            common.note("skipped " + all.toString().replace("bad row", "image"));
        }
    }

    /** Every image of {@code inputs} that {@code r} did not embed, plus the undecodable kinds the listing found. */
    static List<File> list(ImageInputs inputs, ImageEmbedder.Result r) {
        Map<String, String> why = new HashMap<>();
        for (BadRows.Example e : r.skipped().examples()) {
            why.put(e.where(), e.reason().label() + (e.detail().isEmpty() ? "" : ": " + e.detail()));
        }
        boolean[] kept = new boolean[inputs.images().size()];
        for (int i : r.indices()) {
            kept[i] = true;
        }
        List<File> out = new ArrayList<>();
        for (BadRows.Example e : inputs.listing().examples()) {
            out.add(new File(e.where(), e.reason().label() + (e.detail().isEmpty() ? "" : ": " + e.detail())));
        }
        for (int i = 0; i < kept.length; i++) {
            if (!kept[i]) {
                ImageInputs.Image im = inputs.images().get(i);
                out.add(new File(im.shown(), why.getOrDefault(im.path().toString(), "could not be decoded")));
            }
        }
        return out;
    }

    static JsonArray json(List<File> files) {
        JsonArray a = new JsonArray();
        for (File f : files) {
            JsonObject o = new JsonObject();
            o.addProperty("image", f.image());
            o.addProperty("reason", f.reason());
            a.add(o);
        }
        return a;
    }

    /** Writes {@code file} (one "image<TAB>reason" line each) when something was skipped; returns whether it did. */
    static boolean write(Path file, List<File> files) {
        if (files.isEmpty()) {
            return false;
        }
        try {
            AtomicFile.writeString(file, files.stream().map(f -> f.image() + "\t" + f.reason()).collect(Collectors.joining("\n", "", "\n")));
        } catch (IOException e) {
            throw new LitException(file + ": cannot write the list of skipped images: " + e.getMessage(), e);
        }
        return true;
    }
}
