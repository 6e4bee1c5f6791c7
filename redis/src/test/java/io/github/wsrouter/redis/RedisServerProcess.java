package io.github.wsrouter.redis;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} for tests, on a free loopback port, with nothing saved to disk (or an
 * append-only file, {@link #startPersistent}). When
 * the binary is missing the calling test is skipped — or fails under {@code CI=true}. The binary
 * is {@code redis-server} on the {@code PATH}, or {@code -Dredis.server=/path/to/redis-server}.
 * Public: the examples module uses it through this module's test jar. A test class that uses it
 * is tagged {@code redis}, which the fast loop ({@code -Pfast}) leaves out.
 */
public final class RedisServerProcess implements AutoCloseable {

    private static final long START_TIMEOUT_SECONDS = 10;

    private final String binary;
    private final int port;
    /** Where the append-only file goes; null: nothing is kept. */
    private final java.nio.file.Path dataDir;

    private Process process;

    private RedisServerProcess(String binary, int port, java.nio.file.Path dataDir) {
        this.binary = binary;
        this.port = port;
        this.dataDir = dataDir;
    }

    /** Starts a server on a free port; skips (or under CI fails) the test when there is no binary. */
    public static RedisServerProcess start() {
        return start(null);
    }

    /**
     * Starts a server that writes every command to an append-only file in the directory ({@code
     * appendfsync always}), so that a restart, even after {@code SHUTDOWN NOSAVE}, keeps its data.
     */
    public static RedisServerProcess startPersistent(java.nio.file.Path dataDir) {
        return start(java.util.Objects.requireNonNull(dataDir, "dataDir"));
    }

    private static RedisServerProcess start(java.nio.file.Path dataDir) {
        String binary = findBinary();
        if (binary == null) {
            String message = "redis-server not found on the PATH (or -Dredis.server): the multi-node tests need it;"
                    + " on Debian: apt-get install redis-server";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(message);
            }
            System.err.println("skipped: " + message);
            Assumptions.abort(message);
        }
        RedisServerProcess server = new RedisServerProcess(binary, freePort(), dataDir);
        server.launch();
        return server;
    }

    public int port() {
        return port;
    }

    public URI uri() {
        return URI.create("redis://127.0.0.1:" + port);
    }

    /** Kills the server at once (SIGKILL), as a crash would, and waits until it is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                fail("redis-server on port " + port + " did not exit after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Stops the server as an operator would, {@code SHUTDOWN NOSAVE}, and waits for it to exit:
     * clients see their connections closed by Redis.
     */
    public void shutdownNoSave() {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("SHUTDOWN NOSAVE\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            if (!process.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                fail("redis-server on port " + port + " did not exit after SHUTDOWN NOSAVE");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Starts the server again on the same port: empty, or with its append-only file's data. */
    public void restart() {
        launch();
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            kill();
        }
    }

    private void launch() {
        List<String> command = new java.util.ArrayList<>(List.of(
                binary,
                "--port",
                String.valueOf(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes"));
        if (dataDir == null) {
            command.addAll(List.of("--appendonly", "no"));
        } else {
            command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always", "--dir", dataDir.toString()));
        }
        CompletableFuture<Void> ready = new CompletableFuture<>();
        StringBuilder output = new StringBuilder();
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + binary, e);
        }
        Process started = process;
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader lines = new BufferedReader(
                            new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = lines.readLine()) != null; ) {
                            if (!ready.isDone()) {
                                output.append(line).append('\n');
                            }
                            if (line.contains("Ready to accept connections")) {
                                ready.complete(null);
                            }
                        }
                    } catch (IOException e) {
                        // the process is gone
                    }
                    ready.completeExceptionally(new IllegalStateException("redis-server exited"));
                },
                "redis-server-" + port + "-output");
        reader.setDaemon(true);
        reader.start();
        try {
            ready.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            started.destroyForcibly();
            throw new AssertionError("redis-server did not start on port " + port + ": " + e + "\n" + output, e);
        }
    }

    private static String findBinary() {
        String configured = System.getProperty("redis.server");
        if (configured != null && !configured.isBlank()) {
            return new File(configured).canExecute() ? configured : null;
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            File candidate = new File(dir, "redis-server");
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        return null;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
