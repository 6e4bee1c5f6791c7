package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.redis.RedisServerProcess;
import io.github.wsrouter.server.WsServer;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Reproduces, from outside, a runner that stops reading Redis for a while: two runners share one
 * Redis; a client on runner A floods the broadcast route ({@code /ws/}) and the directed route's
 * everyone stream while runner B's JVM is paused (SIGSTOP), until Redis drops B's subscription
 * because its pub/sub output buffer passed {@code client-output-buffer-limit pubsub}; then B
 * resumes (SIGCONT). What B missed is never lost silently: bob on the directed route (history on)
 * gets every message to everyone exactly once and in order, read back from the Redis Stream; the
 * listener on {@code /ws/} (no history) is closed with 4010; B's {@code /stats} counts the loss,
 * the re-subscription, the repair and the gap; and B's stderr has the WARNING.
 */
@Tag("redis") // left out by -Pfast
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PausedRunnerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** About 1 KB per message, as in the report. */
    private static final String PADDING = "x".repeat(1000);
    /** Messages to everyone before the pause: the probe of the directed route. */
    private static final int BEFORE = 10;
    /** The most broadcasts while B is paused; Redis drops B's subscriber long before. */
    private static final int MAX_FLOOD = 30_000;
    /** How many broadcasts between two looks at Redis's clients. */
    private static final int CHECK_EVERY = 50;
    /** One message to everyone per this many broadcasts while B is paused... */
    private static final int EVERY = 10;
    /** ...at most this many until Redis drops B's subscriber... */
    private static final int MAX_DURING_FLOOD = 400;
    /** ...and this many of each kind after: with those before, well under the history's 1000. */
    private static final int AFTER_DROP = 100;
    /** Messages of each kind after B resumed. */
    private static final int AFTER = 5;

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<WsTestClient> clients = new ArrayList<>();
    private final StringBuffer runnerErr = new StringBuffer();
    private RedisServerProcess redis;
    private RedisWithRunner cluster;
    private StatefulRedisConnection<String, String> redisConnection;
    private WsServer runnerA;
    private Process runnerB;

    @BeforeEach
    void startRedisAndRunnerA() {
        cluster = RedisWithRunner.start();
        redis = cluster.redis;
        redisConnection = cluster.commands;
        runnerA = cluster.runner;
        // a subscriber that falls 512 KB behind (or 128 KB for a second) is dropped
        redisConnection.sync().configSet("client-output-buffer-limit", "pubsub 512kb 128kb 1");
    }

    @AfterEach
    void stopEverything() {
        clients.forEach(WsTestClient::close);
        if (runnerB != null) {
            runnerB.destroyForcibly(); // SIGKILL ends a stopped process too
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aPausedRunnerReadsBackWhatHistoryKeepsAndClosesTheBroadcastListener() throws Exception {
        long lastClientBeforeB =
                clientIds().keySet().stream().mapToLong(Long::longValue).max().orElse(0);
        runnerB = launchChild("--port", "0", "--redis", redis.uri().toString());
        int portB = ExampleRunnerMainProcessTest.awaitListeningPort(runnerB);

        WsTestClient bob = connect(portB, "/ws/bob/");
        WsTestClient listener = connect(portB, "/ws/");
        WsTestClient alice = connect(runnerA.port(), "/ws/alice/");
        WsTestClient sender = connect(runnerA.port(), "/ws/");
        List<Integer> toBob = new ArrayList<>();

        // before the pause: both routes reach B from A
        int sent = 0;
        for (; sent < BEFORE; sent++) {
            alice.send(toEveryone(sent));
        }
        receiveUpTo(bob, BEFORE - 1, toBob);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (listener.pending() > 0) {
                return true;
            }
            sender.send("probe");
            return false;
        });
        long subscriberB = clientIds().entrySet().stream()
                .filter(e -> e.getKey() > lastClientBeforeB && e.getValue().contains("P"))
                .mapToLong(Map.Entry::getKey)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no pub/sub client of runner B in " + clientIds()));

        // B paused: A floods /ws/ (one message to everyone among every EVERY broadcasts) until
        // Redis drops B's subscriber; the kernel's socket buffers take a few MB first
        signal("-STOP", runnerB);
        int flooded = 0;
        int duringFlood = 0;
        while (clientIds().containsKey(subscriberB)) {
            if (flooded >= MAX_FLOOD) {
                fail("Redis still has the paused runner's subscriber after " + flooded + " broadcasts: " + clientIds());
            }
            for (int i = 0; i < CHECK_EVERY; i++, flooded++) {
                sender.send("b" + flooded + " " + PADDING);
                if (flooded % EVERY == 0 && duringFlood < MAX_DURING_FLOOD) {
                    alice.send(toEveryone(sent++));
                    duringFlood++;
                }
            }
        }
        // and some more while it is dropped: lost to pub/sub for sure, kept in the history
        for (int i = 0; i < AFTER_DROP; i++) {
            sender.send("d" + i + " " + PADDING);
            alice.send(toEveryone(sent++));
        }
        signal("-CONT", runnerB);

        // resumed: once B is subscribed again, a few more of each kind
        await("runner B subscribed again")
                .atMost(WAIT)
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> relayStats(portB).get("resubscriptions").getAsLong() >= 1);
        for (int i = 0; i < AFTER; i++) {
            sender.send("after" + i + " " + PADDING);
            alice.send(toEveryone(sent++));
        }

        receiveUpTo(bob, sent - 1, toBob);
        assertThat(toBob)
                .as("the sequence numbers of the messages to everyone that bob got")
                .containsExactlyElementsOf(IntStream.range(0, sent).boxed().toList());

        WsTestClient.Close close = listener.awaitClose(WAIT);
        assertThat(close.statusCode())
                .as("listener's close: %s; runner B's stderr:%n%s", close, runnerErr)
                .isEqualTo(4010);
        assertThat(close.reason()).contains("subscription_lost");

        JsonObject relay = relayStats(portB);
        assertThat(relay.get("subscriptionLosses").getAsLong()).as("%s", relay).isGreaterThanOrEqualTo(1);
        assertThat(relay.get("resubscriptions").getAsLong()).as("%s", relay).isGreaterThanOrEqualTo(1);
        // at least those sent while Redis had no subscriber of B were read back from the stream
        assertThat(relay.get("repaired").getAsLong()).as("%s", relay).isGreaterThanOrEqualTo(AFTER_DROP);
        assertThat(relay.get("gapsReported").getAsLong()).as("%s", relay).isGreaterThanOrEqualTo(1);
        await("the WARNING on runner B's stderr")
                .atMost(WAIT)
                .until(() -> runnerErr.toString().contains("WARNING")
                        && runnerErr.toString().contains("lost its Redis subscription"));
    }

    /**
     * Takes bob's messages until the one to everyone numbered {@code last}, collecting their
     * sequence numbers; skips notices (stream positions, presence, acknowledgements), fails on a
     * gap notice: with history nothing may be reported lost.
     */
    private void receiveUpTo(WsTestClient bob, int last, List<Integer> sequence) {
        int seen = sequence.isEmpty() ? -1 : sequence.get(sequence.size() - 1);
        while (seen < last) {
            String text = bob.awaitText(WAIT);
            JsonElement element = JsonParser.parseString(text);
            if (!element.isJsonObject()) {
                fail("not a JSON object on bob's connection: " + text);
            }
            JsonObject object = element.getAsJsonObject();
            if (object.has("gap")) {
                fail("bob was told of a gap, though the route keeps history: " + text + "\nrunner B's stderr:\n"
                        + runnerErr);
            }
            if (!object.has("from") || !object.has("message")) {
                continue;
            }
            String message = object.get("message").getAsString();
            seen = Integer.parseInt(message.substring(0, message.indexOf(' ')));
            sequence.add(seen);
        }
    }

    private static String toEveryone(int sequence) {
        JsonObject o = new JsonObject();
        o.addProperty("to_user", "*");
        o.addProperty("message", sequence + " " + PADDING);
        return o.toString();
    }

    /** Redis's clients now: id to flags ({@code P} for pub/sub). */
    private Map<Long, String> clientIds() {
        RedisCommands<String, String> commands = redisConnection.sync();
        Map<Long, String> clients = new TreeMap<>();
        for (String line : commands.clientList().split("\\R")) {
            Long id = null;
            String flags = "";
            for (String field : line.split(" ")) {
                if (field.startsWith("id=")) {
                    id = Long.parseLong(field.substring(3));
                } else if (field.startsWith("flags=")) {
                    flags = field.substring(6);
                }
            }
            if (id != null) {
                clients.put(id, flags);
            }
        }
        return clients;
    }

    /** Runner B's {@code GET /stats}, its {@code relay} object. */
    private JsonObject relayStats(int port) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats"))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(200);
        return JsonParser.parseString(response.body()).getAsJsonObject().getAsJsonObject("relay");
    }

    /** Sends a signal to a child process with {@code kill}, and checks that it was delivered. */
    private static void signal(String signal, Process process) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", signal, String.valueOf(process.pid()))
                .redirectErrorStream(true)
                .start();
        if (!kill.waitFor(10, TimeUnit.SECONDS)) {
            kill.destroyForcibly();
            fail("kill " + signal + " did not finish");
        }
        assertThat(kill.exitValue())
                .as("kill %s: %s", signal, new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isZero();
    }

    /** {@code ExampleRunner.main} in a child JVM on the test class path; its stderr collected in {@link #runnerErr}. */
    private Process launchChild(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                ExampleRunner.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                            new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            runnerErr.append(line).append('\n');
                        }
                    } catch (IOException e) {
                        runnerErr.append("<read failed: ").append(e).append(">\n");
                    }
                },
                "runner-b-stderr");
        reader.setDaemon(true);
        reader.start();
        return process;
    }

    private WsTestClient connect(int port, String path) {
        WsTestClient client = WsTestClient.connect(http, port, path);
        clients.add(client);
        return client;
    }
}
