package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The command-line scenarios again, against the self-contained jar that {@code mvn package} builds
 * ({@code java -jar examples/target/wsrouter-examples.jar}), plus a directed JSON exchange that needs
 * Gson inside the jar. Run by Failsafe after packaging.
 */
class ExampleJarIT extends ExampleRunnerMainProcessTest {

    private static Path jar() {
        Path jar = Path.of(System.getProperty("example.jar", "target/wsrouter-examples.jar"));
        assertThat(jar).as("the executable jar built by mvn package").exists();
        return jar;
    }

    @Override
    List<String> launchCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar().toString());
    }

    @Test
    void theJarServesTheChatPageAndTheDirectedRoute() throws Exception {
        assertThat(Files.size(jar())).isPositive();
        Process process = startMain("--port", "0");
        int port = awaitListeningPort(process);
        HttpClient http = HttpClient.newHttpClient();
        try (WsTestClient alice = WsTestClient.connect(http, port, "/ws/alice/")) {
            assertThat(alice.awaitText()).isEqualTo("{\"presence\":\"online\",\"users\":[\"alice\"]}");
            assertThat(alice.awaitText()).startsWith("{\"streams\":{\"user\":{\"epoch\":");
            alice.send("{\"to_user\":\"alice\",\"message\":\"to myself\"}");
            assertThat(alice.awaitText())
                    .isEqualTo("{\"to_user\":\"alice\",\"message\":\"to myself\",\"from\":\"alice\",\"offset\":1}");
            alice.send("not json");
            assertThat(alice.awaitText()).contains("\"error\":\"invalid_json\"");
        }
        var page = http.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/"))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<html");
        process.destroy();
    }
}
