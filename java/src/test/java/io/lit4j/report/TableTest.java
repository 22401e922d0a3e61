package io.lit4j.report;

import io.lit4j.LitException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TableTest {
    static Table bench() {
        return new Table("model", "batch", "images/s", "note")
                .row("ViT-B/16", 32, 812.3456, "fp32")
                .row("ViT-L/16", 256, 0.1 + 0.2, null)
                .row("ViT-H/14", 1024, 12_345.67, "bf16, fused");
    }

    @Test
    void numbersGoRightTextLeft() {
        assertEquals("""
                model     batch  images/s  note
                --------  -----  --------  -----------
                ViT-B/16     32     812.3  fp32
                ViT-L/16    256       0.3
                ViT-H/14   1024     12346  bf16, fused
                """, bench().toText());
    }

    @Test
    void longCellsAreElidedInTextButKeptInMarkdown() {
        String name = "a very long class name that goes on and on past any sensible column width";
        Table t = new Table("label", "p").row(name, 0.5);
        String line = t.toText().lines().toList().get(2);
        assertEquals(name.substring(0, Table.MAX_TEXT_CELL - 1) + "…  0.5", line);
        assertTrue(t.toMarkdown().contains(name));
    }

    @Test
    void boxedText() {
        assertEquals("""
                +----------+-------+----------+-------------+
                | model    | batch | images/s | note        |
                +----------+-------+----------+-------------+
                | ViT-B/16 |    32 |    812.3 | fp32        |
                | ViT-L/16 |   256 |      0.3 |             |
                | ViT-H/14 |  1024 |    12346 | bf16, fused |
                +----------+-------+----------+-------------+
                """, bench().toBoxedText());
    }

    @Test
    void markdownEscapesPipesAndBackslashes() {
        Table t = new Table("query", "top-1", "path")
                .row("a | b", "87.3%", "C:\\data")
                .row("two\nlines", "n/a", "x");
        assertEquals("""
                | query        | top-1 | path     |
                | ------------ | ----: | -------- |
                | a \\| b       | 87.3% | C:\\\\data |
                | two<br>lines |   n/a | x        |
                """, t.toMarkdown());
    }

    @Test
    void numericStringsAndOverrides() {
        Table t = new Table("k", "v", "c").row("a", "1,024", "x").row("b", "-3.5e2", "y")
                .align(0, Table.Align.RIGHT).align(2, Table.Align.CENTER).format(1, "%.1f");
        assertEquals("""
                k       v  c
                -  ------  -
                a   1,024  x
                b  -3.5e2  y
                """, t.toText());
        Table f = new Table("x", "y").row(1, 2.0).row(3, 15.0).format(0, "%.2f").format(1, "%d");
        assertEquals("""
                   x   y
                ----  --
                1.00   2
                3.00  15
                """, f.toText());
        Table bad = new Table("y").row(0.5).format(0, "%d");
        assertThrows(LitException.class, bad::toText);
    }

    @Test
    void floatingPointDefaults() {
        assertEquals("0.3", Table.number(0.1 + 0.2));
        assertEquals("812.3", Table.number(812.3456));
        assertEquals("1234.6", Table.number(1234.56));
        assertEquals("12346", Table.number(12_345.67));
        assertEquals("1.000e-07", Table.number(1e-7));
        assertEquals("NaN", Table.number(Double.NaN));
        assertEquals("-inf", Table.number(Double.NEGATIVE_INFINITY));
        assertEquals("2", Table.number(2.0));
    }

    @Test
    void wideCharactersCountDouble() {
        Table t = new Table("名前", "n").row("猫", 1).row("cat", 22);
        assertEquals("""
                名前   n
                ----  --
                猫     1
                cat   22
                """, t.toText());
    }

    @Test
    void rejectsBadInput() {
        Table t = new Table("a", "b");
        assertThrows(LitException.class, () -> t.row(1));
        assertThrows(LitException.class, () -> t.align(2, Table.Align.LEFT));
        assertThrows(LitException.class, () -> t.format(0, "%q"));
        assertThrows(LitException.class, Table::new);
        assertEquals(0, t.rowCount());
        assertEquals(2, t.columnCount());
    }
}
