package io.github.wsrouter.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoadDriverOptionsTest {

    @Test
    void byDefaultEveryEchoAndBroadcastScenarioRunsWithOneAndWithEightInFlightAgainstUndertowAndWsrouter() {
        LoadDriver.Options options = LoadDriver.Options.parse();

        assertThat(options.only())
                .containsExactly(
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
        assertThat(options.targets()).containsExactly(BenchServer.Kind.BASELINE, BenchServer.Kind.WSROUTER);
        assertThat(options.idle()).isEqualTo(10_000);
        assertThat(options.pending()).isEqualTo(200);
    }

    @Test
    void handshakeNamesTheIdleScenarioAndPendingIsConfigurable() {
        LoadDriver.Options options = LoadDriver.Options.parse(
                "--only", "handshake,idle,echo64", "--pending", "50", "--targets", "baseline,netty,wsrouter");

        assertThat(options.only()).containsExactly("idle", "echo64");
        assertThat(options.pending()).isEqualTo(50);
        assertThat(options.targets())
                .containsExactly(BenchServer.Kind.BASELINE, BenchServer.Kind.NETTY, BenchServer.Kind.WSROUTER);
        assertThatThrownBy(() -> LoadDriver.Options.parse("--pending", "0"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(List.of(BenchServer.Kind.values()).stream().filter(BenchServer.Kind::isBaseline))
                .containsExactly(BenchServer.Kind.BASELINE, BenchServer.Kind.NETTY);
    }

    @Test
    void handshakesAreTimedAfterFiftyThousandWarmUpHandshakesAndQuickRunsFewer() {
        assertThat(LoadDriver.Options.parse().handshakeWarmup()).isEqualTo(50_000);
        assertThat(LoadDriver.Options.parse("--handshake-warmup", "0").handshakeWarmup())
                .isZero();
        assertThat(LoadDriver.Options.parse("--quick").handshakeWarmup()).isEqualTo(10);
        assertThatThrownBy(() -> LoadDriver.Options.parse("--handshake-warmup", "-1"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
