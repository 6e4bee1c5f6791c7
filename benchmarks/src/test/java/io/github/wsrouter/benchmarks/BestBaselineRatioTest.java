package io.github.wsrouter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.benchmarks.BenchServer.Kind;
import io.github.wsrouter.benchmarks.LoadDriver.Row;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The "wsrouter / best baseline" column: per row, the better baseline's median is the denominator. */
class BestBaselineRatioTest {

    private static LoadDriver.Ratio best() {
        return LoadDriver.ratios(List.of(Kind.BASELINE, Kind.NETTY, Kind.WSROUTER)).stream()
                .filter(r -> r.header().equals("wsrouter / best baseline"))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void threeTargetsGiveEachBaselinesRatioAndTheBestBaselines() {
        assertThat(LoadDriver.ratios(List.of(Kind.BASELINE, Kind.NETTY, Kind.WSROUTER)))
                .extracting(LoadDriver.Ratio::header)
                .containsExactly("wsrouter / baseline", "wsrouter / Netty", "wsrouter / best baseline");
        assertThat(LoadDriver.ratios(List.of(Kind.BASELINE, Kind.WSROUTER)))
                .extracting(LoadDriver.Ratio::header)
                .containsExactly("wsrouter / baseline");
    }

    @Test
    void aRateIsTakenAgainstTheHigherBaselineAndALatencyCpuOrMemoryRowAgainstTheLower() {
        LoadDriver.Results results = new LoadDriver.Results();
        results.add(Row.ECHO_64, Kind.BASELINE, 100);
        results.add(Row.ECHO_64, Kind.NETTY, 200);
        results.add(Row.ECHO_64, Kind.WSROUTER, 300);
        results.add(Row.HANDSHAKE_P99, Kind.BASELINE, 10);
        results.add(Row.HANDSHAKE_P99, Kind.NETTY, 40);
        results.add(Row.HANDSHAKE_P99, Kind.WSROUTER, 20);
        results.add(Row.HEAP, Kind.BASELINE, 5);
        results.add(Row.HEAP, Kind.NETTY, 2);
        results.add(Row.HEAP, Kind.WSROUTER, 4);
        results.add(Row.CPU_ECHO_64, Kind.BASELINE, 12);
        results.add(Row.CPU_ECHO_64, Kind.WSROUTER, 6); // Netty not measured on this row
        results.add(Row.RSS, Kind.BASELINE, 4);
        results.add(Row.RSS, Kind.NETTY, -1); // a heap or RSS difference over few connections can be below zero
        results.add(Row.RSS, Kind.WSROUTER, 3);

        LoadDriver.Ratio best = best();

        assertThat(best.cell(results, Row.ECHO_64)).isEqualTo("1.50× (Netty)");
        assertThat(best.cell(results, Row.HANDSHAKE_P99)).isEqualTo("2.00× (plain Undertow)");
        assertThat(best.cell(results, Row.HEAP)).isEqualTo("2.00× (Netty)");
        assertThat(best.cell(results, Row.CPU_ECHO_64)).isEqualTo("0.50× (plain Undertow)");
        assertThat(best.cell(results, Row.RSS)).isEqualTo("0.75× (plain Undertow)");
        assertThat(best.cell(results, Row.DIRECTED)).isEmpty();
    }
}
