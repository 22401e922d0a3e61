package io.lit4j.report;

import io.lit4j.LitException;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.geom.Line2D;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Grouped bars with the value written on each, for ablations and benchmarks: one group per
 * category (a LiT setup, a workload), one bar per series, a legend naming the series and any
 * reference line (chance level, the baseline's 1×), and a label on both axes.
 *
 * <pre>{@code
 * new BarPlot("LiT setups", "setup", "zero-shot top-1", List.of("Lu", "Uu", "uu"))
 *         .subtitle("L: pretrained, locked  U: pretrained, tuned  u: random init, tuned")
 *         .series("top-1 on fashion-test", 0.62, 0.55, 0.21)
 *         .line("chance (1 of 10 classes)", 0.1)
 *         .save(Path.of("ablation.png"));
 * }</pre>
 *
 * <p>A NaN value (not measured) leaves a gap. Bars stand upright while the category names are
 * short, and lie flat when they are long. Not thread-safe.
 */
public final class BarPlot {
    /** Longest category name (in characters) under upright bars. */
    private static final int UPRIGHT_NAME_LIMIT = 14;

    private final String title;
    private final String categoryLabel;
    private final String valueLabel;
    private final List<String> categories;
    private final DefaultCategoryDataset data = new DefaultCategoryDataset();
    private final List<String> series = new ArrayList<>();
    private final List<String> lineNames = new ArrayList<>();
    private final List<Double> lineValues = new ArrayList<>();
    private String subtitle = "";

    public BarPlot(String title, String categoryLabel, String valueLabel, List<String> categories) {
        this.title = JFreeCharts.clean(title);
        this.categoryLabel = JFreeCharts.clean(categoryLabel);
        this.valueLabel = JFreeCharts.clean(valueLabel);
        this.categories = categories.stream().map(JFreeCharts::clean).toList();
        if (this.categories.isEmpty() || this.categories.stream().distinct().count() != this.categories.size()) {
            throw new LitException("bar chart '" + this.title + "': the categories must be distinct and at least one, not "
                    + this.categories);
        }
    }

    /** Adds a series: one value per category, in order; NaN marks one not measured. */
    public BarPlot series(String name, double... values) {
        String s = JFreeCharts.clean(name);
        if (series.contains(s)) {
            throw new LitException("bar chart '" + title + "': series '" + s + "' was already added");
        }
        if (values.length != categories.size()) {
            throw new LitException("bar chart '" + title + "': series '" + s + "' has " + values.length
                    + " values for " + categories.size() + " categories");
        }
        series.add(s);
        for (int i = 0; i < values.length; i++) {
            data.addValue(Double.isFinite(values[i]) ? values[i] : null, s, categories.get(i));
        }
        return this;
    }

    /** A line of text under the title, e.g. what the category names mean. */
    public BarPlot subtitle(String text) {
        this.subtitle = JFreeCharts.clean(text);
        return this;
    }

    /** Adds a dashed reference line across the bars at {@code value}, named in the legend. */
    public BarPlot line(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new LitException("bar chart '" + title + "': line '" + name + "' needs a finite value, not " + value);
        }
        lineNames.add(JFreeCharts.clean(name));
        lineValues.add(value);
        return this;
    }

    boolean upright() {
        return categories.stream().mapToInt(String::length).max().orElse(0) <= UPRIGHT_NAME_LIMIT
                && categories.size() * Math.max(1, series.size()) <= 40;
    }

    int width() {
        return upright() ? Math.clamp(260 + categories.size() * (Math.max(1, series.size()) * 48L + 40), 720, 2400) : 1000;
    }

    int height() {
        return upright() ? 600 : Math.clamp(220 + categories.size() * (Math.max(1, series.size()) * 24L + 24), 420, 4000);
    }

    public void save(Path png) {
        JFreeCharts.save(chart(), png, width(), height());
    }

    /** The values as JFreeChart gets them: rows are the series, columns the categories. */
    DefaultCategoryDataset dataset() {
        return data;
    }

    JFreeChart chart() {
        CategoryAxis x = new CategoryAxis(categoryLabel);
        x.setCategoryMargin(0.25);
        NumberAxis y = new NumberAxis(valueLabel);
        double max = 0;
        double min = 0;
        for (Object row : data.getRowKeys()) {
            for (Object col : data.getColumnKeys()) {
                Number v = data.getValue((Comparable<?>) row, (Comparable<?>) col);
                if (v != null) {
                    max = Math.max(max, v.doubleValue());
                    min = Math.min(min, v.doubleValue());
                }
            }
        }
        for (double v : lineValues) {
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        double span = max - min == 0 ? 1 : max - min;
        y.setRange(min < 0 ? min - 0.12 * span : 0, max > 0 ? max + 0.12 * span : 0);   // room for the value labels
        BarRenderer r = new BarRenderer();
        r.setItemMargin(0.05);
        r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("#,##0.###")));
        r.setDefaultItemLabelsVisible(true);
        CategoryPlot plot = new CategoryPlot(data, x, y, r);
        plot.setOrientation(upright() ? PlotOrientation.VERTICAL : PlotOrientation.HORIZONTAL);
        if (!upright()) {
            x.setMaximumCategoryLabelWidthRatio(0.4f);
            plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_RIGHT);
            r.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));
            r.setDefaultNegativeItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE9, TextAnchor.CENTER_RIGHT));
        } else if (categories.size() > 6) {
            x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        }
        JFreeChart chart = JFreeCharts.styled(new JFreeChart(title, JFreeCharts.font(18, false), plot, true));
        if (!subtitle.isEmpty()) {
            chart.addSubtitle(JFreeCharts.subtitle(subtitle));
        }
        plot.setDomainGridlinesVisible(false);
        r.setDefaultItemLabelFont(JFreeCharts.font(12, false));
        for (int i = 0; i < series.size(); i++) {
            r.setSeriesPaint(i, JFreeCharts.color(i));
        }
        LegendItemCollection bars = plot.getLegendItems();
        LegendItemCollection legend = new LegendItemCollection();
        for (int i = 0; i < bars.getItemCount(); i++) {
            legend.add(bars.get(i));
        }
        for (int i = 0; i < lineValues.size(); i++) {
            Color c = i == 0 ? new Color(0xd62728) : JFreeCharts.MUTED;
            BasicStroke dashed = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f);
            ValueMarker m = new ValueMarker(lineValues.get(i), c, dashed);
            plot.addRangeMarker(m);
            LegendItem item = new LegendItem(lineNames.get(i), null, null, null, new Line2D.Double(-9, 0, 9, 0), dashed, c);
            legend.add(item);
        }
        plot.setFixedLegendItems(legend);
        chart.getLegend().setPosition(RectangleEdge.BOTTOM);
        chart.getLegend().setFrame(BlockBorder.NONE);
        return chart;
    }
}
