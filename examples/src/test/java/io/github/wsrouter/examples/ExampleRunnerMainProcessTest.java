package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs {@code ExampleRunner.main} in a child JVM, as a person runs it: what reaches the real stderr
 * (library logging included), the real exit status, and the shutdown hook on SIGTERM.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExampleRunnerMainProcessTest {

    private static final long PROCESS_TIMEOUT_SECONDS = 20;
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process process : started) {
            process.destroyForcibly();
        }
    }

    /** How the runner is launched: its main class on the test class path. */
    List<String> launchCommand() {
        return List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                ExampleRunner.class.getName());
    }

    Process startMain(String... args) throws IOException {
        List<String> command = new ArrayList<>(launchCommand());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        process.getOutputStream().close();
        started.add(process);
        return process;
    }

    /** Reads a stream to its end on another thread. */
    static CompletableFuture<String> readAll(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "<read failed: " + e + ">";
            }
        });
    }

    record Finished(int exitCode, String out, String err) {}

    Finished runToEnd(String... args) throws Exception {
        Process process = startMain(args);
        CompletableFuture<String> out = readAll(process.getInputStream());
        CompletableFuture<String> err = readAll(process.getErrorStream());
        if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            fail("main did not exit within " + PROCESS_TIMEOUT_SECONDS + " s");
        }
        return new Finished(
                process.exitValue(),
                out.get(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS),
                err.get(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    }

    @Test
    void portInUseExitsTwoWithExactlyOneLineOnStderr() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();

            Finished result = runToEnd("--port", String.valueOf(port));

            assertThat(result.exitCode())
                    .as("exit code; stderr: %s", result.err())
                    .isEqualTo(2);
            assertThat(result.err().split("\\R"))
                    .as("stderr")
                    .containsExactly("wsrouter-examples: port " + port + " is already in use");
            assertThat(result.out()).isEmpty();
        }
    }

    @Test
    void unknownFlagExitsTwoWithExactlyOneLineOnStderr() throws Exception {
        Finished result = runToEnd("--bogus");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err().split("\\R")).hasSize(1);
        assertThat(result.err()).startsWith("wsrouter-examples: ").contains("--bogus");
    }

    @Test
    void helpExitsZero() throws Exception {
        Finished result = runToEnd("--help");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("Usage: wsrouter-examples");
        assertThat(result.err()).isEmpty();
    }

    /** Reads the child's stdout on a thread of its own until it prints the port it listens on. */
    static int awaitListeningPort(Process process) throws InterruptedException {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        lines.add("<read failed: " + e + ">");
                    }
                },
                "main-stdout");
        reader.setDaemon(true);
        reader.start();

        int port = -1;
        while (port < 0) {
            String line = lines.poll(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (line == null) {
                fail("main printed no 'listening on' line within " + PROCESS_TIMEOUT_SECONDS + " s; alive="
                        + process.isAlive());
            }
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            }
        }
        return port;
    }

    @Test
    void terminationStopsTheServerAndClosesConnectionsWithGoingAway() throws Exception {
        Process process = startMain("--port", "0");
        CompletableFuture<String> err = readAll(process.getErrorStream());
        int port = awaitListeningPort(process);

        HttpClient http = HttpClient.newHttpClient();
        try (WsTestClient client = WsTestClient.connect(http, port, "/echo/")) {
            client.send("hello");
            assertThat(client.awaitText()).isEqualTo("hello");

            process.destroy(); // SIGTERM: the same shutdown hook as Ctrl-C

            assertThat(client.awaitClose().statusCode()).isEqualTo(1001);
        }
        if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            fail("main did not exit within " + PROCESS_TIMEOUT_SECONDS + " s of SIGTERM");
        }
        assertThat(err.get(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS))
                .as("stderr")
                .doesNotContain("Exception");
    }
}
