package io.lit4j.spark;

import io.lit4j.DefaultModel;
import io.lit4j.LitModel;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code embed} job on a real Spark standalone cluster on 127.0.0.1: a master and two workers
 * (one core each), started as child JVMs from the Spark jars on the test classpath, each worker
 * starting its own executor JVM, the model shipped to them as {@code spark-submit --files} ships it.
 * The embeddings must equal lit4j's own, bit for bit, with tasks run on both executors; everything
 * is torn down whatever happens, within the test's time limit.
 */
class StandaloneClusterTest {
    @TempDir
    Path dir;

    private final List<Process> daemons = new ArrayList<>();

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void embedsOnAMasterAndTwoWorkersAsLit4jDoesWithTheModelShippedAsFiles() throws Exception {
        SparkTests.stopLocal(); // one SparkContext per JVM: this test's driver talks to the cluster
        Path corpus = SparkTests.scenes(dir, 30, 2, 44);
        List<String> flags = Arrays.asList(System.getProperty("lit4j.spark.jvm.flags", "").trim().split("\\s+"));
        String cp = System.getProperty("java.class.path");
        List<String> jars = new ArrayList<>(), dirs = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator)) {
            (e.endsWith(".jar") ? jars : dirs).add(e);
        }
        // Spark's launcher builds an executor's classpath from $SPARK_HOME/jars: a folder of links to the test's jars
        Path home = dir.resolve("spark-home");
        Files.createDirectories(home.resolve("jars"));
        for (String j : jars) {
            Path link = home.resolve("jars").resolve(Integer.toHexString(j.hashCode()) + "-" + Path.of(j).getFileName());
            Files.createSymbolicLink(link, Path.of(j).toAbsolutePath());
        }
        // the model travels as spark-submit --files ships files (spark.files): the driver serves them and each
        // executor fetches them into its work folder; the job names the model by file name only, a path
        // that exists on no machine, so both the driver's check and the executors must find the shipped copy
        List<String> shipped = new ArrayList<>();
        try (var files = Files.list(DefaultModel.path())) {
            files.filter(f -> f.toString().endsWith(".json") || f.toString().endsWith(".safetensors")).forEach(f -> shipped.add(f.toString()));
        }
        assertTrue(shipped.stream().anyMatch(f -> f.endsWith("/model.safetensors")) && shipped.stream().anyMatch(f -> f.endsWith("/config.json")),
                shipped::toString);
        assertTrue(!Files.exists(Path.of("model.safetensors")), "a model.safetensors in the test's folder would be read instead");
        int masterPort = freePort();
        SparkSession spark = null;
        try {
            start("master", flags, cp, home, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String.valueOf(masterPort),
                    "--webui-port", String.valueOf(freePort()));
            awaitPort(masterPort, 90);
            for (int w = 1; w <= 2; w++) {
                start("worker" + w, flags, cp, home, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1", "--memory",
                        "1g", "--webui-port", String.valueOf(freePort()), "--work-dir", dir.resolve("work" + w).toString(),
                        "spark://127.0.0.1:" + masterPort);
            }
            spark = SparkSession.builder().master("spark://127.0.0.1:" + masterPort).appName("lit4j-standalone-test")
                    .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1").config("spark.ui.enabled", "false")
                    .config("spark.executor.cores", "1").config("spark.cores.max", "2").config("spark.executor.memory", "768m")
                    .config("spark.executor.extraClassPath", String.join(File.pathSeparator, dirs))
                    .config("spark.executor.extraJavaOptions", String.join(" ", flags))
                    .config("spark.executorEnv.DJL_CACHE_DIR", String.valueOf(System.getenv("DJL_CACHE_DIR")))
                    .config("spark.files", String.join(",", shipped)).config("spark.sql.shuffle.partitions", "4").getOrCreate();
            awaitExecutors(spark, 2, 150);
            Set<String> executors = ConcurrentHashMap.newKeySet();
            spark.sparkContext().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    executors.add(end.taskInfo().executorId());
                }
            });

            Path out = dir.resolve("z.parquet");
            SparkTests.job("embed", "--images", corpus.toString(), "--out", out.toString(), "--partitions", "4", "--batch", "8",
                    "--model", "model.safetensors");
            List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
            assertEquals(32, rows.size());
            assertTrue(executors.size() == 2 && !executors.contains("driver"), "tasks ran on both executors: " + executors);
            try (LitModel model = LitModel.loadDefault(LitModel.Options.defaults().withThreads(1))) {
                int bad = 0;
                for (Row r : rows) {
                    String id = r.getString(0);
                    if (id.contains("bad")) {
                        assertNull(r.get(2), id);
                        bad++;
                    } else {
                        assertArrayEquals(model.embedImage(corpus.resolve(id)), TransformersTest.floats(r.getList(2)), id);
                    }
                }
                assertEquals(2, bad);
            }
        } finally {
            if (spark != null) {
                spark.stop();
            }
            stopAll();
        }
    }

    private void start(String name, List<String> flags, String cp, Path home, String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.addAll(List.of("-Xmx256m", "-cp", cp, main));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_DIRS", dir.resolve("local-" + name).toString());
        daemons.add(pb.start());
    }

    /** Stops the daemons and whatever they started (the executors), then waits for them. */
    private void stopAll() throws InterruptedException {
        for (Process p : daemons.reversed()) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : daemons) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        daemons.clear();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitPort(int port, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(250);
            }
        }
        throw new AssertionError("the master did not listen on 127.0.0.1:" + port + " within " + seconds + " s:\n" + logs());
    }

    private void awaitExecutors(SparkSession spark, int n, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (spark.sparkContext().statusTracker().getExecutorInfos().length >= n + 1) { // + the driver
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(n + " executors did not register within " + seconds + " s:\n" + logs());
    }

    private String logs() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).toList()) {
                sb.append("--- ").append(f.getFileName()).append('\n').append(Files.readString(f));
            }
        }
        return sb.toString();
    }
}
