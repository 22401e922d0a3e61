package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.data.BadRows;
import io.lit4j.data.CaptionDataset;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The images a command was given, as a user types them: files, folders (every image under them,
 * recursively, sorted), quoted globs ({@code 'shots/*.jpg'}, {@code 'data/**.png'}) and {@code -}
 * (one path per line on stdin). A file named on its own must decode; one found in a folder, a glob
 * or the stdin list that does not is skipped and reported, as {@code tune} does with bad rows.
 *
 * <p>Each image keeps the name tables show: its path relative to the folder when the command was
 * given one folder, else the path as given ({@code cats/a.png} and {@code dogs/a.png} stay apart).
 */
final class ImageInputs {
    /** One image: where it is, the name shown for it, and whether a bad file is skipped rather than fatal. */
    record Image(Path path, String shown, boolean skippable) {
    }

    private final List<Image> images;
    private final BadRows listing;

    private ImageInputs(List<Image> images, BadRows listing) {
        this.images = List.copyOf(images);
        this.listing = listing;
    }

    /** Resolves the arguments; {@code stdin} is read only when an argument is {@code -}. */
    static ImageInputs resolve(List<String> args, InputStream stdin) {
        List<Image> out = new ArrayList<>();
        BadRows listing = new BadRows();
        boolean oneFolder = args.size() == 1 && Files.isDirectory(Path.of(args.getFirst()));
        for (String a : args) {
            if (a.equals("-")) {
                for (String line : lines(stdin)) {
                    out.add(new Image(existing(line, "stdin"), line, true));
                }
                continue;
            }
            Path p = Path.of(a);
            if (Files.isDirectory(p)) {
                try (CaptionDataset ds = CaptionDataset.ofImagesOnly(p)) {
                    for (CaptionDataset.Row r : ds.rows()) {
                        Path f = p.resolve(r.image());
                        out.add(new Image(f, oneFolder ? r.image() : f.toString(), true));
                    }
                    listing.addAll(ds.badRows());
                }
            } else if (!Files.exists(p) && isGlob(a)) {
                List<Path> matched = glob(a);
                if (matched.isEmpty()) {
                    throw new LitException(a + ": no files match this pattern");
                }
                matched.forEach(f -> out.add(new Image(f, f.toString(), true)));
            } else {
                out.add(new Image(existing(a, null), a, false));
            }
        }
        if (out.isEmpty()) {
            throw new LitException("no images in " + String.join(" ", args) + (listing.isEmpty() ? "" : " (" + listing.summary() + ")"));
        }
        return new ImageInputs(out, listing);
    }

    List<Image> images() {
        return images;
    }

    List<Path> paths() {
        return images.stream().map(Image::path).toList();
    }

    /** Files the folders held that lit4j cannot decode at all (by extension), found while listing. */
    BadRows listing() {
        return listing;
    }

    private static Path existing(String name, String from) {
        Path p = Path.of(name);
        if (Files.isDirectory(p)) {
            throw new LitException(name + (from == null ? "" : " (from " + from + ")") + ": is a folder; give it as an argument of its own");
        }
        if (!Files.isRegularFile(p)) {
            throw new LitException(name + (from == null ? "" : " (from " + from + ")") + ": no such file");
        }
        return p;
    }

    private static List<String> lines(InputStream in) {
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            return r.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        } catch (UncheckedIOException e) {
            throw new LitException("cannot read the list of images on stdin: " + e.getCause().getMessage(), e);
        }
    }

    private static boolean isGlob(String s) {
        return s.chars().anyMatch(c -> "*?[{".indexOf(c) >= 0);
    }

    /**
     * The files under the pattern's fixed leading folders that match it, sorted, named as the
     * pattern names them ('shots/*.jpg' gives 'shots/a.jpg'; '*.jpg' gives 'a.jpg').
     */
    private static List<Path> glob(String pattern) {
        String norm = pattern.replace('\\', '/');
        int firstMeta = 0;
        while (firstMeta < norm.length() && !isGlob(String.valueOf(norm.charAt(firstMeta)))) {
            firstMeta++;
        }
        int cut = norm.lastIndexOf('/', firstMeta);
        Path root = cut < 0 ? Path.of(".") : Path.of(norm.substring(0, cut + 1));
        String rest = norm.substring(cut + 1);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + rest);
        // only as deep as the pattern reaches: 'shots/*.jpg' must not walk the whole tree under shots/
        int depth = rest.contains("**") ? Integer.MAX_VALUE : (int) rest.chars().filter(c -> c == '/').count() + 1;
        try (Stream<Path> all = Files.walk(root, depth)) {
            return all.filter(Files::isRegularFile)
                    .filter(f -> m.matches(root.relativize(f)))
                    .map(f -> cut < 0 ? root.relativize(f) : f)
                    .sorted()
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw new LitException(pattern + ": cannot list the files it matches: " + e.getMessage(), e);
        }
    }
}
