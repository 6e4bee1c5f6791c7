package io.github.wsrouter.conformance;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Checks the report of the plugin's run against the native adapter (see {@link AutobahnReport});
 * {@link AutobahnJakartaIT} runs and checks the Jakarta adapter.
 */
class AutobahnReportIT {

    @Test
    void everyCaseBehavesAndClosesCleanly() throws IOException {
        Path index = Path.of(System.getProperty("autobahn.reports", "target/autobahntestsuite-reports"))
                .resolve("index.json");
        AutobahnReport.assertEveryCaseBehavesAndClosesCleanly("native", index);
    }
}
