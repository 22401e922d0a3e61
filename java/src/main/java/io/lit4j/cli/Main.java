package io.lit4j.cli;

import io.lit4j.LitException;
import io.lit4j.Version;
import io.lit4j.report.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The {@code lit4j} command line. Thin: each subcommand parses its options, calls the library
 * and prints. Results go to stdout, progress and notes to stderr; errors the user can act on print
 * one line on stderr and exit non-zero; the stack trace only appears with {@code --verbose}. Every
 * command takes {@code -h/--help} (printed to stdout, exit 0) and shows its options' defaults.
 */
@Command(name = "lit4j", mixinStandardHelpOptions = true, versionProvider = Main.VersionInfo.class,
        description = "LiT (Locked-image text Tuning) on the JVM: zero-shot image classification, retrieval and tuning.",
        subcommands = {InfoCommand.class, TuneCommand.class, DatasetCommand.class, PretrainCommand.class, ClassifyCommand.class, EmbedCommand.class,
                RetrieveCommand.class, EvalCommand.class, DemoCommand.class, AblationCommand.class, StudyCommand.class, DedupCommand.class,
                ServeCommand.class, InspectCommand.class, ConvertCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    private final PrintStream err;

    Main(PrintStream err) {
        this.err = err;
    }

    /** Options every command shares: how much it says. */
    public static class Output {
        @Spec(Spec.Target.MIXEE)
        CommandSpec command;

        @Option(names = {"-q", "--quiet"}, description = "no progress bars or notes on stderr (errors still print)")
        public boolean quiet;

        @Option(names = "--verbose", description = "print stack traces on errors")
        public boolean verbose;

        /** Where progress and notes go: stderr, or nowhere with {@code --quiet}. */
        public PrintStream log() {
            return quiet ? new PrintStream(OutputStream.nullOutputStream()) : ((Main) command.root().userObject()).err;
        }

        /** A progress bar on {@link #log()}; silent with {@code --quiet}. */
        public ProgressBar progress(String label, long total) {
            return quiet ? ProgressBar.silent() : new ProgressBar(label, total, log());
        }

        /** One line on stderr, prefixed with the command's name ("lit4j classify: ..."), unless quiet. */
        public void note(String line) {
            log().println(command.qualifiedName() + ": " + line);
            log().flush();
        }
    }

    /** Options every command that runs the engine shares. */
    public static final class Common extends Output {
        @Option(names = "--backend", paramLabel = "NAME", description = "engine: auto (oneDNN when it loads, else scalar), onednn or scalar", defaultValue = "auto")
        public String backend;

        @Option(names = "--threads", paramLabel = "N", description = "engine threads (default: all available processors)")
        Integer threads;

        /** The engine threads asked for, checked: 0 means all processors. */
        public int threads() {
            if (threads == null) {
                return 0;
            }
            if (threads < 1) {
                throw new LitException("--threads " + threads + ": give a count of 1 or more (leave it out to use all "
                        + Runtime.getRuntime().availableProcessors() + " processors)");
            }
            int cores = Runtime.getRuntime().availableProcessors();
            if (threads > cores) {
                note("warning: --threads " + threads + " is more than the " + cores + " processors available; threads will compete");
            }
            return threads;
        }
    }

    static final class VersionInfo implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"lit4j " + Version.lit4j()};
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new Main(err));
        PrintWriter errWriter = new PrintWriter(err, true, StandardCharsets.UTF_8);
        cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cli.setErr(errWriter);
        conventions(cli);
        boolean verbose = Arrays.asList(args).contains("--verbose");
        cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> fail(ex, verbose, errWriter));
        int code;
        try {
            code = cli.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) { // picocli hands only Exceptions to the handler
            code = fail(e, verbose, errWriter);
        }
        cli.getOut().flush();
        errWriter.flush();
        return code;
    }

    private static int fail(Throwable ex, boolean verbose, PrintWriter err) {
        if (verbose) {
            ex.printStackTrace(err);
        }
        if (ex instanceof LitException) {
            err.println("lit4j: error: " + ex.getMessage());
        } else if (ex instanceof OutOfMemoryError) {
            err.println("lit4j: error: out of memory (" + ex.getMessage() + "); give the JVM more with LIT4J_JAVA_OPTS=-Xmx8g,"
                    + " or use a smaller --batch-size");
        } else if (ex instanceof StackOverflowError) {
            err.println("lit4j: error: the JVM ran out of stack; give it more with LIT4J_JAVA_OPTS=-Xss8m, or smaller inputs");
        } else {
            err.println("lit4j: internal error: " + ex + (verbose ? "" : " (run with --verbose for the stack trace)"));
        }
        err.flush();
        return 1;
    }

    /** The same conventions on every command: -h/--help, -V/--version and defaults shown in the help. */
    private static void conventions(CommandLine cmd) {
        CommandSpec spec = cmd.getCommandSpec();
        if (!(spec.userObject() instanceof CommandLine.HelpCommand)) {
            spec.mixinStandardHelpOptions(true);
        }
        spec.usageMessage().showDefaultValues(true);
        cmd.getSubcommands().values().forEach(Main::conventions);
    }
}
