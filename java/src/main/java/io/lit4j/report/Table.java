package io.lit4j.report;

import io.lit4j.LitException;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IllegalFormatConversionException;
import java.util.IllegalFormatException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A text table for the CLI, printed as aligned columns ({@link #toText()}), an ASCII box
 * ({@link #toBoxedText()}) or GitHub Markdown ({@link #toMarkdown()}).
 *
 * <p>Columns holding only numbers (Java numbers, or strings such as "12.5", "1,024", "87.3%") are
 * right-aligned, the rest left-aligned, unless {@link #align(int, Align)} says otherwise.
 * Floating-point cells show four significant digits unless the column has a
 * {@link #format(int, String)}. {@code null} prints as an empty cell. Not thread-safe.
 *
 * <pre>{@code
 * Table t = new Table("model", "batch", "images/s");
 * t.row("ViT-B/16", 32, 812.3).row("ViT-L/16", 32, 231.04);
 * System.out.print(t.toText());
 * }</pre>
 */
public final class Table {
    public enum Align { LEFT, RIGHT, CENTER }

    private static final Pattern NUMERIC =
            Pattern.compile("[-+−]?(\\d[\\d,_]*(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?\\s?%?|[-+]?(inf|Infinity)");
    private static final Pattern NEUTRAL = Pattern.compile("|-|—|–|n/a|N/A|NaN|nan|\\?");

    private final List<String> headers;
    private final List<Object[]> rows = new ArrayList<>();
    private final Align[] align;
    private final String[] formats;

    public Table(String... headers) {
        if (headers == null || headers.length == 0) {
            throw new LitException("table: needs at least one column header");
        }
        this.headers = new ArrayList<>();
        for (String h : headers) {
            this.headers.add(h == null ? "" : h);
        }
        this.align = new Align[headers.length];
        this.formats = new String[headers.length];
    }

    /** Adds a row with one cell per column. */
    public Table row(Object... cells) {
        if (cells == null) {
            cells = new Object[] {null};
        }
        if (cells.length != headers.size()) {
            throw new LitException("table: row " + (rows.size() + 1) + " has " + cells.length
                    + " cells but the table has " + headers.size() + " columns " + headers);
        }
        rows.add(cells.clone());
        return this;
    }

    /** Forces the alignment of a column (0-based); otherwise numbers go right, text left. */
    public Table align(int column, Align a) {
        checkColumn(column);
        align[column] = a;
        return this;
    }

    /** A {@link String#format} pattern for the numbers in a column, e.g. "%.2f" or "%,d". */
    public Table format(int column, String pattern) {
        checkColumn(column);
        if (pattern != null) {
            try {
                String.format(Locale.ROOT, pattern, 1.0);
            } catch (IllegalFormatException e) {
                try {
                    String.format(Locale.ROOT, pattern, 1L);
                } catch (IllegalFormatException e2) {
                    throw new LitException("table: bad format \"" + pattern + "\" for column " + column + " ('"
                            + headers.get(column) + "'): " + e.getMessage(), e);
                }
            }
        }
        formats[column] = pattern;
        return this;
    }

    public int rowCount() {
        return rows.size();
    }

    public int columnCount() {
        return headers.size();
    }

    private void checkColumn(int column) {
        if (column < 0 || column >= headers.size()) {
            throw new LitException("table: column " + column + " does not exist; the table has "
                    + headers.size() + " columns " + headers);
        }
    }

    // ------------------------------------------------------------------ cells

    private String cell(Object v, int column) {
        if (v == null) {
            return "";
        }
        String s;
        if (v instanceof Number num && formats[column] != null) {
            try {
                s = formatNumber(formats[column], num);
            } catch (IllegalFormatException e) {
                throw new LitException("table: format \"" + formats[column] + "\" of column " + column + " ('"
                        + headers.get(column) + "') does not fit the value " + v + " (" + v.getClass().getSimpleName()
                        + "): " + e.getMessage(), e);
            }
        } else if (v instanceof Double || v instanceof Float) {
            s = number(((Number) v).doubleValue());
        } else if (v instanceof BigDecimal b) {
            s = b.toPlainString();
        } else {
            s = String.valueOf(v);
        }
        return s.replace("\r\n", "\n").replace('\r', '\n').replace('\t', ' ');
    }

    /** Formats with the pattern, converting between integer and floating types when it asks for the other. */
    private static String formatNumber(String pattern, Number num) {
        try {
            return String.format(Locale.ROOT, pattern, num);
        } catch (IllegalFormatConversionException e) {
            boolean floating = num instanceof Double || num instanceof Float || num instanceof BigDecimal;
            if (floating && num.doubleValue() == Math.rint(num.doubleValue())
                    && Math.abs(num.doubleValue()) < 0x1p62) {
                return String.format(Locale.ROOT, pattern, (long) num.doubleValue());
            }
            if (!floating) {
                return String.format(Locale.ROOT, pattern, num.doubleValue());
            }
            throw e;
        }
    }

    /** Four significant digits, whole numbers kept whole, scientific notation only when tiny or huge. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v == 0) {
            return "0";
        }
        double a = Math.abs(v);
        if (a < 1e-4 || a >= 1e15) {
            return String.format(Locale.ROOT, "%.3e", v);
        }
        if (a >= 1000) {
            return new BigDecimal(v).setScale(a >= 10_000 ? 0 : 1, RoundingMode.HALF_EVEN).stripTrailingZeros()
                    .toPlainString();
        }
        return new BigDecimal(v).round(new MathContext(4, RoundingMode.HALF_EVEN)).stripTrailingZeros()
                .toPlainString();
    }

    private static boolean isNumber(Object v, String text) {
        if (v instanceof Number) {
            return true;
        }
        return NUMERIC.matcher(text.strip()).matches();
    }

    private static boolean isNeutral(Object v, String text) {
        return v == null || NEUTRAL.matcher(text.strip()).matches();
    }

    private String[][] cells() {
        String[][] out = new String[rows.size()][headers.size()];
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < headers.size(); c++) {
                out[r][c] = cell(rows.get(r)[c], c);
            }
        }
        return out;
    }

    private Align[] alignments(String[][] cells) {
        Align[] out = new Align[headers.size()];
        for (int c = 0; c < headers.size(); c++) {
            if (align[c] != null) {
                out[c] = align[c];
                continue;
            }
            boolean anyNumber = false;
            boolean allNumbers = true;
            for (int r = 0; r < rows.size(); r++) {
                Object v = rows.get(r)[c];
                String t = cells[r][c];
                if (v instanceof Number || !isNeutral(v, t)) {
                    if (isNumber(v, t)) {
                        anyNumber = true;
                    } else {
                        allNumbers = false;
                    }
                }
            }
            out[c] = anyNumber && allNumbers ? Align.RIGHT : Align.LEFT;
        }
        return out;
    }

    // ------------------------------------------------------------------ output

    /** Widest cell {@link #toText()} prints; longer ones (a long class name, a deep path) end in "…". */
    public static final int MAX_TEXT_CELL = 48;

    /**
     * Columns separated by two spaces, the header underlined with dashes; ends with a newline.
     * Cells wider than {@link #MAX_TEXT_CELL} are elided (Markdown keeps them whole).
     */
    public String toText() {
        String[][] raw = cells();
        Align[] al = alignments(raw);
        String[][] cells = flatten(raw);
        for (String[] row : cells) {
            for (int c = 0; c < row.length; c++) {
                if (row[c].codePointCount(0, row[c].length()) > MAX_TEXT_CELL) {
                    row[c] = row[c].substring(0, row[c].offsetByCodePoints(0, MAX_TEXT_CELL - 1)) + "…";
                }
            }
        }
        int[] w = widths(cells);
        StringBuilder sb = new StringBuilder();
        line(sb, headers.stream().map(Table::flat).toList(), w, al, "", "  ", "");
        List<String> rule = new ArrayList<>();
        for (int width : w) {
            rule.add("-".repeat(width));
        }
        line(sb, rule, w, al, "", "  ", "");
        for (String[] row : cells) {
            line(sb, Arrays.asList(row), w, al, "", "  ", "");
        }
        return sb.toString();
    }

    /** An ASCII box: {@code +---+} borders, {@code |} between columns; ends with a newline. */
    public String toBoxedText() {
        String[][] raw = cells();
        Align[] al = alignments(raw);
        String[][] cells = flatten(raw);
        int[] w = widths(cells);
        StringBuilder border = new StringBuilder("+");
        for (int width : w) {
            border.append("-".repeat(width + 2)).append('+');
        }
        border.append('\n');
        StringBuilder sb = new StringBuilder(border);
        line(sb, headers.stream().map(Table::flat).toList(), w, al, "| ", " | ", " |");
        sb.append(border);
        for (String[] row : cells) {
            line(sb, Arrays.asList(row), w, al, "| ", " | ", " |");
        }
        if (!rows.isEmpty()) {
            sb.append(border);
        }
        return sb.toString();
    }

    /**
     * GitHub-flavoured Markdown with alignment colons; {@code |} and {@code \} are escaped and line
     * breaks become {@code <br>}. Columns are padded so the source reads as a table too.
     */
    public String toMarkdown() {
        String[][] raw = cells();
        Align[] al = alignments(raw);
        String[][] cells = new String[raw.length][];
        for (int r = 0; r < raw.length; r++) {
            cells[r] = new String[raw[r].length];
            for (int c = 0; c < raw[r].length; c++) {
                cells[r][c] = markdown(raw[r][c]);
            }
        }
        List<String> head = headers.stream().map(Table::markdown).toList();
        int[] w = new int[headers.size()];
        for (int c = 0; c < w.length; c++) {
            w[c] = Math.max(3, displayWidth(head.get(c)));
            for (String[] row : cells) {
                w[c] = Math.max(w[c], displayWidth(row[c]));
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, head, w, al, "| ", " | ", " |");
        sb.append('|');
        for (int c = 0; c < w.length; c++) {
            String dashes = "-".repeat(w[c]);
            sb.append(' ').append(switch (al[c]) {
                case LEFT -> dashes;
                case RIGHT -> dashes.substring(1) + ":";
                case CENTER -> ":" + dashes.substring(2) + ":";
            }).append(" |");
        }
        sb.append('\n');
        for (String[] row : cells) {
            line(sb, Arrays.asList(row), w, al, "| ", " | ", " |");
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return toText();
    }

    private static String markdown(String s) {
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>");
    }

    private static String flat(String s) {
        return s.replace('\n', ' ');
    }

    private static String[][] flatten(String[][] cells) {
        for (String[] row : cells) {
            for (int c = 0; c < row.length; c++) {
                row[c] = flat(row[c]);
            }
        }
        return cells;
    }

    private int[] widths(String[][] cells) {
        int[] w = new int[headers.size()];
        for (int c = 0; c < w.length; c++) {
            w[c] = displayWidth(flat(headers.get(c)));
            for (String[] row : cells) {
                w[c] = Math.max(w[c], displayWidth(row[c]));
            }
        }
        return w;
    }

    private static void line(StringBuilder sb, List<String> cells, int[] w, Align[] al, String open, String sep,
                             String close) {
        StringBuilder ln = new StringBuilder(open);
        for (int c = 0; c < w.length; c++) {
            if (c > 0) {
                ln.append(sep);
            }
            String s = cells.get(c);
            int gap = w[c] - displayWidth(s);
            switch (al[c]) {
                case LEFT -> ln.append(s).append(" ".repeat(gap));
                case RIGHT -> ln.append(" ".repeat(gap)).append(s);
                case CENTER -> ln.append(" ".repeat(gap / 2)).append(s).append(" ".repeat(gap - gap / 2));
            }
        }
        ln.append(close);
        // no trailing blanks in the spaced layout
        int end = ln.length();
        while (close.isEmpty() && end > 0 && ln.charAt(end - 1) == ' ') {
            end--;
        }
        sb.append(ln, 0, end).append('\n');
    }

    /** Terminal columns: East Asian wide characters and most emoji take two, combining marks none. */
    static int displayWidth(String s) {
        int w = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            int type = Character.getType(cp);
            if (type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK
                    || type == Character.FORMAT || cp == 0x200B) {
                continue;
            }
            w += wide(cp) ? 2 : 1;
        }
        return w;
    }

    private static boolean wide(int cp) {
        return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF)
                || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF)
                || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F)
                || (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6)
                || (cp >= 0x1F300 && cp <= 0x1F64F) || (cp >= 0x1F900 && cp <= 0x1F9FF)
                || (cp >= 0x20000 && cp <= 0x3FFFD);
    }
}
