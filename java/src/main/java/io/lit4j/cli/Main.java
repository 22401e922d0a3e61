package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.Arrays;

/**
 * The {@code lit4j} command line. Thin: each subcommand parses its options, calls the library
 * and prints. Errors the user can act on print one line on stderr and exit non-zero; the stack
 * trace only appears with {@code --verbose}.
 */
@Command(name = "lit4j", mixinStandardHelpOptions = true, versionProvider = Main.VersionInfo.class,
        description = "LiT (Locked-image text Tuning) on the JVM: zero-shot image classification, retrieval and tuning.",
        subcommands = {InfoCommand.class, TuneCommand.class, DatasetCommand.class, PretrainCommand.class, ClassifyCommand.class, EmbedCommand.class,
                RetrieveCommand.class, EvalCommand.class, DemoCommand.class, AblationCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    /** Options every subcommand shares. */
    public static final class Common {
        @Option(names = "--backend", description = "auto (default), onednn or scalar", defaultValue = "auto")
        public String backend;

        @Option(names = "--threads", description = "threads for the engine (default: available processors)", defaultValue = "0")
        public int threads;

        @Option(names = "--verbose", description = "print stack traces on errors")
        public boolean verbose;
    }

    static final class VersionInfo implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"lit4j " + Version.lit4j()};
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        boolean verbose = Arrays.asList(args).contains("--verbose");
        cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (verbose) {
                ex.printStackTrace(err);
            }
            if (ex instanceof LitException) {
                err.println("lit4j: error: " + ex.getMessage());
            } else {
                err.println("lit4j: internal error: " + ex + (verbose ? "" : " (run with --verbose for the stack trace)"));
            }
            err.flush();
            return 1;
        });
        int code;
        try {
            code = cli.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) {
            if (verbose) {
                e.printStackTrace(err);
            }
            err.println("lit4j: error: the JVM ran out of " + (e instanceof OutOfMemoryError ? "memory" : "stack")
                    + " (" + e + "); give it more (-Xmx, -Xss) or smaller inputs");
            code = 1;
        }
        out.flush();
        err.flush();
        return code;
    }
}
