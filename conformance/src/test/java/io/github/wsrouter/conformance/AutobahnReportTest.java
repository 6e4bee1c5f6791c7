package io.github.wsrouter.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report check on indexes written here, in the fuzzing client's format. */
class AutobahnReportTest {

    private static final String CASE_REPORT = """
            {"id": "4.1.5", "duration": 1013, "droppedByMe": true, "failedByMe": false,
             "wasServerConnectionDropTimeout": false, "wasClean": false,
             "wasNotCleanReason": "peer dropped the TCP connection without previous WebSocket closing handshake",
             "wirelog": [["TO", [240, "474554"], false], ["RO", [213, "485454"]],
                         ["TF", [13, "Hello, world!"], 1, true, 0, "1a4b5452", null, 1, false],
                         ["TO", [1, "81"], true], ["KL", 1]]}
            """;

    @Test
    void aFailedCaseIsReportedWithHowItEnded(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("case_4_1_5.json"), CASE_REPORT);
        Path index = dir.resolve("index.json");
        Files.writeString(index, """
                {"agent": {
                  "4.1.4": {"behavior": "OK", "behaviorClose": "OK", "remoteCloseCode": 1002, "reportfile": "case_4_1_4.json"},
                  "4.1.5": {"behavior": "NON-STRICT", "behaviorClose": "OK", "remoteCloseCode": null, "reportfile": "case_4_1_5.json"}}}
                """);
        assertThatThrownBy(() -> AutobahnReport.assertEveryCaseBehavesAndClosesCleanly("a test index", index))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("4.1.5: NON-STRICT, close OK, remote close code null (1013 ms, droppedByMe true")
                .hasMessageContaining("peer dropped the TCP connection")
                .hasMessageContaining("wire log TO 240, RO 213, TF op1 13, TO 1, KL 1)")
                .satisfies(error -> assertThat(error.getMessage()).doesNotContain("4.1.4"));
    }

    @Test
    void casesThatBehavePass(@TempDir Path dir) throws Exception {
        Path index = dir.resolve("index.json");
        Files.writeString(index, """
                {"agent": {
                  "4.1.4": {"behavior": "OK", "behaviorClose": "OK", "remoteCloseCode": 1002, "reportfile": "x.json"},
                  "6.4.1": {"behavior": "INFORMATIONAL", "behaviorClose": "INFORMATIONAL", "remoteCloseCode": 1000}}}
                """);
        AutobahnReport.assertEveryCaseBehavesAndClosesCleanly("a test index", index);
    }
}
