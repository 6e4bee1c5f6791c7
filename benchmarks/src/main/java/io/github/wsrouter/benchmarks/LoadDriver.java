package io.github.wsrouter.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs the load scenarios against the baselines (plain Undertow, and if asked Netty) and against
 * wsrouter (and, if asked, wsrouter with its Micrometer binding) in one run, and prints a markdown
 * table of the medians with the ratios wsrouter / each baseline, wsrouter / the better baseline of
 * each row (when both baselines ran) and metrics bound / not bound.
 *
 * <pre>
 * java -cp wsrouter-benchmarks.jar io.github.wsrouter.benchmarks.LoadDriver [options]
 *   --rounds N          rounds; each runs every scenario on each server (default 5)
 *   --warmup S          seconds of warm-up per scenario (default 2)
 *   --measure S         seconds measured per scenario (default 5)
 *   --idle N            connections of the handshake and memory scenario (default 10000)
 *   --histogram         with idle: the server's live objects per idle connection, by class (jcmd)
 *   --pending N         most handshakes in progress at a time in that scenario (default 200)
 *   --handshake-warmup N  handshakes opened and closed (in batches of up to 2,000) before that
 *                       scenario is timed, per server and round (default 50000): enough for the
 *                       JIT to compile the handshake path, which runs once per connection
 *   --only a,b          scenarios to run; by default echo64, echo64w8 (echo 64 B with 1 and with 8
 *                       messages in flight per connection), echo1kw1, echo1k (1 KiB, 1 and 8),
 *                       bcast100w1, bcast100 (4 senders to 100, 1 and 8 in flight per sender),
 *                       bcast1000w1, bcast1000 (1 sender to 1,000, 1 and 8), directed, idle
 *                       (handshakes: rate, p50 and p99 latency; then heap, RSS and threads with
 *                       the connections open; also named handshake); and, only when named,
 *                       directedw8 (directed with 8 round trips in flight per pair)
 *   --targets a,b       servers: baseline (plain Undertow), netty (Netty 4.2), wsrouter, metrics
 *                       (wsrouter with WsRouterMetrics bound to a PrometheusMeterRegistry, scraped
 *                       periodically), history (wsrouter with history on its directed route, in
 *                       memory), history-redis (the same in Redis Streams, see --redis), previous
 *                       (see --previous-jar); default baseline,wsrouter
 *   --scrape-ms N       how often the metrics target scrapes its registry, in ms (default 1000)
 *   --server-cpus LIST  CPUs the server JVMs are pinned to with taskset (default 0; "" for none)
 *   --server-jvm OPTS   options of the server JVMs (default "-Xmx1g -XX:+UseSerialGC")
 *   --redis URI         the Redis of the history-redis target (wsrouter with its directed route's
 *                       history in Redis Streams), e.g. redis://127.0.0.1:6390
 *   --previous-as KIND  what the previous build runs as (default wsrouter; history-redis to compare
 *                       the Redis relay), compared with the same target of this build
 *   --previous-jar JAR  with the target previous: wsrouter as an earlier build's benchmarks jar
 *                       serves it (build it from a worktree of that commit), in the same run
 *   --jfr DIR           record each server with JDK Flight Recorder into DIR/&lt;server&gt;.jfr
 *   --in-process        run the servers in this JVM (a smoke test; memory figures are meaningless)
 *   --quick             tiny sizes and times: checks that everything starts and finishes
 * </pre>
 * Every scenario ends by waiting for the messages in flight and checks that each receiver got
 * every message once and in order; the "checks" column counts every violation. Within a round
 * each scenario runs on every server before the next scenario starts, in an order that reverses
 * from one round to the next, so that the servers compared in a round ran close together in time.
 */
public final class LoadDriver {

