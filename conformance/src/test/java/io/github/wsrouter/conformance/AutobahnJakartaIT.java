package io.github.wsrouter.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.server.WsServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import me.normanmaurer.maven.autobahntestsuite.AutobahnTestSuite;
import me.normanmaurer.maven.autobahntestsuite.FuzzingCaseResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same Autobahn cases as the plugin's run (1.*–7.*, 9.*, 10.*), against the same echo route
 * served through the Jakarta adapter ({@code WsServer.builder().jakarta()}, Undertow's JSR
 * container), with the same checks.
 *
 * <p>It calls the plugin's own entry point, {@link AutobahnTestSuite#runFuzzingClient}, here in
 * failsafe's JVM: the plugin cannot simply run a second time in the Maven JVM, as the Twisted
 * reactor of its Jython code cannot be restarted ({@code ReactorNotRestartable}). The fuzzing
 * client writes {@code target/autobahntestsuite-reports/} under the working directory, which
 * failsafe sets to {@code conformance/target/autobahn-jakarta}.
 */
class AutobahnJakartaIT {

    private static final List<String> CASES = List.of("1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*");

    @Test
    @Timeout(900)
    void everyCaseBehavesAndClosesCleanlyOnTheJakartaAdapter() throws IOException {
        WsServer server = AutobahnEchoServer.start(0, true);
        assertThat(server.isJakarta()).isTrue();
        List<FuzzingCaseResult> results;
        try {
            String url = "ws://" + AutobahnEchoServer.fuzzerHost() + ":" + server.port();
            results = AutobahnTestSuite.runFuzzingClient("wsrouter-jakarta", url, Map.of("version", 18), CASES, List.of());
        } finally {
            server.stop();
        }
        assertThat(results).as("results").isNotEmpty();
        AutobahnReport.assertEveryCaseBehavesAndClosesCleanly("jakarta",
                Path.of("target/autobahntestsuite-reports/index.json").toAbsolutePath());
    }
}
