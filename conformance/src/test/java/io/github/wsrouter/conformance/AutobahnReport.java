package io.github.wsrouter.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads an index the Autobahn fuzzing client wrote and fails on any case whose behaviour or
 * closing behaviour is not OK or INFORMATIONAL. The plugin itself only looks at the behaviour, so a
 * wrong close code or an unclean close would otherwise pass. NON-STRICT is refused too: both
 * adapters are strict everywhere, and a change that makes one lenient (say, a reply held back
 * behind a close frame, Autobahn 5.15) should be seen.
 */
final class AutobahnReport {

    private static final Set<String> ACCEPTED = Set.of("OK", "INFORMATIONAL");

    private AutobahnReport() {}

    static void assertEveryCaseBehavesAndClosesCleanly(String adapter, Path index) throws IOException {
        assertThat(index).as("the fuzzing client's report").exists();
        JsonObject agents = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8))
                .getAsJsonObject();
        Map<String, Integer> behaviours = new TreeMap<>();
        Map<String, Integer> closes = new TreeMap<>();
        List<String> bad = new ArrayList<>();
        int cases = 0;
        for (Map.Entry<String, JsonElement> agent : agents.entrySet()) {
            for (Map.Entry<String, JsonElement> entry :
                    agent.getValue().getAsJsonObject().entrySet()) {
                JsonObject result = entry.getValue().getAsJsonObject();
                String behaviour = result.get("behavior").getAsString();
                String close = result.get("behaviorClose").getAsString();
                cases++;
                behaviours.merge(behaviour, 1, Integer::sum);
                closes.merge(close, 1, Integer::sum);
                if (!ACCEPTED.contains(behaviour) || !ACCEPTED.contains(close)) {
                    bad.add(entry.getKey() + ": " + behaviour + ", close " + close + ", remote close code "
                            + result.get("remoteCloseCode") + details(index.resolveSibling(reportFile(result))));
                }
            }
        }
        System.out.printf(
                "Autobahn (%s): %d cases; behaviour %s; closing behaviour %s%n", adapter, cases, behaviours, closes);
        assertThat(cases).as("cases run").isPositive();
        assertThat(bad).as("cases not OK (reports in %s)", index.getParent()).isEmpty();
    }

    private static String reportFile(JsonObject result) {
        JsonElement file = result.get("reportfile");
        return file == null || file.isJsonNull() ? "" : file.getAsString();
    }

    /**
     * What a failed case's own report says of how it ended, for a failure seen only in a CI log:
     * how long it took, who dropped the connection, and the last events of its wire log (TO/RO
     * octets out and in, TF/RF frames out and in with their opcode, KL the client's kill timer).
     */
    static String details(Path report) {
        if (!Files.isRegularFile(report)) {
            return "";
        }
        try {
            JsonObject json = JsonParser.parseString(Files.readString(report, StandardCharsets.UTF_8))
                    .getAsJsonObject();
            StringBuilder out = new StringBuilder(" (");
            out.append(json.get("duration")).append(" ms");
            for (String flag : List.of("droppedByMe", "failedByMe", "wasServerConnectionDropTimeout", "wasClean")) {
                out.append(", ").append(flag).append(' ').append(json.get(flag));
            }
            JsonElement reason = json.get("wasNotCleanReason");
            if (reason != null && !reason.isJsonNull()) {
                out.append(", ").append(reason.getAsString());
            }
            List<String> events = new ArrayList<>();
            for (JsonElement event : json.getAsJsonArray("wirelog")) {
                events.add(wireEvent(event.getAsJsonArray()));
            }
            int from = Math.max(0, events.size() - 16);
            out.append("; wire log")
                    .append(from > 0 ? " ... " : " ")
                    .append(String.join(", ", events.subList(from, events.size())));
            return out.append(')').toString();
        } catch (IOException | RuntimeException unreadable) {
            return " (its report " + report.getFileName() + " could not be read: " + unreadable + ")";
        }
    }

    private static String wireEvent(com.google.gson.JsonArray event) {
        String kind = event.get(0).getAsString();
        return switch (kind) {
            case "TO", "RO" -> kind + " " + event.get(1).getAsJsonArray().get(0).getAsInt();
            case "TF", "RF" ->
                kind + " op" + event.get(2).getAsInt() + " "
                        + event.get(1).getAsJsonArray().get(0).getAsInt();
            default -> event.size() > 1 ? kind + " " + event.get(1) : kind;
        };
    }
}
