package io.github.wsrouter.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Runs the load scenarios against plain Undertow and against wsrouter in one run, and prints a
 * markdown table of the medians with the ratio wsrouter / baseline.
 *
 * <pre>
 * java -cp wsrouter-benchmarks.jar io.github.wsrouter.benchmarks.LoadDriver [options]
 *   --rounds N          rounds; each runs every scenario on each server (default 5)
 *   --warmup S          seconds of warm-up per scenario (default 2)
 *   --measure S         seconds measured per scenario (default 5)
 *   --idle N            idle connections for the memory scenario (default 10000)
 *   --only a,b          scenarios to run: echo64, echo1k, bcast100, bcast1000, directed, idle
 *   --server-cpus LIST  CPUs the server JVMs are pinned to with taskset (default 0; "" for none)
 *   --server-jvm OPTS   options of the server JVMs (default "-Xmx1g -XX:+UseSerialGC")
 *   --jfr DIR           record each server with JDK Flight Recorder into DIR/&lt;server&gt;.jfr
 *   --in-process        run the servers in this JVM (a smoke test; memory figures are meaningless)
 *   --quick             tiny sizes and times: checks that everything starts and finishes
 * </pre>
 * Every scenario ends by waiting for the messages in flight and checks that each receiver got
 * every message once and in order; the "checks" column counts every violation.
 */
public final class LoadDriver {

    /** One row of the table. */
    enum Row {
        ECHO_64("echo, 100 conns, 1 in flight, 64 B (msg/s)", true),
        ECHO_1K("echo, 100 conns, 8 in flight, 1 KiB (msg/s)", true),
        BCAST_100("broadcast, 100 conns, 4 senders, 64 B (deliveries/s)", true),
        BCAST_1000("broadcast, 1,000 conns, 1 sender, 64 B (deliveries/s)", true),
        DIRECTED("directed round trips, 100 pairs, 64 B (per s)", true),
        DIRECTED_P99("directed round trip p99 latency (µs)", false),
        HANDSHAKES("%s connections: handshakes/s", true),
        HEAP("live heap per idle connection (KiB)", false),
        RSS("RSS per idle connection (KiB)", false),
        THREADS("server threads with %s connections open", false),
        CPU_ECHO_64("server CPU per message, echo 64 B (µs)", false),
        CPU_ECHO_1K("server CPU per message, echo 1 KiB (µs)", false),
        CPU_BCAST_100("server CPU per delivery, broadcast 4 senders/100 (µs)", false),
        CPU_BCAST_1000("server CPU per delivery, broadcast 1 sender/1,000 (µs)", false),
        CPU_DIRECTED("server CPU per round trip, directed (µs)", false),
        CPU_HANDSHAKE("server CPU per handshake (µs)", false);

        final String label;
        final boolean higherIsBetter;

        Row(String label, boolean higherIsBetter) {
            this.label = label;
            this.higherIsBetter = higherIsBetter;
        }
    }

    private static Row cpuRow(Row row) {
        return switch (row) {
            case ECHO_64 -> Row.CPU_ECHO_64;
            case ECHO_1K -> Row.CPU_ECHO_1K;
            case BCAST_100 -> Row.CPU_BCAST_100;
            case BCAST_1000 -> Row.CPU_BCAST_1000;
            default -> Row.CPU_DIRECTED;
        };
    }

    record Options(int rounds, double warmupSeconds, double measureSeconds, int idle, List<String> only,
                   String serverCpus, List<String> serverJvm, Path jfr, boolean inProcess, boolean quick) {

        static Options parse(String... args) {
            int rounds = 5;
            double warmup = 2;
            double measure = 5;
            int idle = 10_000;
            List<String> only = List.of("echo64", "echo1k", "bcast100", "bcast1000", "directed", "idle");
            String cpus = "0";
            List<String> jvm = List.of("-Xmx1g", "-XX:+UseSerialGC");
            Path jfr = null;
            boolean inProcess = false;
            boolean quick = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                    case "--measure" -> measure = Double.parseDouble(args[++i]);
                    case "--idle" -> idle = Integer.parseInt(args[++i]);
                    case "--only" -> only = List.of(args[++i].split(","));
                    case "--server-cpus" -> cpus = args[++i];
                    case "--server-jvm" -> jvm = List.of(args[++i].trim().split("\\s+"));
                    case "--jfr" -> jfr = Path.of(args[++i]);
                    case "--in-process" -> inProcess = true;
                    case "--quick" -> quick = true;
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (quick) {
                rounds = Math.min(rounds, 1);
                warmup = Math.min(warmup, 0.1);
                measure = Math.min(measure, 0.3);
                idle = Math.min(idle, 50);
            }
            return new Options(rounds, warmup, measure, idle, only, cpus, jvm, jfr, inProcess, quick);
        }
    }

