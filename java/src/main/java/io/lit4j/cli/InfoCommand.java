package io.lit4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.lit4j.Version;
import io.lit4j.backend.Backends;
import io.lit4j.simd.Kernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code lit4j info}: versions, the backend picked and why, threads and SIMD width. */
@Command(name = "info", description = "Show versions, the backend in use and why, threads and SIMD width.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    Main.Common common;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "machine-readable output on stdout")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("lit4j", Version.lit4j());
            o.addProperty("java", Runtime.version().toString());
            o.addProperty("java_vendor", System.getProperty("java.vendor"));
            o.addProperty("processors", Runtime.getRuntime().availableProcessors());
            o.addProperty("arch", System.getProperty("os.arch"));
            o.addProperty("os", System.getProperty("os.name"));
            try (Backends.Choice choice = Backends.open(common.backend, common.threads())) {
                o.addProperty("backend", choice.backend().name());
                o.addProperty("backend_reason", choice.reason());
                JsonArray d = new JsonArray();
                choice.backend().describe().forEach(d::add);
                o.add("backend_details", d);
                o.addProperty("threads", choice.backend().threads());
            }
            o.addProperty("java_kernels", Kernels.get().describe());
            out.println(o);
            return 0;
        }
        out.println("lit4j " + Version.lit4j());
        out.println("Java: " + System.getProperty("java.vm.name") + " " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
        out.println("CPU: " + Runtime.getRuntime().availableProcessors() + " processors available, " + System.getProperty("os.arch")
                + ", " + System.getProperty("os.name"));
        try (Backends.Choice choice = Backends.open(common.backend, common.threads())) {
            out.println("backend: " + choice.backend().name() + " - " + choice.reason());
            for (String line : choice.backend().describe()) {
                out.println("  " + line);
            }
            out.println("threads: " + choice.backend().threads());
        }
        out.println("Java kernels: " + Kernels.get().describe());
        return 0;
    }
}
