package io.lit4j.backend.cuda;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where the CUDA backend looks for its three shared libraries, in order:
 * <ol>
 *   <li>{@code LIT4J_CUDA_LIBS}: folders separated by {@code :}, the user's explicit choice;</li>
 *   <li>the loader path: {@code LD_LIBRARY_PATH}, then the folders the dynamic loader searches by
 *       itself (those listed in {@code /etc/ld.so.conf.d/*.conf}, then the system library folders);</li>
 *   <li>the CUDA toolkit's own library folders under {@code CUDA_HOME} (not for the driver: the
 *       toolkit carries only a link stub of {@code libcuda});</li>
 *   <li>the {@code nvidia/*&#47;lib} folders that the pip wheels of cuBLAS and cuDNN install inside a
 *       Python environment ({@code VIRTUAL_ENV}, {@code CONDA_PREFIX}, {@code ~/.local},
 *       {@code /usr/local}, {@code /usr}).</li>
 * </ol>
 * The first folder holding one of a library's file names wins; within a folder the names are
 * tried in order (cuBLASLt 13 before 12). Pure path logic over an injected environment, so the
 * order is unit-tested on fake folders; {@link CudaLibrary} does the loading.
 */
public final class CudaLibraries {

    /** The libraries, each with the file names it may have. */
    public enum Lib {
        DRIVER("the CUDA driver", "libcuda.so.1"),
        CUBLASLT("cuBLASLt", "libcublasLt.so.13", "libcublasLt.so.12"),
        CUDNN("cuDNN", "libcudnn.so.9");

        final String title;
        final List<String> files;

        Lib(String title, String... files) {
            this.title = title;
            this.files = List.of(files);
        }

        /** The file names, best first. */
        public List<String> files() {
            return files;
        }

        public String title() {
            return title;
        }
    }

    /** One folder to look in and why it is on the list ("LIT4J_CUDA_LIBS", "CUDA_HOME", ...). */
    public record Place(Path folder, String origin) {
    }

    /** A library found: its file and the place that gave it. */
    public record Found(Lib lib, Path file, String origin) {
    }

    /** The system library folders the loader searches without being told (Debian/Ubuntu, RHEL, WSL, NVIDIA containers). */
    static final List<Path> SYSTEM_FOLDERS = List.of(Path.of("/usr/local/nvidia/lib64"), Path.of("/usr/lib/wsl/lib"),
            Path.of("/lib/x86_64-linux-gnu"), Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/lib64"), Path.of("/usr/lib64"),
            Path.of("/usr/local/lib"), Path.of("/usr/lib"));

    private final Function<String, String> env;
    private final Path home;
    private final Path ldConfDir;
    private final List<Path> systemFolders;
    private final List<Path> pythonPrefixes;

    CudaLibraries(Function<String, String> env, Path home, Path ldConfDir, List<Path> systemFolders, List<Path> pythonPrefixes) {
        this.env = env;
        this.home = home;
        this.ldConfDir = ldConfDir;
        this.systemFolders = systemFolders;
        this.pythonPrefixes = pythonPrefixes;
    }

    /** The search as this process sees it: its environment, home folder and the machine's loader configuration. */
    public static CudaLibraries ofThisProcess() {
        return new CudaLibraries(System::getenv, Path.of(System.getProperty("user.home", "/nonexistent")),
                Path.of("/etc/ld.so.conf.d"), SYSTEM_FOLDERS, List.of(Path.of("/usr/local"), Path.of("/usr")));
    }

    /** Every place searched for {@code lib}, in order (duplicates kept once, first origin wins). */
    public List<Place> places(Lib lib) {
        List<Place> out = new ArrayList<>();
        for (String dir : split(env.apply("LIT4J_CUDA_LIBS"))) {
            add(out, Path.of(dir), "LIT4J_CUDA_LIBS");
        }
        for (String dir : split(env.apply("LD_LIBRARY_PATH"))) {
            add(out, Path.of(dir), "LD_LIBRARY_PATH");
        }
        for (Path dir : ldConfFolders()) {
            add(out, dir, "the loader's configuration (" + ldConfDir + ")");
        }
        for (Path dir : systemFolders) {
            add(out, dir, "the loader's system folders");
        }
        if (lib == Lib.DRIVER) {
            return out; // the toolkit and the wheels carry no usable libcuda (only a link stub)
        }
        String cudaHome = env.apply("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) {
            Path ch = Path.of(cudaHome);
            for (String sub : List.of("lib64", "lib", "targets/x86_64-linux/lib")) {
                add(out, ch.resolve(sub), "CUDA_HOME");
            }
        }
        List<Path> prefixes = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.apply(var);
            if (v != null && !v.isBlank()) {
                prefixes.add(Path.of(v));
            }
        }
        prefixes.add(home.resolve(".local"));
        prefixes.addAll(pythonPrefixes);
        for (Path prefix : prefixes) {
            for (Path dir : wheelFolders(prefix)) {
                add(out, dir, "a pip wheel under " + prefix);
            }
        }
        return out;
    }

    /** The first place holding one of {@code lib}'s files. */
    public Optional<Found> find(Lib lib) {
        for (Place p : places(lib)) {
            for (String name : lib.files()) {
                Path f = p.folder().resolve(name);
                if (Files.isRegularFile(f)) { // follows links: the usual libX.so.N -> libX.so.N.M.P
                    return Optional.of(new Found(lib, f, p.origin()));
                }
            }
        }
        return Optional.empty();
    }

    /** One line for an error: what was looked for and how to point lit4j at it. */
    public String notFound(Lib lib) {
        String hint = lib == Lib.DRIVER
                ? "no NVIDIA driver on this machine?"
                : "set LIT4J_CUDA_LIBS to the folder holding it (for pip wheels: .../site-packages/nvidia/"
                        + (lib == Lib.CUDNN ? "cudnn" : "cublas") + "/lib)";
        return "no " + String.join(" or ", lib.files()) + " (" + lib.title() + ") in LIT4J_CUDA_LIBS, the loader path"
                + (lib == Lib.DRIVER ? "" : ", CUDA_HOME or a pip wheel's nvidia/*/lib") + "; " + hint;
    }

    private static void add(List<Place> out, Path dir, String origin) {
        Path norm = dir.toAbsolutePath().normalize();
        for (Place p : out) {
            if (p.folder().equals(norm)) {
                return;
            }
        }
        out.add(new Place(norm, origin));
    }

    private static List<String> split(String pathList) {
        List<String> out = new ArrayList<>();
        if (pathList != null) {
            for (String s : pathList.split(":")) {
                if (!s.isBlank()) {
                    out.add(s.strip());
                }
            }
        }
        return out;
    }

    /** The absolute folders named in {@code ld.so.conf.d/*.conf}, files in name order (include lines are not followed). */
    private List<Path> ldConfFolders() {
        List<Path> out = new ArrayList<>();
        for (Path conf : sorted(ldConfDir, "*.conf")) {
            try {
                for (String line : Files.readAllLines(conf)) {
                    String l = line.strip();
                    if (l.startsWith("/")) {
                        out.add(Path.of(l));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // an unreadable loader file is not ours to report; the folders it named are just not searched
            }
        }
        return out;
    }

    /** {@code PREFIX/lib/python3*&#47;{site,dist}-packages/nvidia/*&#47;lib}, plus Debian's {@code PREFIX/lib/python3/dist-packages}. */
    private static List<Path> wheelFolders(Path prefix) {
        List<Path> out = new ArrayList<>();
        for (Path py : sorted(prefix.resolve("lib"), "python3*")) {
            for (String pk : List.of("site-packages", "dist-packages")) {
                for (Path pkg : sorted(py.resolve(pk).resolve("nvidia"), "*")) {
                    Path lib = pkg.resolve("lib");
                    if (Files.isDirectory(lib)) {
                        out.add(lib);
                    }
                }
            }
        }
        return out;
    }

    private static List<Path> sorted(Path dir, String glob) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
            s.forEach(out::add);
        } catch (IOException | RuntimeException e) {
            return out;
        }
        out.sort(null);
        return out;
    }
}
