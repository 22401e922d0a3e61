/**
 * Reporting for people: a terminal {@link io.lit4j.report.ProgressBar}, PNG charts in matplotlib's
 * default look ({@link io.lit4j.report.LineChart} for training curves, {@link io.lit4j.report.BarChart}
 * for benchmarks and ablations, {@link io.lit4j.report.ConfusionMatrixChart} for classification eval)
 * and text / Markdown {@link io.lit4j.report.Table}s for the CLI.
 *
 * <p>Charts draw into a {@code BufferedImage} with Java2D and write it with ImageIO through
 * {@link io.lit4j.io.AtomicFile}, so they work headless and never leave a half-written PNG. Text uses
 * the logical font "SansSerif"; a machine without any font gets a {@link io.lit4j.LitException}
 * that names the package to install. Only the JDK is needed.
 */
package io.lit4j.report;