    /** The measurements of a run: per row and server, one value per round; and the violations seen. */
    static final class Results {
        final Map<Row, Map<BenchServer.Kind, List<Double>>> values = new EnumMap<>(Row.class);
        final Map<Row, Long> violations = new EnumMap<>(Row.class);
        final List<String> problems = new ArrayList<>();

        void add(Row row, BenchServer.Kind kind, double value) {
            values.computeIfAbsent(row, r -> new EnumMap<>(BenchServer.Kind.class))
                    .computeIfAbsent(kind, k -> new ArrayList<>()).add(value);
        }

        void violations(Row row, long count) {
            violations.merge(row, count, Long::sum);
        }

        double median(Row row, BenchServer.Kind kind) {
            List<Double> list = values.getOrDefault(row, Map.of()).get(kind);
            if (list == null || list.isEmpty()) {
                return Double.NaN;
            }
            double[] sorted = list.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int n = sorted.length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }

        long totalViolations() {
            return violations.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private final Options options;
    private final PrintStream log;
    private final java.util.Set<BenchServer.Kind> rssMeasured = java.util.EnumSet.noneOf(BenchServer.Kind.class);

    LoadDriver(Options options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    public static void main(String[] args) {
        Options options = Options.parse(args);
        LoadDriver driver = new LoadDriver(options, System.err);
        Results results = driver.run();
        System.out.println(machine());
        System.out.println();
        System.out.println(driver.table(results));
        System.exit(results.totalViolations() == 0 && results.problems.isEmpty() ? 0 : 1);
    }

    Results run() {
        Results results = new Results();
        List<BenchServer.Kind> kinds = List.of(BenchServer.Kind.BASELINE, BenchServer.Kind.WSROUTER);
        Map<BenchServer.Kind, Target> targets = new EnumMap<>(BenchServer.Kind.class);
        try {
            for (BenchServer.Kind kind : kinds) {
                targets.put(kind, start(kind));
            }
            for (int round = 1; round <= options.rounds; round++) {
                // alternate which server goes first, so that neither always runs on a fresher machine
                List<BenchServer.Kind> order = round % 2 == 1 ? kinds : List.of(kinds.get(1), kinds.get(0));
                for (BenchServer.Kind kind : order) {
                    log.printf("round %d/%d: %s%n", round, options.rounds, kind.label);
                    runRound(targets.get(kind), results);
                }
            }
        } finally {
            targets.values().forEach(Target::close);
        }
        return results;
    }

    private Target start(BenchServer.Kind kind) {
        if (options.inProcess) {
            return new Target.InProcess(kind);
        }
        List<String> jvm = new ArrayList<>(options.serverJvm);
        if (options.jfr != null) {
            try {
                Files.createDirectories(options.jfr);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            jvm.add("-XX:StartFlightRecording=settings=profile,filename="
                    + options.jfr.resolve(kind.name().toLowerCase(Locale.ROOT) + ".jfr"));
        }
        return new Target.Child(kind, options.serverCpus, jvm);
    }

    private void runRound(Target target, Results results) {
        boolean quick = options.quick;
        Map<String, Runnable> scenarios = new LinkedHashMap<>();
        scenarios.put("echo64", () -> measure(target, results, Row.ECHO_64,
                () -> new Scenario.Echo(quick ? 4 : 100, 1, 64)));
        scenarios.put("echo1k", () -> measure(target, results, Row.ECHO_1K,
                () -> new Scenario.Echo(quick ? 4 : 100, 8, 1024)));
        scenarios.put("bcast100", () -> measure(target, results, Row.BCAST_100,
                () -> new Scenario.Broadcast(quick ? 10 : 100, quick ? 2 : 4, 8, 64)));
        scenarios.put("bcast1000", () -> measure(target, results, Row.BCAST_1000,
                () -> new Scenario.Broadcast(quick ? 20 : 1000, 1, 8, 64)));
        scenarios.put("directed", () -> measure(target, results, Row.DIRECTED,
                () -> new Scenario.Directed(quick ? 4 : 100, 64)));
        scenarios.put("idle", () -> idle(target, results));
        for (String name : options.only) {
            Runnable scenario = scenarios.get(name);
            if (scenario == null) {
                throw new IllegalArgumentException("unknown scenario " + name + "; known: " + scenarios.keySet());
            }
            scenario.run();
        }
    }

    private ClientLoop loop(Target target) throws IOException {
        return new ClientLoop(new InetSocketAddress("127.0.0.1", target.port()), 128);
    }

    private static long deadline(double seconds) {
        return System.nanoTime() + (long) (seconds * 1e9);
    }

    private void measure(Target target, Results results, Row row, Supplier<Scenario> make) {
        Scenario scenario = make.get();
        long violations = 0;
        try (ClientLoop loop = loop(target)) {
            loop.handler(scenario);
            scenario.open(loop, target.kind());
            int n = loop.connections().size();
            if (!loop.runUntil(() -> loop.opened + loop.failures >= n, deadline(30)) || loop.failures > 0) {
                problem(results, row, target, "only " + loop.opened + " of " + n + " connections opened");
                return;
            }
            loop.runUntil(() -> false, deadline(0.3)); // let the server finish its opens (presence and all)
            scenario.start(loop);
            loop.runUntil(() -> false, deadline(options.warmupSeconds));
            long startCount = scenario.count();
            double startCpu = target.cpuSeconds();
            long start = System.nanoTime();
            scenario.measuring = true;
            loop.runUntil(() -> false, start + (long) (options.measureSeconds * 1e9));
            long end = System.nanoTime();
            long endCount = scenario.count();
            double cpu = target.cpuSeconds() - startCpu;
            scenario.measuring = false;
            scenario.stopping = true;
            boolean drained = loop.runUntil(scenario::drained, deadline(10));
            violations = scenario.errors + loop.failures + loop.unexpectedCloses + (drained ? 0 : 1);
            if (!drained) {
                problem(results, row, target, "messages in flight never arrived (loss)");
            }
            double rate = (endCount - startCount) / ((end - start) / 1e9);
            results.add(row, target.kind(), rate);
            if (row == Row.DIRECTED) {
                results.add(Row.DIRECTED_P99, target.kind(), scenario.p99Micros());
            }
            // server CPU per message: steadier than throughput on a machine shared with other work
            if (!Double.isNaN(cpu)) {
                results.add(cpuRow(row), target.kind(), cpu * 1e6 / (endCount - startCount));
            }
            log.printf("  %-60s %12.0f   server CPU %.0f%%, %.2f µs/unit%s%n", row.label, rate,
                    100 * cpu / ((end - start) / 1e9), cpu * 1e6 / (endCount - startCount),
                    violations == 0 ? "" : "  VIOLATIONS " + violations);
        } catch (IOException e) {
            problem(results, row, target, e.toString());
        } finally {
            results.violations(row, violations);
            awaitClosed(target, results, row);
        }
    }

    private void idle(Target target, Results results) {
        int n = options.idle;
        warmHandshakes(target, results, Math.min(2000, n / 5));
        long violations = 0;
        try (ClientLoop loop = loop(target)) {
            Scenario scenario = new Scenario.Idle(n);
            loop.handler(scenario);
            Target.Stats before = target.stats();
            scenario.open(loop, target.kind());
            double startCpu = target.cpuSeconds();
            long start = System.nanoTime();
            boolean opened = loop.runUntil(() -> loop.opened + loop.failures >= n, deadline(120));
            long end = System.nanoTime();
            double cpu = target.cpuSeconds() - startCpu;
            if (!opened || loop.failures > 0) {
                problem(results, Row.HANDSHAKES, target, "only " + loop.opened + " of " + n + " connections opened");
                violations++;
                return;
            }
            // keep serving the loop while the server registers the last ones
            long wait = deadline(10);
            while (target.connectionCount() < n && System.nanoTime() < wait) {
                loop.runUntil(() -> false, deadline(0.05));
            }
            Target.Stats after = target.stats();
            violations = scenario.errors + loop.unexpectedCloses;
            results.add(Row.HANDSHAKES, target.kind(), n / ((end - start) / 1e9));
            if (!Double.isNaN(cpu)) {
                results.add(Row.CPU_HANDSHAKE, target.kind(), cpu * 1e6 / n);
            }
            results.add(Row.HEAP, target.kind(), (after.heapBytes() - before.heapBytes()) / 1024.0 / n);
            if (after.rssKib() >= 0 && rssMeasured.add(target.kind())) {
                // only the first time: a JVM keeps the memory it grew into, so later rounds would show ~0
                results.add(Row.RSS, target.kind(), (after.rssKib() - before.rssKib()) / (double) n);
                results.add(Row.THREADS, target.kind(), after.threads());
            }
            log.printf("  %d idle connections: %.0f handshakes/s, heap %.2f KiB/conn, RSS %.2f KiB/conn, %d threads%n",
                    n, n / ((end - start) / 1e9), (after.heapBytes() - before.heapBytes()) / 1024.0 / n,
                    (after.rssKib() - before.rssKib()) / (double) n, after.threads());
        } catch (IOException e) {
            problem(results, Row.HANDSHAKES, target, e.toString());
        } finally {
            results.violations(Row.HANDSHAKES, violations);
            awaitClosed(target, results, Row.HANDSHAKES);
        }
    }

    /** Opens and closes some connections, so that the handshake path is compiled before it is timed. */
    private void warmHandshakes(Target target, Results results, int count) {
        try (ClientLoop loop = loop(target)) {
            Scenario scenario = new Scenario.Idle(count);
            loop.handler(scenario);
            scenario.open(loop, target.kind());
            loop.runUntil(() -> loop.opened + loop.failures >= count, deadline(30));
        } catch (IOException e) {
            problem(results, Row.HANDSHAKES, target, "warm-up: " + e);
        }
        awaitClosed(target, results, Row.HANDSHAKES);
    }

    private void problem(Results results, Row row, Target target, String what) {
        String line = target.kind().label + ", " + row.label.formatted(options.idle) + ": " + what;
        results.problems.add(line);
        log.println("  PROBLEM " + line);
    }

    /** Waits (bounded) until the server has let go of every connection of the scenario. */
    private void awaitClosed(Target target, Results results, Row row) {
        long deadline = deadline(15);
        while (target.connectionCount() > 0) {
            if (System.nanoTime() > deadline) {
                problem(results, row, target, target.connectionCount() + " connections still open 15 s after the clients left");
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** The results as a markdown table: medians over the rounds, the ratio, the violations. */
    String table(Results results) {
        StringBuilder out = new StringBuilder();
        out.append("| scenario | plain Undertow | wsrouter | wsrouter / baseline | checks |\n");
        out.append("|---|---:|---:|---:|---|\n");
        for (Row row : Row.values()) {
            if (!results.values.containsKey(row)) {
                continue;
            }
            double base = results.median(row, BenchServer.Kind.BASELINE);
            double ours = results.median(row, BenchServer.Kind.WSROUTER);
            long v = results.violations.getOrDefault(row, 0L);
            String checks = row == Row.DIRECTED_P99 || row == Row.HEAP || row == Row.RSS || row == Row.THREADS
                    || row.name().startsWith("CPU_") ? "" : v == 0 ? "no loss, duplicates or reordering" : v + " violations";
            out.append("| ").append(row.label.formatted(String.format(Locale.ROOT, "%,d", options.idle)))
                    .append(" | ").append(format(base)).append(" | ").append(format(ours))
                    .append(" | ").append(Double.isNaN(base) || base == 0 ? "" : String.format(Locale.ROOT, "%.2f×", ours / base))
                    .append(" | ").append(checks).append(" |\n");
        }
        out.append("\nEach value is the median of ").append(options.rounds).append(" round(s) of ")
                .append(options.warmupSeconds).append(" s warm-up + ").append(options.measureSeconds)
                .append(" s measured. Per round (baseline / wsrouter):\n\n");
        for (Row row : Row.values()) {
            Map<BenchServer.Kind, List<Double>> byKind = results.values.get(row);
            if (byKind != null) {
                out.append("- ").append(row.label.formatted(String.format(Locale.ROOT, "%,d", options.idle))).append(": ")
                        .append(list(byKind.get(BenchServer.Kind.BASELINE))).append(" / ")
                        .append(list(byKind.get(BenchServer.Kind.WSROUTER))).append('\n');
            }
        }
        for (String problem : results.problems) {
            out.append("\nPROBLEM: ").append(problem);
        }
        return out.toString();
    }

    private static String list(List<Double> values) {
        if (values == null) {
            return "-";
        }
        return values.stream().map(LoadDriver::format).toList().toString();
    }

    private static String format(double value) {
        if (Double.isNaN(value)) {
            return "-";
        }
        return Math.abs(value) >= 100 ? String.format(Locale.ROOT, "%,.0f", value) : String.format(Locale.ROOT, "%.2f", value);
    }

    /** What the run ran on: cores, CPU model, Java. */
    static String machine() {
        String model = "unknown CPU";
        try {
            model = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(model);
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        long cpus = -1;
        try {
            cpus = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("processor")).count();
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "Machine: " + cpus + " CPU(s), " + model
                + "; Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")";
    }

    static String arrays(long[] values) {
        return Arrays.toString(values);
    }
}
