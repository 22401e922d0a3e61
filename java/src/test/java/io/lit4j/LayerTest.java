package io.lit4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packages are layers (the table in {@code io/lit4j/package-info.java}): no class may use one
 * of a layer above its own. Checked twice: on the compiled classes' constant pools (every class
 * and descriptor a class refers to, read with the JDK's class-file API) and on the sources'
 * imports (which also see the constants javac inlines). A check that is never shown failing
 * proves nothing, so {@link #anUpwardReferenceIsCaught} feeds the checker one on purpose.
 */
class LayerTest {
    static final Path CLASSES = Path.of("target/classes/io/lit4j");
    static final Path SOURCES = Path.of("src/main/java/io/lit4j");
    static final Pattern DESCRIPTOR = Pattern.compile("L(io/lit4j/[\\w/$]+);");
    static final Pattern IMPORT = Pattern.compile("^import\\s+(static\\s+)?(io\\.lit4j\\.[\\w.]+?)(\\.\\*)?\\s*;", Pattern.MULTILINE);

    /** The layer table: entry ("cli", "backend.Backends", "LitModel") to its layer, 0 at the top. */
    record Layers(Map<String, Integer> entries, List<String> names) {
        static Layers read() throws IOException {
            String text = Files.readString(SOURCES.resolve("package-info.java"));
            Matcher pre = Pattern.compile("<pre>(.*?)</pre>", Pattern.DOTALL).matcher(text);
            assertTrue(pre.find(), "package-info.java has no <pre> layer table");
            Map<String, Integer> entries = new LinkedHashMap<>();
            List<String> names = new ArrayList<>();
            for (String line : pre.group(1).split("\n")) {
                String row = line.replaceFirst("^\\s*\\*", "").strip();
                if (row.isEmpty()) {
                    continue;
                }
                String list = row.split("\\s{2,}", 2)[0];
                for (String entry : list.split(",")) {
                    Integer before = entries.put(entry.strip(), names.size());
                    assertEquals(null, before, "'" + entry.strip() + "' appears twice in the layer table");
                }
                names.add(list);
            }
            return new Layers(entries, names);
        }

        /** The layer of a top-level class ("io.lit4j.model.TwoTower"), or -1 when the table does not place it. */
        int of(String className) {
            String rel = className.substring("io.lit4j.".length());
            Integer own = entries.get(rel);
            if (own != null) {
                return own;
            }
            int dot = rel.lastIndexOf('.');
            Integer pkg = entries.get(dot < 0 ? "" : rel.substring(0, dot));
            return pkg == null ? -1 : pkg;
        }

        String name(int layer) {
            return names.get(layer);
        }
    }

    /** Every violation in {@code uses} (class to the classes it refers to), one line each. */
    static List<String> violations(Layers layers, Map<String, Set<String>> uses) {
        List<String> out = new ArrayList<>();
        uses.forEach((cls, refs) -> {
            int own = layers.of(cls);
            if (own < 0) {
                out.add(cls + " is in no layer: add its package to the table in io/lit4j/package-info.java");
                return;
            }
            for (String ref : refs) {
                int theirs = layers.of(ref);
                if (theirs >= 0 && theirs < own) {
                    out.add(cls + " (layer '" + layers.name(own) + "') uses " + ref + " (layer '" + layers.name(theirs) + "', above it)");
                }
            }
        });
        return out;
    }

    static String topLevel(String internalName) {
        String n = internalName.replace('/', '.');
        int dollar = n.indexOf('$');
        return dollar < 0 ? n : n.substring(0, dollar);
    }

    /** Main classes (top-level names) to the io.lit4j classes their bytecode refers to, bindings excluded. */
    static Map<String, Set<String>> bytecodeUses() throws IOException {
        assertTrue(Files.isDirectory(CLASSES), "compile first: no " + CLASSES);
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> s = Files.walk(CLASSES)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".class") && !p.getFileName().toString().equals("package-info.class")).toList()) {
                var model = ClassFile.of().parse(Files.readAllBytes(f));
                String self = topLevel(model.thisClass().asInternalName());
                Set<String> refs = uses.computeIfAbsent(self, k -> new TreeSet<>());
                for (PoolEntry e : model.constantPool()) {
                    if (e instanceof ClassEntry c && c.asInternalName().startsWith("io/lit4j/")) {
                        refs.add(topLevel(c.asInternalName()));
                    } else if (e instanceof Utf8Entry u) {
                        Matcher m = DESCRIPTOR.matcher(u.stringValue());
                        while (m.find()) {
                            refs.add(topLevel(m.group(1)));
                        }
                    }
                }
                refs.remove(self);
                refs.removeIf(r -> r.startsWith("io.lit4j.bindings."));
            }
        }
        return uses;
    }

    /** Main source files (as class names) to the io.lit4j classes they import (a wildcard import names its package). */
    static Map<String, Set<String>> sourceImports() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> s = Files.walk(SOURCES)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".java") && !p.getFileName().toString().equals("package-info.java")).toList()) {
                String rel = SOURCES.relativize(f).toString().replace('/', '.');
                String self = "io.lit4j." + rel.substring(0, rel.length() - ".java".length());
                Set<String> refs = uses.computeIfAbsent(self, k -> new TreeSet<>());
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    String name = m.group(2);
                    if (name.startsWith("io.lit4j.bindings.")) {
                        continue;
                    }
                    refs.add(m.group(3) != null ? name + ".Package" : classOf(name));
                }
            }
        }
        return uses;
    }

    /** "io.lit4j.tensor.DType.F32" (a static import) or "io.lit4j.datasets.Scenes.Item" to the top-level class. */
    static String classOf(String dotted) {
        String[] parts = dotted.split("\\.");
        StringBuilder b = new StringBuilder();
        for (String p : parts) {
            b.append(b.isEmpty() ? "" : ".").append(p);
            if (Character.isUpperCase(p.charAt(0))) {
                break;
            }
        }
        return b.toString();
    }

    @Test
    void noClassUsesALayerAboveItsOwn() throws IOException {
        List<String> v = violations(Layers.read(), bytecodeUses());
        assertEquals(List.of(), v, "upward references in the compiled classes:\n" + String.join("\n", v));
    }

    @Test
    void noSourceImportsALayerAboveItsOwn() throws IOException {
        List<String> v = violations(Layers.read(), sourceImports());
        assertEquals(List.of(), v, "upward imports in src/main:\n" + String.join("\n", v));
    }

    @Test
    void everyTableEntryNamesSomething() throws IOException {
        Layers layers = Layers.read();
        Set<String> packages = new TreeSet<>();
        Set<String> classes = new TreeSet<>();
        for (String c : sourceImports().keySet()) {
            String rel = c.substring("io.lit4j.".length());
            classes.add(rel);
            packages.add(rel.contains(".") ? rel.substring(0, rel.lastIndexOf('.')) : "");
        }
        for (String entry : layers.entries().keySet()) {
            assertTrue(packages.contains(entry) || classes.contains(entry), "the layer table names '" + entry + "', which does not exist");
        }
    }

    @Test
    void anUpwardReferenceIsCaught() throws IOException {
        Layers layers = Layers.read();
        Map<String, Set<String>> uses = new TreeMap<>();
        uses.put("io.lit4j.model.TwoTower", Set.of("io.lit4j.tensor.Tensor", "io.lit4j.train.Tuner"));
        uses.put("io.lit4j.backend.onednn.OneDnnBackend", Set.of("io.lit4j.backend.Backends"));
        uses.put("io.lit4j.nowhere.Thing", Set.of());
        List<String> v = violations(layers, uses);
        assertEquals(3, v.size(), String.join("\n", v));
        assertTrue(v.get(0).contains("OneDnnBackend") && v.get(0).contains("backend.Backends"), v.get(0));
        assertTrue(v.get(1).contains("TwoTower (layer 'model') uses io.lit4j.train.Tuner (layer 'train', above it)"), v.get(1));
        assertTrue(v.get(2).contains("io.lit4j.nowhere.Thing is in no layer"), v.get(2));
        assertEquals("io.lit4j.tensor.DType", classOf("io.lit4j.tensor.DType.F32"));
    }

    /** Imports say what a class uses; a qualified name inline in the code hides that from the reader (and from this test). */
    @Test
    void noInlineQualifiedNames() throws IOException {
        Pattern inline = Pattern.compile("(?<![\\w.\"])(io\\.lit4j|java|javax|com\\.google)(\\.[a-z]\\w*)+\\.[A-Z]");
        List<String> found = new ArrayList<>();
        try (Stream<Path> s = Files.walk(SOURCES)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    String code = lines.get(i).strip();
                    if (code.startsWith("import ") || code.startsWith("package ") || code.startsWith("*") || code.startsWith("/*")
                            || code.startsWith("//")) {
                        continue;
                    }
                    code = code.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"").replaceAll("//.*", "");
                    if (inline.matcher(code).find()) {
                        found.add(f + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "import these instead:\n" + String.join("\n", found));
    }

    /** Only the wrapper classes touch the generated {@code dnnl_h}, {@code cuda_h}, {@code cublas_h}, {@code cudnn_h}; the backends' ops go through them. */
    @Test
    void onlyWrapperClassesCallTheGeneratedBindings() throws IOException {
        Set<String> callers = new TreeSet<>();
        try (Stream<Path> s = Files.walk(CLASSES)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".class")).toList()) {
                var model = ClassFile.of().parse(Files.readAllBytes(f));
                for (PoolEntry e : model.constantPool()) {
                    if (e instanceof ClassEntry c && c.asInternalName().startsWith("io/lit4j/bindings/")) {
                        callers.add(topLevel(model.thisClass().asInternalName()));
                    }
                }
            }
        }
        assertFalse(callers.isEmpty(), "nothing calls the bindings: the scan is broken");
        for (String c : callers) {
            assertTrue(WRAPPERS.contains(c), c + " calls the generated bindings; only " + WRAPPERS + " may (see bindings/README.md)");
        }
    }

    /** The classes that wrap generated code (see bindings/README.md); everything else calls them. */
    static final Set<String> WRAPPERS = Set.of("io.lit4j.backend.onednn.Dnnl", "io.lit4j.backend.onednn.DnnlPrimitives",
            "io.lit4j.backend.onednn.Omp", "io.lit4j.backend.cuda.CudaDriver", "io.lit4j.backend.cuda.Cublas", "io.lit4j.backend.cuda.Cudnn");
}
