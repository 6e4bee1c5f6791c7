package io.github.wsrouter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Only that the benchmarks start and finish: the load driver in its quick mode against both
 * baselines (plain Undertow and Netty) and wsrouter in this JVM, every default scenario, then wsrouter against wsrouter with its metrics bound (and scraped), and
 * each JMH benchmark for one short iteration. The figures mean nothing.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BenchmarksSmokeTest {

    @Test
    void loadDriverRunsEveryScenarioAgainstBothBaselinesAndWsrouterWithNoLossDuplicatesOrReordering() {
        LoadDriver driver = new LoadDriver(
                LoadDriver.Options.parse("--quick", "--in-process", "--targets", "baseline,netty,wsrouter"),
                System.err);

        LoadDriver.Results results = driver.run();

        assertThat(results.problems).isEmpty();
        assertThat(results.totalViolations()).isZero();
        for (LoadDriver.Row row : List.of(
                LoadDriver.Row.ECHO_64,
                LoadDriver.Row.ECHO_64_8,
                LoadDriver.Row.ECHO_1K_1,
                LoadDriver.Row.ECHO_1K,
                LoadDriver.Row.BCAST_100_1,
                LoadDriver.Row.BCAST_100,
                LoadDriver.Row.BCAST_1000_1,
                LoadDriver.Row.BCAST_1000,
                LoadDriver.Row.DIRECTED,
                LoadDriver.Row.HANDSHAKES,
                LoadDriver.Row.HANDSHAKE_P50,
                LoadDriver.Row.HANDSHAKE_P99)) {
            for (BenchServer.Kind kind :
                    List.of(BenchServer.Kind.BASELINE, BenchServer.Kind.NETTY, BenchServer.Kind.WSROUTER)) {
                assertThat(results.median(row, kind)).as(row + " on " + kind).isPositive();
            }
        }
        assertThat(results.median(LoadDriver.Row.HANDSHAKE_P99, BenchServer.Kind.NETTY))
                .isGreaterThanOrEqualTo(results.median(LoadDriver.Row.HANDSHAKE_P50, BenchServer.Kind.NETTY));
        assertThat(driver.table(results))
                .contains("| scenario | plain Undertow | Netty | wsrouter | wsrouter / baseline | wsrouter / Netty"
                        + " | wsrouter / best baseline | checks |")
                .contains("| 50 connections, ≤200 pending: handshakes/s |");
    }

    @Test
    void loadDriverComparesWsrouterWithAndWithoutTheMetricsBindingWhichIsScrapedDuringTheRun() {
        LoadDriver driver = new LoadDriver(
                LoadDriver.Options.parse(
                        "--quick",
                        "--in-process",
                        "--targets",
                        "wsrouter,metrics",
                        "--only",
                        "directed,directedw8,bcast1000,bcast1000w1"),
                System.err);

        LoadDriver.Results results = driver.run();

        assertThat(results.problems).isEmpty();
        assertThat(results.totalViolations()).isZero();
        for (LoadDriver.Row row : List.of(
                LoadDriver.Row.DIRECTED,
                LoadDriver.Row.DIRECTED_8,
                LoadDriver.Row.BCAST_1000,
                LoadDriver.Row.BCAST_1000_1)) {
            for (BenchServer.Kind kind : List.of(BenchServer.Kind.WSROUTER, BenchServer.Kind.WSROUTER_METRICS)) {
                assertThat(results.median(row, kind)).as(row + " on " + kind).isPositive();
            }
            assertThat(results.roundRatios(row, BenchServer.Kind.WSROUTER_METRICS, BenchServer.Kind.WSROUTER))
                    .as(row.name())
                    .hasSize(1);
        }
        assertThat(results.info).doesNotContainKey(BenchServer.Kind.WSROUTER);
        // --quick scrapes every 50 ms, while connections are open
        assertThat(results.info.get(BenchServer.Kind.WSROUTER_METRICS)).matches("[1-9][0-9]* scrapes, .*, 0 errors");
        assertThat(driver.table(results))
                .contains("| scenario | wsrouter | wsrouter + metrics | metrics bound / not bound | checks |")
                .doesNotContain("| wsrouter / baseline |");
    }

    @Test
    void jmhBenchmarksRunOneShortIteration() throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                        .include("io\\.github\\.wsrouter\\.benchmarks\\.jmh\\..*")
                        .forks(0)
                        .warmupIterations(0)
                        .measurementIterations(1)
                        .measurementTime(TimeValue.milliseconds(100))
                        .shouldFailOnError(true)
                        .build())
                .run();

        assertThat(results).hasSize(5);
        assertThat(results)
                .allSatisfy(r -> assertThat(r.getPrimaryResult().getScore()).isPositive());
    }
}
