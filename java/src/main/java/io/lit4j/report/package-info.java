/**
 * Reporting for people: a terminal {@link io.lit4j.report.ProgressBar}, text / Markdown
 * {@link io.lit4j.report.Table}s for the CLI, and PNG charts: {@link io.lit4j.report.LinePlot} for
 * training curves, {@link io.lit4j.report.BarPlot} for ablations and benchmarks,
 * {@link io.lit4j.report.ConfusionPlot} for zero-shot eval.
 *
 * <p>The charts are drawn by JFreeChart, headless, and written through {@link io.lit4j.io.Png} and
 * {@link io.lit4j.io.AtomicFile}, so the same chart gives the same bytes and a crash never leaves a
 * half-written PNG; {@code JFreeCharts} is the one place that knows how. A machine without any font
 * gets a {@link io.lit4j.LitException} that names the package to install.
 */
package io.lit4j.report;