    /** One row of the table. */
    enum Row {
        ECHO_64("echo, 100 conns, 1 in flight, 64 B (msg/s)", true),
        ECHO_64_8("echo, 100 conns, 8 in flight, 64 B (msg/s)", true),
        ECHO_1K_1("echo, 100 conns, 1 in flight, 1 KiB (msg/s)", true),
        ECHO_1K("echo, 100 conns, 8 in flight, 1 KiB (msg/s)", true),
        BCAST_100_1("broadcast, 100 conns, 4 senders, 1 in flight, 64 B (deliveries/s)", true),
        BCAST_100("broadcast, 100 conns, 4 senders, 8 in flight, 64 B (deliveries/s)", true),
        BCAST_1000_1("broadcast, 1,000 conns, 1 sender, 1 in flight, 64 B (deliveries/s)", true),
        BCAST_1000("broadcast, 1,000 conns, 1 sender, 8 in flight, 64 B (deliveries/s)", true),
        DIRECTED("directed round trips, 100 pairs, 64 B (per s)", true),
        DIRECTED_P99("directed round trip p99 latency (µs)", false),
        DIRECTED_8("directed round trips, 100 pairs, 8 in flight each, 64 B (per s)", true),
        DIRECTED_8_P99("directed round trip p99 latency, 8 in flight each (µs)", false),
        /** Formatted with the number of connections and the most handshakes in progress at a time. */
        HANDSHAKES("%s connections, ≤%s pending: handshakes/s", true),
        HANDSHAKE_P50("handshake p50 latency, connect() to 101 (ms)", false),
        HANDSHAKE_P99("handshake p99 latency, connect() to 101 (ms)", false),
        HEAP("live heap per idle connection (KiB)", false),
        RSS("RSS per idle connection (KiB)", false),
        THREADS("server threads with %s connections open", false),
        /** Formatted with the number of connections. */
        DROP("%s connections dropped at once, no close frame: until the server holds none (ms)", false),
        CPU_ECHO_64("server CPU per message, echo 64 B, 1 in flight (µs)", false),
        CPU_ECHO_64_8("server CPU per message, echo 64 B, 8 in flight (µs)", false),
        CPU_ECHO_1K_1("server CPU per message, echo 1 KiB, 1 in flight (µs)", false),
        CPU_ECHO_1K("server CPU per message, echo 1 KiB, 8 in flight (µs)", false),
        CPU_BCAST_100_1("server CPU per delivery, broadcast 4 senders/100, 1 in flight (µs)", false),
        CPU_BCAST_100("server CPU per delivery, broadcast 4 senders/100, 8 in flight (µs)", false),
        CPU_BCAST_1000_1("server CPU per delivery, broadcast 1 sender/1,000, 1 in flight (µs)", false),
        CPU_BCAST_1000("server CPU per delivery, broadcast 1 sender/1,000, 8 in flight (µs)", false),
        CPU_DIRECTED("server CPU per round trip, directed (µs)", false),
        CPU_DIRECTED_8("server CPU per round trip, directed, 8 in flight (µs)", false),
        CPU_HANDSHAKE("server CPU per handshake (µs)", false),
        CPU_DROP("server CPU per dropped connection (µs)", false);

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
            case ECHO_64_8 -> Row.CPU_ECHO_64_8;
            case ECHO_1K_1 -> Row.CPU_ECHO_1K_1;
            case ECHO_1K -> Row.CPU_ECHO_1K;
            case BCAST_100_1 -> Row.CPU_BCAST_100_1;
            case BCAST_100 -> Row.CPU_BCAST_100;
            case BCAST_1000 -> Row.CPU_BCAST_1000;
            case BCAST_1000_1 -> Row.CPU_BCAST_1000_1;
            case DIRECTED_8 -> Row.CPU_DIRECTED_8;
            default -> Row.CPU_DIRECTED;
        };
    }

    /** The latency row of a scenario that measures latency, or null. */
    private static Row p99Row(Row row) {
        return switch (row) {
            case DIRECTED -> Row.DIRECTED_P99;
            case DIRECTED_8 -> Row.DIRECTED_8_P99;
            default -> null;
        };
    }

    /** Rows that are a measurement of a scenario's own, not of the messages checked (no "checks" entry). */
    private static boolean derived(Row row) {
        return row == Row.DIRECTED_P99
                || row == Row.DIRECTED_8_P99
                || row == Row.HANDSHAKE_P50
                || row == Row.HANDSHAKE_P99
                || row == Row.HEAP
                || row == Row.RSS
                || row == Row.THREADS
                || row == Row.DROP
                || row.name().startsWith("CPU_");
    }

    record Options(
            int rounds,
            double warmupSeconds,
            double measureSeconds,
            int idle,
            int pending,
            List<String> only,
            List<BenchServer.Kind> targets,
            Duration scrapeInterval,
            String serverCpus,
            List<String> serverJvm,
            Path jfr,
            boolean inProcess,
            boolean quick,
            Path previousJar,
            boolean histogram,
            int handshakeWarmup) {

        static Options parse(String... args) {
            int rounds = 5;
            double warmup = 2;
            double measure = 5;
            int idle = 10_000;
            int pending = 200;
            List<String> only = List.of(
                    "echo64",
                    "echo64w8",
                    "echo1kw1",
                    "echo1k",
                    "bcast100w1",
                    "bcast100",
                    "bcast1000w1",
                    "bcast1000",
                    "directed",
                    "idle");
            List<BenchServer.Kind> targets = List.of(BenchServer.Kind.BASELINE, BenchServer.Kind.WSROUTER);
            long scrapeMillis = 1000;
            String cpus = "0";
            List<String> jvm = List.of("-Xmx1g", "-XX:+UseSerialGC");
            Path jfr = null;
            boolean inProcess = false;
            boolean quick = false;
            Path previousJar = null;
            boolean histogram = false;
            int handshakeWarmup = 50_000;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                    case "--measure" -> measure = Double.parseDouble(args[++i]);
                    case "--idle" -> idle = Integer.parseInt(args[++i]);
                    case "--pending" -> pending = Integer.parseInt(args[++i]);
                    case "--handshake-warmup" -> handshakeWarmup = Integer.parseInt(args[++i]);
                    case "--only" ->
                        only = Arrays.stream(args[++i].split(","))
                                .map(name -> name.equals("handshake") ? "idle" : name)
                                .distinct()
                                .toList();
                    case "--targets" ->
                        targets = Arrays.stream(args[++i].split(","))
                                .map(BenchServer.Kind::of)
                                .distinct()
                                .toList();
                    case "--scrape-ms" -> scrapeMillis = Long.parseLong(args[++i]);
                    case "--server-cpus" -> cpus = args[++i];
                    case "--server-jvm" -> jvm = List.of(args[++i].trim().split("\\s+"));
                    case "--jfr" -> jfr = Path.of(args[++i]);
                    case "--in-process" -> inProcess = true;
                    case "--quick" -> quick = true;
                    case "--histogram" -> histogram = true;
                    case "--previous-jar" -> previousJar = Path.of(args[++i]);
                    case "--redis" -> System.setProperty(BenchServer.Kind.REDIS_PROPERTY, args[++i]);
                    case "--previous-as" -> {
                        String as = args[++i];
                        BenchServer.Kind.of(as); // known, or refused now
                        System.setProperty(BenchServer.Kind.PREVIOUS_AS_PROPERTY, as);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (quick) {
                rounds = Math.min(rounds, 1);
                warmup = Math.min(warmup, 0.1);
                measure = Math.min(measure, 0.3);
                idle = Math.min(idle, 50);
                handshakeWarmup = Math.min(handshakeWarmup, idle / 5);
                scrapeMillis = Math.min(scrapeMillis, 50);
            }
            if (targets.contains(BenchServer.Kind.PREVIOUS) != (previousJar != null)) {
                throw new IllegalArgumentException("the target previous and --previous-jar go together");
            }
            if (targets.isEmpty() || scrapeMillis <= 0 || pending <= 0 || handshakeWarmup < 0) {
                throw new IllegalArgumentException(
                        "no targets, or a scrape interval or a number of pending handshakes that is not positive");
            }
            return new Options(
                    rounds,
                    warmup,
                    measure,
                    idle,
                    pending,
                    only,
                    targets,
                    Duration.ofMillis(scrapeMillis),
                    cpus,
                    jvm,
                    jfr,
                    inProcess,
                    quick,
                    previousJar,
                    histogram,
                    handshakeWarmup);
        }
    }

    /** The measurements of a run: per row and server, one value per round; and the violations seen. */
    static final class Results {
        final Map<Row, Map<BenchServer.Kind, List<Double>>> values = new EnumMap<>(Row.class);
        final Map<Row, Long> violations = new EnumMap<>(Row.class);
        final List<String> problems = new ArrayList<>();
        /** The last thing each server reported about itself ({@link Target#info()}), where it reported anything. */
        final Map<BenchServer.Kind, String> info = new EnumMap<>(BenchServer.Kind.class);

        void add(Row row, BenchServer.Kind kind, double value) {
            values.computeIfAbsent(row, r -> new EnumMap<>(BenchServer.Kind.class))
                    .computeIfAbsent(kind, k -> new ArrayList<>())
                    .add(value);
        }

        void violations(Row row, long count) {
            violations.merge(row, count, Long::sum);
        }

        double median(Row row, BenchServer.Kind kind) {
            List<Double> list = values.getOrDefault(row, Map.of()).get(kind);
            return list == null ? Double.NaN : LoadDriver.median(list);
        }

        /** Per round, {@code numerator / denominator} of the same round (NaN where either is missing). */
        List<Double> roundRatios(Row row, BenchServer.Kind numerator, BenchServer.Kind denominator) {
            Map<BenchServer.Kind, List<Double>> byKind = values.getOrDefault(row, Map.of());
            List<Double> top = byKind.getOrDefault(numerator, List.of());
            List<Double> bottom = byKind.getOrDefault(denominator, List.of());
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < Math.min(top.size(), bottom.size()); i++) {
                ratios.add(bottom.get(i) == 0 ? Double.NaN : top.get(i) / bottom.get(i));
            }
            return ratios;
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
        List<BenchServer.Kind> kinds = options.targets;
        List<BenchServer.Kind> reversed = new ArrayList<>(kinds);
        Collections.reverse(reversed);
        Map<String, Consumer<Target>> scenarios = scenarios(results);
        for (String name : options.only) {
            if (!scenarios.containsKey(name)) {
                throw new IllegalArgumentException("unknown scenario " + name + "; known: " + scenarios.keySet());
            }
        }
        Map<BenchServer.Kind, Target> targets = new EnumMap<>(BenchServer.Kind.class);
        try {
            for (BenchServer.Kind kind : kinds) {
                targets.put(kind, start(kind));
            }
            for (int round = 1; round <= options.rounds; round++) {
                // alternate which server goes first, so that neither always runs on a fresher machine;
                // each scenario on every server before the next, so that what is compared ran close in time
                List<BenchServer.Kind> order = round % 2 == 1 ? kinds : reversed;
                for (String name : options.only) {
                    for (BenchServer.Kind kind : order) {
                        log.printf("round %d/%d, %s: %s%n", round, options.rounds, name, kind.label);
                        scenarios.get(name).accept(targets.get(kind));
                    }
                }
            }
        } finally {
            targets.values().forEach(Target::close);
        }
        return results;
    }

    private Target start(BenchServer.Kind kind) {
        if (options.inProcess) {
            return new Target.InProcess(kind, options.scrapeInterval);
        }
        List<String> jvm = new ArrayList<>(options.serverJvm);
        String redis = System.getProperty(BenchServer.Kind.REDIS_PROPERTY);
        if (redis != null) {
            jvm.add("-D" + BenchServer.Kind.REDIS_PROPERTY + "=" + redis);
        }
        if (options.jfr != null) {
            try {
                Files.createDirectories(options.jfr);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            jvm.add("-XX:StartFlightRecording=settings=profile,filename=" + options.jfr.resolve(kind.id + ".jfr"));
        }
        return new Target.Child(kind, options.serverCpus, jvm, options.scrapeInterval, options.previousJar);
    }

    /** The scenarios by their {@code --only} names. */
    private Map<String, Consumer<Target>> scenarios(Results results) {
        boolean quick = options.quick;
        Map<String, Consumer<Target>> scenarios = new LinkedHashMap<>();
        scenarios.put(
                "echo64",
                target -> measure(target, results, Row.ECHO_64, () -> new Scenario.Echo(quick ? 4 : 100, 1, 64)));
        scenarios.put(
                "echo64w8",
                target -> measure(target, results, Row.ECHO_64_8, () -> new Scenario.Echo(quick ? 4 : 100, 8, 64)));
        scenarios.put(
                "echo1kw1",
                target -> measure(target, results, Row.ECHO_1K_1, () -> new Scenario.Echo(quick ? 4 : 100, 1, 1024)));
        scenarios.put(
                "echo1k",
                target -> measure(target, results, Row.ECHO_1K, () -> new Scenario.Echo(quick ? 4 : 100, 8, 1024)));
        scenarios.put(
                "bcast100w1",
                target -> measure(
                        target,
                        results,
                        Row.BCAST_100_1,
                        () -> new Scenario.Broadcast(quick ? 10 : 100, quick ? 2 : 4, 1, 64)));
        scenarios.put(
                "bcast100",
                target -> measure(
                        target,
                        results,
                        Row.BCAST_100,
                        () -> new Scenario.Broadcast(quick ? 10 : 100, quick ? 2 : 4, 8, 64)));
        scenarios.put(
                "bcast1000",
                target -> measure(
                        target, results, Row.BCAST_1000, () -> new Scenario.Broadcast(quick ? 20 : 1000, 1, 8, 64)));
        scenarios.put(
                "bcast1000w1",
                target -> measure(
                        target, results, Row.BCAST_1000_1, () -> new Scenario.Broadcast(quick ? 20 : 1000, 1, 1, 64)));
        scenarios.put(
                "directed",
                target -> measure(target, results, Row.DIRECTED, () -> new Scenario.Directed(quick ? 4 : 100, 64)));
        scenarios.put(
                "directedw8",
                target ->
                        measure(target, results, Row.DIRECTED_8, () -> new Scenario.Directed(quick ? 4 : 100, 64, 8)));
        scenarios.put("idle", target -> idle(target, results));
        return scenarios;
    }

    private ClientLoop loop(Target target) throws IOException {
        return loop(target, 128);
    }

    private ClientLoop loop(Target target, int maxHandshaking) throws IOException {
        return new ClientLoop(new InetSocketAddress("127.0.0.1", target.port()), maxHandshaking);
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
            if (p99Row(row) != null) {
                results.add(p99Row(row), target.kind(), scenario.p99Micros());
            }
            // server CPU per message: steadier than throughput on a machine shared with other work
            if (!Double.isNaN(cpu)) {
                results.add(cpuRow(row), target.kind(), cpu * 1e6 / (endCount - startCount));
            }
            log.printf(
                    "  %-60s %12.0f   server CPU %.0f%%, %.2f µs/unit%s%n",
                    row.label,
                    rate,
                    100 * cpu / ((end - start) / 1e9),
                    cpu * 1e6 / (endCount - startCount),
                    violations == 0 ? "" : "  VIOLATIONS " + violations);
            info(target, results);
        } catch (IOException e) {
            problem(results, row, target, e.toString());
        } finally {
            results.violations(row, violations);
            awaitClosed(target, results, row, 15);
        }
    }

    /**
     * With {@code --histogram}, the server's live objects by class ({@code jcmd <pid>
     * GC.class_histogram}, which collects first): class name to {instances, bytes}; empty otherwise.
     */
    private Map<String, long[]> histogram(Target target) {
        Map<String, long[]> classes = new java.util.HashMap<>();
        if (!options.histogram || !(target instanceof Target.Child child)) {
            return classes;
        }
        try {
            Process jcmd = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "jcmd")
                                    .toString(),
                            Long.toString(child.pid()),
                            "GC.class_histogram")
                    .redirectErrorStream(true)
                    .start();
            try (java.io.BufferedReader lines = new java.io.BufferedReader(
                    new java.io.InputStreamReader(jcmd.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    String[] fields = line.trim().split("\\s+");
                    if (fields.length >= 4 && fields[0].endsWith(":")) {
                        classes.put(fields[3], new long[] {Long.parseLong(fields[1]), Long.parseLong(fields[2])});
                    }
                }
            }
            jcmd.waitFor(60, TimeUnit.SECONDS);
        } catch (IOException e) {
            log.println("  (no histogram: " + e + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return classes;
    }

    /** The classes that grew most with the idle connections, per connection. */
    private void printHistogramDiff(Target target, Map<String, long[]> before, Map<String, long[]> after, int n) {
        if (after.isEmpty()) {
            return;
        }
        record Growth(String name, double instances, double bytes) {}
        List<Growth> growth = new ArrayList<>();
        after.forEach((name, counts) -> {
            long[] was = before.getOrDefault(name, new long[2]);
            growth.add(new Growth(name, (counts[0] - was[0]) / (double) n, (counts[1] - was[1]) / (double) n));
        });
        growth.sort(java.util.Comparator.comparingDouble(Growth::bytes).reversed());
        double total = growth.stream().mapToDouble(Growth::bytes).sum();
        log.printf(
                "  %s: live objects per idle connection, %.0f bytes in all; the largest classes:%n",
                target.kind().label, total);
        for (Growth g : growth.subList(0, Math.min(60, growth.size()))) {
            log.printf("    %8.1f B  %6.2f objects  %s%n", g.bytes(), g.instances(), g.name());
        }
    }

    private void idle(Target target, Results results) {
        int n = options.idle;
        warmHandshakes(target, results, options.handshakeWarmup, Math.max(1, Math.min(2000, n / 5)));
        long violations = 0;
        try (ClientLoop loop = loop(target, options.pending)) {
            Scenario scenario = new Scenario.Idle(n);
            loop.handler(scenario);
            Target.Stats before = target.stats();
            Map<String, long[]> histogramBefore = histogram(target);
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
            printHistogramDiff(target, histogramBefore, histogram(target), n);
            violations = scenario.errors + loop.unexpectedCloses;
            results.add(Row.HANDSHAKES, target.kind(), n / ((end - start) / 1e9));
            long[] latencies = loop.connections().stream()
                    .mapToLong(c -> c.handshakeNanos)
                    .sorted()
                    .toArray();
            double p50 = percentile(latencies, 0.50) / 1e6;
            double p99 = percentile(latencies, 0.99) / 1e6;
            results.add(Row.HANDSHAKE_P50, target.kind(), p50);
            results.add(Row.HANDSHAKE_P99, target.kind(), p99);
            if (!Double.isNaN(cpu)) {
                results.add(Row.CPU_HANDSHAKE, target.kind(), cpu * 1e6 / n);
            }
            results.add(Row.HEAP, target.kind(), (after.heapBytes() - before.heapBytes()) / 1024.0 / n);
            if (after.rssKib() >= 0 && rssMeasured.add(target.kind())) {
                // only the first time: a JVM keeps the memory it grew into, so later rounds would show ~0
                results.add(Row.RSS, target.kind(), (after.rssKib() - before.rssKib()) / (double) n);
                results.add(Row.THREADS, target.kind(), after.threads());
            }
            log.printf(
                    "  %d idle connections (≤%d pending): %.0f handshakes/s, p50 %.2f ms, p99 %.2f ms,"
                            + " heap %.2f KiB/conn, RSS %.2f KiB/conn, %d threads%n",
                    n,
                    options.pending,
                    n / ((end - start) / 1e9),
                    p50,
                    p99,
                    (after.heapBytes() - before.heapBytes()) / 1024.0 / n,
                    (after.rssKib() - before.rssKib()) / (double) n,
                    after.threads());
            drop(target, results, loop, n);
        } catch (IOException e) {
            problem(results, Row.HANDSHAKES, target, e.toString());
        } finally {
            results.violations(Row.HANDSHAKES, violations);
            awaitClosed(target, results, Row.HANDSHAKES, 15);
        }
    }

    /**
     * Every connection of the loop goes at once, with a FIN and no close frame: the time until
     * the server holds none, and its CPU for them. Closing a socket on an XNIO IO thread polls
     * the selector, which reports every other socket still readable: closed in the pass that read
     * their ends, thousands of connections cost a poll of all the others each.
     */
    private void drop(Target target, Results results, ClientLoop loop, int n) {
        double startCpu = target.cpuSeconds();
        long start = System.nanoTime();
        loop.dropAll();
        if (!awaitClosed(target, results, Row.DROP, 60)) {
            return;
        }
        double millis = (System.nanoTime() - start) / 1e6;
        double cpu = target.cpuSeconds() - startCpu;
        results.add(Row.DROP, target.kind(), millis);
        if (!Double.isNaN(cpu)) {
            results.add(Row.CPU_DROP, target.kind(), cpu * 1e6 / n);
        }
        log.printf(
                "  %d connections dropped at once: %.0f ms until the server held none, %.1f µs CPU each%n",
                n, millis, cpu * 1e6 / n);
    }

    /** The value at that rank of sorted values (nearest rank), or NaN if there are none. */
    static double percentile(long[] sorted, double rank) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.max(0, Math.min(sorted.length - 1, Math.ceil(sorted.length * rank) - 1))];
    }

    /**
     * Opens and closes connections, batch by batch, so that the handshake path is compiled before
     * it is timed. Each handshake runs that path once, so it takes more of them than messages
     * take: with 2,000, every server's CPU per handshake kept falling from round to round (plain
     * Undertow 41, 28 and 23 µs in one run, Netty 56, 40 and 20) as its JIT caught up; with 60,000
     * it was 18 to 21 µs in every round.
     */
    private void warmHandshakes(Target target, Results results, int count, int batch) {
        for (int left = count; left > 0; left -= batch) {
            int size = Math.min(batch, left);
            try (ClientLoop loop = loop(target, options.pending)) {
                Scenario scenario = new Scenario.Idle(size);
                loop.handler(scenario);
                scenario.open(loop, target.kind());
                loop.runUntil(() -> loop.opened + loop.failures >= size, deadline(30));
            } catch (IOException e) {
                problem(results, Row.HANDSHAKES, target, "warm-up: " + e);
                return;
            }
            awaitClosed(target, results, Row.HANDSHAKES, 15);
        }
    }

    /** Logs and keeps what the server reports about itself (the metrics target: its scrapes so far). */
    private void info(Target target, Results results) {
        String info = target.info();
        if (!info.isEmpty()) {
            results.info.put(target.kind(), info);
            log.println("  " + target.kind().label + ": " + info);
        }
    }

    private void problem(Results results, Row row, Target target, String what) {
        String line = target.kind().label + ", " + row.label.formatted(options.idle, options.pending) + ": " + what;
        results.problems.add(line);
        log.println("  PROBLEM " + line);
    }

    /**
     * Waits, up to the bound, until the server has let go of every connection of the scenario;
     * whether it did (if not, the row has a problem).
     */
    private boolean awaitClosed(Target target, Results results, Row row, int seconds) {
        long deadline = deadline(seconds);
        while (target.connectionCount() > 0) {
            if (System.nanoTime() > deadline) {
                problem(
                        results,
                        row,
                        target,
                        target.connectionCount() + " connections still open " + seconds + " s after the clients left");
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return true;
    }

    /**
     * A ratio column: {@code numerator / denominator}, with so many decimals. With several
     * denominators (the baselines), each row's denominator is the one whose median is better on
     * that row: the higher for a rate, the lower for a latency, CPU, memory or thread count (of
     * those above zero).
     */
    record Ratio(BenchServer.Kind numerator, List<BenchServer.Kind> denominators, String header, int decimals) {

        Ratio(BenchServer.Kind numerator, BenchServer.Kind denominator, String header, int decimals) {
            this(numerator, List.of(denominator), header, decimals);
        }

        BenchServer.Kind denominator() {
            return denominators.get(0);
        }

        /** The denominator of this row: the only one, or the better of several on this row (null if none measured it). */
        BenchServer.Kind denominator(Results results, Row row) {
            BenchServer.Kind best = null;
            double bestValue = Double.NaN;
            for (BenchServer.Kind kind : denominators) {
                double value = results.median(row, kind);
                if (Double.isNaN(value) || (denominators.size() > 1 && value <= 0)) {
                    // not measured; or not a measurement (a heap difference over few connections can come out
                    // negative, as a full GC in between frees more than they hold): not the better baseline
                    continue;
                }
                if (best == null || (row.higherIsBetter ? value > bestValue : value < bestValue)) {
                    best = kind;
                    bestValue = value;
                }
            }
            return best;
        }

        /** The cell of this row: the ratio of the medians, and which baseline it is against when there are several. */
        String cell(Results results, Row row) {
            BenchServer.Kind bottom = denominator(results, row);
            if (bottom == null || results.median(row, bottom) == 0) {
                return "";
            }
            String value = format(results.median(row, numerator) / results.median(row, bottom));
            return denominators.size() > 1 && !value.isEmpty() ? value + " (" + bottom.label + ")" : value;
        }

        String format(double value) {
            return Double.isNaN(value) || Double.isInfinite(value)
                    ? ""
                    : String.format(Locale.ROOT, "%." + decimals + "f×", value);
        }
    }

    /**
     * The ratios the targets of a run allow: wsrouter / each baseline and / the better baseline of
     * each row, this build / previous, metrics bound / not bound.
     */
    static List<Ratio> ratios(List<BenchServer.Kind> kinds) {
        List<Ratio> ratios = new ArrayList<>();
        boolean baseline = kinds.contains(BenchServer.Kind.BASELINE);
        boolean netty = kinds.contains(BenchServer.Kind.NETTY);
        boolean wsrouter = kinds.contains(BenchServer.Kind.WSROUTER);
        boolean metrics = kinds.contains(BenchServer.Kind.WSROUTER_METRICS);
        boolean previous = kinds.contains(BenchServer.Kind.PREVIOUS);
        boolean history = kinds.contains(BenchServer.Kind.WSROUTER_HISTORY);
        boolean redisHistory = kinds.contains(BenchServer.Kind.WSROUTER_HISTORY_REDIS);
        if (baseline && wsrouter) {
            ratios.add(new Ratio(BenchServer.Kind.WSROUTER, BenchServer.Kind.BASELINE, "wsrouter / baseline", 2));
        }
        if (netty && wsrouter) {
            ratios.add(new Ratio(BenchServer.Kind.WSROUTER, BenchServer.Kind.NETTY, "wsrouter / Netty", 2));
        }
        List<BenchServer.Kind> baselines =
                kinds.stream().filter(BenchServer.Kind::isBaseline).toList();
        if (wsrouter && baselines.size() > 1) {
            ratios.add(new Ratio(BenchServer.Kind.WSROUTER, baselines, "wsrouter / best baseline", 2));
        }
        if (baseline && previous) {
            ratios.add(new Ratio(BenchServer.Kind.PREVIOUS, BenchServer.Kind.BASELINE, "previous build / baseline", 2));
        }
        BenchServer.Kind same = BenchServer.Kind.previousAs();
        if (previous && kinds.contains(same)) {
            ratios.add(new Ratio(same, BenchServer.Kind.PREVIOUS, "this build / previous", 3));
        }
        if (wsrouter && history) {
            ratios.add(new Ratio(BenchServer.Kind.WSROUTER_HISTORY, BenchServer.Kind.WSROUTER, "history on / off", 3));
        }
        if (wsrouter && redisHistory) {
            ratios.add(new Ratio(
                    BenchServer.Kind.WSROUTER_HISTORY_REDIS, BenchServer.Kind.WSROUTER, "Redis history / off", 3));
        }
        if (wsrouter && metrics) {
            ratios.add(new Ratio(
                    BenchServer.Kind.WSROUTER_METRICS, BenchServer.Kind.WSROUTER, "metrics bound / not bound", 3));
        } else if (baseline && metrics) {
            ratios.add(new Ratio(
                    BenchServer.Kind.WSROUTER_METRICS, BenchServer.Kind.BASELINE, "wsrouter + metrics / baseline", 2));
        }
        return ratios;
    }

    /**
     * The results as a markdown table: medians over the rounds per server, the ratios of the
     * medians, the violations; then every round's values, and for metrics bound / not bound the
     * ratio of each round (both measured in the same round, one after the other).
     */
    String table(Results results) {
        List<BenchServer.Kind> kinds = options.targets;
        List<Ratio> ratios = ratios(kinds);
        String idle = String.format(Locale.ROOT, "%,d", options.idle);
        StringBuilder out = new StringBuilder();
        out.append("| scenario |");
        kinds.forEach(k -> out.append(' ').append(k.label).append(" |"));
        ratios.forEach(r -> out.append(' ').append(r.header()).append(" |"));
        out.append(" checks |\n|---|");
        out.append("---:|".repeat(kinds.size() + ratios.size())).append("---|\n");
        for (Row row : Row.values()) {
            if (!results.values.containsKey(row)) {
                continue;
            }
            long v = results.violations.getOrDefault(row, 0L);
            String checks = derived(row) ? "" : v == 0 ? "no loss, duplicates or reordering" : v + " violations";
            out.append("| ").append(row.label.formatted(idle, options.pending)).append(" |");
            for (BenchServer.Kind kind : kinds) {
                out.append(' ').append(format(results.median(row, kind))).append(" |");
            }
            for (Ratio ratio : ratios) {
                out.append(' ').append(ratio.cell(results, row)).append(" |");
            }
            out.append(' ').append(checks).append(" |\n");
        }
        out.append("\nEach value is the median of ")
                .append(options.rounds)
                .append(" round(s) of ")
                .append(options.warmupSeconds)
                .append(" s warm-up + ")
                .append(options.measureSeconds)
                .append(" s measured. Per round (")
                .append(String.join(" / ", kinds.stream().map(k -> k.label).toList()))
                .append("):\n\n");
        for (Row row : Row.values()) {
            Map<BenchServer.Kind, List<Double>> byKind = results.values.get(row);
            if (byKind != null) {
                out.append("- ")
                        .append(row.label.formatted(idle, options.pending))
                        .append(": ")
                        .append(String.join(
                                " / ",
                                kinds.stream().map(k -> list(byKind.get(k))).toList()))
                        .append('\n');
            }
        }
        for (Ratio ratio : ratios) {
            if (ratio.numerator() != BenchServer.Kind.WSROUTER_METRICS) {
                continue;
            }
            out.append("\n")
                    .append(ratio.header())
                    .append(", round by round (each round's ")
                    .append(ratio.numerator().label)
                    .append(" / ")
                    .append(ratio.denominator().label)
                    .append("), and the median of those:\n\n");
            for (Row row : Row.values()) {
                List<Double> perRound = results.roundRatios(row, ratio.numerator(), ratio.denominator());
                if (!perRound.isEmpty()) {
                    out.append("- ")
                            .append(row.label.formatted(idle, options.pending))
                            .append(": ")
                            .append(perRound.stream().map(ratio::format).toList())
                            .append(", median ")
                            .append(ratio.format(median(perRound)))
                            .append('\n');
                }
            }
        }
        results.info.forEach((kind, info) -> out.append("\n")
                .append(kind.label)
                .append(", at the end: ")
                .append(info)
                .append('\n'));
        for (String problem : results.problems) {
            out.append("\nPROBLEM: ").append(problem);
        }
        return out.toString();
    }

    static double median(List<Double> values) {
        double[] sorted = values.stream()
                .mapToDouble(Double::doubleValue)
                .filter(d -> !Double.isNaN(d))
                .sorted()
                .toArray();
        int n = sorted.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
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
        return Math.abs(value) >= 100
                ? String.format(Locale.ROOT, "%,.0f", value)
                : String.format(Locale.ROOT, "%.2f", value);
    }

    /** What the run ran on: cores, CPU model, Java. */
    static String machine() {
        String model = "unknown CPU";
        try {
            model = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse(model);
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        long cpus = -1;
        try {
            cpus = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("processor"))
                    .count();
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "Machine: " + cpus + " CPU(s), " + model + "; Java " + System.getProperty("java.version") + " ("
                + System.getProperty("java.vm.name") + ")";
    }

    static String arrays(long[] values) {
        return Arrays.toString(values);
    }
}
