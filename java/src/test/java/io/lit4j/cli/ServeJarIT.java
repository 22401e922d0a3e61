package io.lit4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code lit4j serve} through the real shaded jar (Helidon's service files survive the shading):
 * it starts with keys from a file, answers, refuses a request without a key, and on SIGTERM
 * stops cleanly with exit code 0.
 */
class ServeJarIT {
    static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");

    @Test
    void servesWithKeysAndStopsCleanlyOnSigterm(@TempDir Path dir) throws Exception {
        Path keys = Files.writeString(dir.resolve("keys.txt"), "# rotated monthly\nsecret-one\n");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-jar", System.getProperty("lit4j.jar"),
                "serve", "--port", "0", "--threads", "1", "--warm", "1", "--api-keys-file", keys.toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile()).start();
        try {
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String base = null;
            StringBuilder seen = new StringBuilder();
            for (String line; (line = err.readLine()) != null; ) {
                seen.append(line).append('\n');
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    base = m.group(1);
                }
                if (line.contains("API key(s) loaded")) {
                    break;
                }
            }
            assertTrue(base != null, "no 'listening on' line: " + seen);
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest.Builder embed = HttpRequest.newBuilder(URI.create(base + "/embed/texts"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"texts\": [\"a bag\"]}")).header("Content-Type", "application/json");
            assertEquals(401, http.send(embed.build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            HttpResponse<String> ok = http.send(embed.header("Authorization", "Bearer secret-one").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(ok.body().startsWith("{\"embeddings\":[["), ok.body());
            String access = err.readLine();
            assertTrue(access != null && access.contains("POST /embed/texts 401"), access);
            assertTrue(!seen.toString().contains("secret-one"), "the key was logged");
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "lit4j serve did not stop on SIGTERM");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }
}
