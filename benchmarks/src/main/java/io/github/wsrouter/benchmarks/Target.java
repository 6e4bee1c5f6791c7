package io.github.wsrouter.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A running server under test, and how to measure it. */
interface Target extends AutoCloseable {

    BenchServer.Kind kind();

    int port();

    int connectionCount();

    /** What the server measured about itself ({@link BenchServer#info()}); empty if nothing. */
    String info();

    /** The server's heap after a full GC, its resident memory and its thread count. */
    Stats stats();

    @Override
    void close();

    record Stats(long heapBytes, long rssKib, int threads) {}

    /** CPU time the server process has used (user + system), in seconds; NaN where unknown. */
    double cpuSeconds();

    /** CPU seconds of a process from {@code /proc/<pid>/stat}, assuming 100 clock ticks a second. */
    static double procCpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Resident set size (KiB) and threads of a process, from {@code /proc/<pid>/status}; -1 where unknown. */
    static long[] procStatus(long pid) {
        long rss = -1;
        long threads = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                } else if (line.startsWith("Threads:")) {
                    threads = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: unknown
        }
        return new long[] {rss, threads};
    }

    /** The server in this JVM: for the smoke test (its memory figures include the driver). */
    final class InProcess implements Target {
        private final BenchServer.Kind kind;
        private final BenchServer server;

        InProcess(BenchServer.Kind kind, Duration scrapeInterval) {
            this.kind = kind;
            this.server = kind.create("127.0.0.1", 0, scrapeInterval).start();
        }

        @Override
        public BenchServer.Kind kind() {
            return kind;
        }

        @Override
        public int port() {
            return server.port();
        }

        @Override
        public int connectionCount() {
            return server.connectionCount();
        }

        @Override
        public String info() {
            return server.info();
        }

        @Override
        public Stats stats() {
            long heap = ServerMain.heapAfterGc();
            long[] status = procStatus(ProcessHandle.current().pid());
            return new Stats(heap, status[0], (int) status[1]);
        }

        @Override
        public double cpuSeconds() {
            return Double.NaN; // the driver shares the process
        }

        @Override
        public void close() {
            server.stop();
        }
    }

    /** The server as a child JVM ({@link ServerMain}), optionally pinned to CPUs with {@code taskset}. */
    final class Child implements Target {
        private final BenchServer.Kind kind;
        private final Process process;
        private final BufferedReader out;
        private final Writer in;
        private final int port;

        Child(BenchServer.Kind kind, String cpus, List<String> jvmOptions, Duration scrapeInterval, Path previousJar) {
            this.kind = kind;
            List<String> command = new ArrayList<>();
            if (cpus != null && !cpus.isEmpty()) {
                command.addAll(List.of("taskset", "-c", cpus));
            }
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
            command.addAll(List.of(
                    "-cp",
                    kind == BenchServer.Kind.PREVIOUS ? previousJar.toString() : System.getProperty("java.class.path"),
                    ServerMain.class.getName(),
                    kind == BenchServer.Kind.PREVIOUS ? BenchServer.Kind.previousAs().id : kind.id,
                    "0",
                    String.valueOf(scrapeInterval.toMillis())));
            try {
                process = new ProcessBuilder(command)
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + command, e);
            }
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            String ready = answer("READY");
            port = Integer.parseInt(ready.trim());
        }

        long pid() {
            return process.pid();
        }

        private String ask(String command, String prefix) {
            try {
                in.write(command + "\n");
                in.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("server " + kind + " is gone", e);
            }
            return answer(prefix);
        }

        private String answer(String prefix) {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith(prefix + " ")) {
                        return line.substring(prefix.length() + 1);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new IllegalStateException("server " + kind + " exited (status " + waitExit() + ")");
        }

        private int waitExit() {
            try {
                return process.waitFor(5, TimeUnit.SECONDS) ? process.exitValue() : -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        @Override
        public BenchServer.Kind kind() {
            return kind;
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public int connectionCount() {
            return Integer.parseInt(ask("count", "COUNT").trim());
        }

        @Override
        public String info() {
            if (kind == BenchServer.Kind.PREVIOUS) {
                return ""; // an earlier ServerMain may not know the command
            }
            return ask("info", "INFO").trim();
        }

        @Override
        public Stats stats() {
            String[] fields = ask("stats", "STATS").trim().split(" ");
            long[] status = procStatus(process.pid());
            return new Stats(Long.parseLong(fields[0]), status[0], (int) status[1]);
        }

        @Override
        public double cpuSeconds() {
            return procCpuSeconds(process.pid());
        }

        @Override
        public void close() {
            try {
                in.write("quit\n");
                in.flush();
                in.close();
            } catch (IOException ignored) {
                // already gone
            }
            if (waitExit() == -1) {
                process.destroyForcibly();
            }
        }
    }
}
