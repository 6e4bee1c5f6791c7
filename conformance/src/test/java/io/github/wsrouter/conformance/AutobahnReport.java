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
                            + result.get("remoteCloseCode"));
                }
            }
        }
        System.out.printf(
                "Autobahn (%s): %d cases; behaviour %s; closing behaviour %s%n", adapter, cases, behaviours, closes);
        assertThat(cases).as("cases run").isPositive();
        assertThat(bad).as("cases not OK (reports in %s)", index.getParent()).isEmpty();
    }
}
