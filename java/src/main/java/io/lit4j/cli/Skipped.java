package io.lit4j.cli;

import io.lit4j.data.BadRows;

import java.io.PrintWriter;

/** Tells the user which images a command left out: a folder's undecodable files are skipped, not fatal. */
final class Skipped {
    private Skipped() {
    }

    static void report(PrintWriter err, String command, BadRows... reports) {
        BadRows all = new BadRows();
        for (BadRows r : reports) {
            all.addAll(r);
        }
        if (!all.isEmpty()) {
            err.println("lit4j " + command + ": skipped " + all.toString().replace("bad row", "image"));
            err.flush();
        }
    }
}
