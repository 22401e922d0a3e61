/**
 * The LiT paper's studies as runs lit4j repeats offline (issue 14): {@link io.lit4j.study.SetupsStudy}
 * (which towers to lock), {@link io.lit4j.study.LockRegimeStudy} (where locking wins),
 * {@link io.lit4j.study.SizeStudy} (image vs text tower size), {@link io.lit4j.study.DuplicatesStudy}
 * with the {@link io.lit4j.study.Deduplicator} it uses, and {@link io.lit4j.study.MultilingualStudy}.
 * Each study tunes its arms with the {@code train} layer's {@code Tuner}, evaluates them through the
 * public {@code LitModel}, and writes a table, a PNG and a JSON with its command
 * ({@link io.lit4j.study.StudyReport}).
 */
package io.lit4j.study;
