package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.server.WsServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs the example runner on a free port, as a person would with {@code --port 0}, and talks to it. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ExampleRunnerServerTest {

    /** Whether the runner under test was started with {@code --jakarta}. */
    boolean jakarta() {
        return false;
    }

    @Test
    void servesThroughTheChosenAdapter() {
        assertThat(server.isJakarta()).isEqualTo(jakarta());
        assertThat(printed).contains(jakarta() ? "Jakarta WebSocket adapter" : "native WebSocket adapter");
    }

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private WsServer server;
    private int port;
    private String printed;

    /** Extra command-line arguments: the adapter under test. */
    String[] adapterArgs() {
        return new String[0];
    }

    @BeforeEach
    void startRunner() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExampleRunner.Launch launch;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            String[] args = java.util.stream.Stream.concat(
                            java.util.stream.Stream.of("--host", "127.0.0.1", "--port", "0"),
                            java.util.Arrays.stream(adapterArgs()))
                    .toArray(String[]::new);
            launch = ExampleRunner.launch(args, o, e);
        }
        assertThat(err.toString(StandardCharsets.UTF_8)).as("stderr").isEmpty();
        assertThat(launch.exitCode()).isZero();
        assertThat(launch.server()).as("started server").isNotNull();
        server = launch.server();
        port = server.port();
        printed = out.toString(StandardCharsets.UTF_8);
    }

    @AfterEach
    void stopRunner() {
        if (server != null) {
            server.stop();
        }
    }

    // ---- helpers ----

    private HttpResponse<String> get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private WsTestClient connect(String path) {
        return WsTestClient.connect(http, port, path);
    }

    private static JsonObject json(String text) {
        JsonElement element = JsonParser.parseString(text);
        assertThat(element.isJsonObject()).as("a JSON object: %s", text).isTrue();
        return element.getAsJsonObject();
    }

    private static String directed(String toUser, String messageJson) {
        JsonObject o = new JsonObject();
        o.addProperty("to_user", toUser);
        o.add("message", JsonParser.parseString(messageJson));
        return o.toString();
    }

    /**
     * Whether a text is one of the directed route's notices, sent without being asked: a presence
     * object ({@code {"presence": ...}}) or the stream positions a connection gets when it opens
     * ({@code {"streams": ...}}, the route keeps history).
     */
    static boolean isNotice(String text) {
        JsonElement element = JsonParser.parseString(text);
        return element.isJsonObject()
                && (element.getAsJsonObject().has("presence")
                        || element.getAsJsonObject().has("streams"));
    }

    /** Whether a text is the stream positions a directed connection gets when it opens. */
    static boolean isStreams(String text) {
        return text.startsWith("{\"streams\":");
    }

    /** The next message on a directed connection that is not a notice (presence, stream positions). */
    private static JsonObject nextNonPresence(WsTestClient client) {
        return json(client.awaitTextSkipping(ExampleRunnerServerTest::isNotice));
    }

    /**
     * Sends a directed message from {@code user} to itself and waits for it: once it is back, the
     * directed router knows the user, and nothing sent to it earlier is still on the way.
     */
    private static void roundTripToSelf(WsTestClient client, String user) {
        String marker = "ready-" + user + "-" + System.nanoTime();
        client.send(directed(user, "\"" + marker + "\""));
        JsonObject back = nextNonPresence(client);
        assertThat(back.get("message").getAsString())
                .as("next message to %s: %s", user, back)
                .isEqualTo(marker);
        assertThat(back.get("from").getAsString()).isEqualTo(user);
    }

    // ---- the page ----

    @Test
    void printsTheUrlsItServes() {
        String authority = "127.0.0.1:" + port;
        assertThat(printed)
                .contains(
                        "http://" + authority + "/",
                        "ws://" + authority + "/echo/",
                        "ws://" + authority + "/ws/",
                        "ws://" + authority + "/ws/{username}/",
                        "ws://" + authority + "/rooms/{room}/");
    }

    @Test
    void servesTheChatPageAtTheRoot() throws Exception {
        HttpResponse<String> page = get("/");

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
        assertThat(page.body()).contains("<title>wsrouter chat</title>", "app.js", "style.css");
    }

    @Test
    void servesTheScriptAndTheStyleSheet() throws Exception {
        HttpResponse<String> script = get("/app.js");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).contains("javascript"));
        assertThat(script.body()).contains("new WebSocket(", "/ws/", "encodeURIComponent");

        HttpResponse<String> client = get("/wsrouter.js");
        assertThat(client.statusCode()).isEqualTo(200);
        assertThat(client.headers().firstValue("Content-Type"))
                .as("an ES module needs a JavaScript MIME type")
                .hasValueSatisfying(type -> assertThat(type).contains("javascript"));
        assertThat(client.body()).contains("export function connect(", "resume=");
        assertThat(script.body()).as("the page imports it").contains("from \"./wsrouter.js\"");

        HttpResponse<String> style = get("/style.css");
        assertThat(style.statusCode()).isEqualTo(200);
        assertThat(style.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("text/css"));
    }

    @Test
    void unknownPathIsNotFound() throws Exception {
        assertThat(get("/no-such-page.html").statusCode()).isEqualTo(404);
    }

    // ---- the seed's URLs ----

    @Test
    void echoRouteEchoesText() {
        try (WsTestClient client = connect("/echo/")) {
            client.send("ping");
            assertThat(client.awaitText()).isEqualTo("ping");
        }
    }

    @Test
    void broadcastRouteAtWsSendsEveryMessageToEveryConnection() {
        try (WsTestClient first = connect("/ws/")) {
            // Each client's own message coming back proves the server has registered it.
            first.send("first ready");
            assertThat(first.awaitText()).isEqualTo("first ready");
            try (WsTestClient second = connect("/ws/")) {
                second.send("second ready");
                assertThat(second.awaitText()).isEqualTo("second ready");
                assertThat(first.awaitText()).isEqualTo("second ready");

                first.send("hello everybody");

                assertThat(first.awaitText()).isEqualTo("hello everybody");
                assertThat(second.awaitText()).isEqualTo("hello everybody");
            }
        }
    }

    @Test
    void directedMessageFromAliceReachesBobWithFromStamped() {
        try (WsTestClient alice = connect("/ws/alice/");
                WsTestClient bob = connect("/ws/bob/")) {
            roundTripToSelf(alice, "alice");
            roundTripToSelf(bob, "bob");

            alice.send(directed("bob", "{\"text\":\"hi bob\",\"n\":1}"));

            JsonObject received = nextNonPresence(bob);
            assertThat(received.get("from").getAsString()).isEqualTo("alice");
            assertThat(received.get("to_user").getAsString()).isEqualTo("bob");
            assertThat(received.get("message")).isEqualTo(JsonParser.parseString("{\"text\":\"hi bob\",\"n\":1}"));

            // Alice gets no copy of her directed message: the next thing she receives is her own marker.
            roundTripToSelf(alice, "alice");
            assertThat(alice.pending()).isZero();
        }
    }

    @Test
    void messageToStarReachesEveryUserIncludingTheSender() {
        try (WsTestClient alice = connect("/ws/alice/");
                WsTestClient bob = connect("/ws/bob/")) {
            roundTripToSelf(alice, "alice");
            roundTripToSelf(bob, "bob");

            alice.send(directed("*", "\"hello all\""));

            for (WsTestClient client : new WsTestClient[] {alice, bob}) {
                JsonObject received = nextNonPresence(client);
                assertThat(received.get("from").getAsString()).isEqualTo("alice");
                assertThat(received.get("to_user").getAsString()).isEqualTo("*");
                assertThat(received.get("message").getAsString()).isEqualTo("hello all");
            }
        }
    }

    @Test
    void fromCannotBeForgedByTheSender() {
        try (WsTestClient alice = connect("/ws/alice/");
                WsTestClient bob = connect("/ws/bob/")) {
            roundTripToSelf(alice, "alice");
            roundTripToSelf(bob, "bob");

            alice.send("{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"mallory\"}");

            assertThat(nextNonPresence(bob).get("from").getAsString()).isEqualTo("alice");
        }
    }

    @Test
    void mistakesComeBackToTheSenderAsErrorObjects() {
        try (WsTestClient alice = connect("/ws/alice/")) {
            alice.send("{not json");
            assertThat(nextNonPresence(alice).get("error").getAsString()).isEqualTo("invalid_json");

            alice.send("{\"message\":\"to nobody\"}");
            JsonObject missing = nextNonPresence(alice);
            assertThat(missing.get("error").getAsString()).isEqualTo("missing_field");
            assertThat(missing.get("field").getAsString()).isEqualTo("to_user");

            alice.send(directed("carol", "\"anyone there?\""));
            JsonObject unknown = nextNonPresence(alice);
            assertThat(unknown.get("error").getAsString()).isEqualTo("unknown_recipient");
            assertThat(unknown.get("to_user").getAsString()).isEqualTo("carol");
            assertThat(unknown.has("detail")).isTrue();
        }
    }

    @Test
    void directedRouteKeepsHistorySoAClientResumesWhereItStopped() {
        String epoch;
        try (WsTestClient bob = connect("/ws/bob/")) {
            JsonObject streams =
                    json(bob.awaitTextSkipping(text -> !isStreams(text))).getAsJsonObject("streams");
            epoch = streams.getAsJsonObject("user").get("epoch").getAsString();
            roundTripToSelf(bob, "bob");
        }
        try (WsTestClient alice = connect("/ws/alice/")) {
            alice.send("{\"id\":\"a1\",\"ack\":true,\"to_user\":\"bob\",\"message\":\"while you were away\"}");
            JsonObject ack = nextNonPresence(alice);
            assertThat(ack.get("ack").getAsString())
                    .as("kept for bob, away or leaving")
                    .isEqualTo("a1");
        }
        try (WsTestClient bob = connect("/ws/bob/?resume=user:" + epoch + ":1")) {
            JsonObject missed = nextNonPresence(bob);
            assertThat(missed.get("message").getAsString()).isEqualTo("while you were away");
            assertThat(missed.get("offset").getAsLong()).isEqualTo(2);
            assertThat(nextNonPresence(bob).get("recovered").getAsBoolean()).isTrue();
        }
    }

    @Test
    void directedRouteTellsWhoIsOnlineAndWhoJoinsAndLeaves() {
        try (WsTestClient alice = connect("/ws/alice/")) {
            assertThat(alice.awaitTextSkipping(ExampleRunnerServerTest::isStreams))
                    .isEqualTo("{\"presence\":\"online\",\"users\":[\"alice\"]}");
            try (WsTestClient bob = connect("/ws/bob/")) {
                assertThat(bob.awaitTextSkipping(ExampleRunnerServerTest::isStreams))
                        .isEqualTo("{\"presence\":\"online\",\"users\":[\"alice\",\"bob\"]}");
                assertThat(alice.awaitTextSkipping(ExampleRunnerServerTest::isStreams))
                        .isEqualTo("{\"presence\":\"join\",\"user\":\"bob\"}");
            }
            assertThat(alice.awaitTextSkipping(ExampleRunnerServerTest::isStreams))
                    .isEqualTo("{\"presence\":\"leave\",\"user\":\"bob\"}");
        }
    }

    /**
     * The directed route's chat rooms, which the chat page uses: a member's message reaches every
     * member with the sender the server knows, whatever {@code from} the message claims; a user who
     * did not join is refused with {@code not_in_room} and hears nothing of the room.
     */
    @Test
    void directedRouteHasRoomsWhoseMessagesCarryTheVerifiedSender() {
        try (WsTestClient alice = connect("/ws/alice/");
                WsTestClient bob = connect("/ws/bob/");
                WsTestClient carol = connect("/ws/carol/")) {
            alice.send("{\"join\":\"lobby\",\"id\":\"j1\"}");
            assertThat(nextNonPresence(alice))
                    .isEqualTo(json("{\"joined\":\"lobby\",\"members\":[\"alice\"],\"id\":\"j1\"}"));
            bob.send("{\"join\":\"lobby\"}");
            assertThat(nextNonPresence(bob)).isEqualTo(json("{\"joined\":\"lobby\",\"members\":[\"alice\",\"bob\"]}"));

            bob.send("{\"to_room\":\"lobby\",\"message\":{\"text\":\"hi\"},\"from\":\"mallory\","
                    + "\"id\":\"b1\",\"ack\":true}");

            JsonObject stamped =
                    json("{\"room\":\"lobby\",\"from\":\"bob\",\"message\":{\"text\":\"hi\"},\"id\":\"b1\"}");
            assertThat(nextNonPresence(alice)).as("alice's copy").isEqualTo(stamped);
            JsonObject bobsCopy = nextNonPresence(bob);
            assertThat(bobsCopy).as("the sender's own copy").isEqualTo(stamped);
            JsonObject ack = nextNonPresence(bob);
            assertThat(ack.get("ack").getAsString()).isEqualTo("b1");
            assertThat(ack.get("delivered").getAsInt()).as("alice and bob").isEqualTo(2);

            // carol did not join: refused, and the lobby did not hear her. Bob's message was sent
            // to the members before carol wrote, so had it reached her it would come first.
            carol.send("{\"to_room\":\"lobby\",\"message\":\"let me in\",\"id\":\"c1\"}");
            JsonObject refused = nextNonPresence(carol);
            assertThat(refused.get("error").getAsString()).isEqualTo("not_in_room");
            assertThat(refused.get("room").getAsString()).isEqualTo("lobby");
            assertThat(refused.get("id").getAsString()).isEqualTo("c1");

            // alice leaves; then she is refused too, and bob's next message reaches bob alone
            alice.send("{\"leave\":\"lobby\",\"id\":\"l1\"}");
            assertThat(nextNonPresence(alice)).isEqualTo(json("{\"left\":\"lobby\",\"id\":\"l1\"}"));
            alice.send("{\"to_room\":\"lobby\",\"message\":\"still here?\"}");
            assertThat(nextNonPresence(alice).get("error").getAsString()).isEqualTo("not_in_room");
            bob.send("{\"to_room\":\"lobby\",\"message\":\"alone\"}");
            assertThat(nextNonPresence(bob).get("message").getAsString()).isEqualTo("alone");
            roundTripToSelf(alice, "alice");
            roundTripToSelf(carol, "carol");
        }
    }

    @Test
    void roomsBroadcastOnlyWithinTheSameRoom() {
        try (WsTestClient blue = connect("/rooms/blue/")) {
            blue.send("blue ready");
            assertThat(blue.awaitText()).isEqualTo("blue ready");
            try (WsTestClient red1 = connect("/rooms/red/")) {
                red1.send("red1 ready");
                assertThat(red1.awaitText()).isEqualTo("red1 ready");
                try (WsTestClient red2 = connect("/rooms/red/")) {
                    red2.send("red2 ready");
                    assertThat(red2.awaitText()).isEqualTo("red2 ready");
                    assertThat(red1.awaitText()).isEqualTo("red2 ready");

                    red1.send("only for red");
                    assertThat(red1.awaitText()).isEqualTo("only for red");
                    assertThat(red2.awaitText()).isEqualTo("only for red");

                    // Blue heard none of red's messages: the next thing it receives is its own.
                    blue.send("blue again");
                    assertThat(blue.awaitText()).isEqualTo("blue again");
                    assertThat(blue.pending()).isZero();
                }
            }
        }
    }

    @Test
    void stoppingTheServerClosesOpenConnectionsWithGoingAway() {
        try (WsTestClient client = connect("/echo/")) {
            client.send("still here?");
            assertThat(client.awaitText()).isEqualTo("still here?");

            server.stop();

            assertThat(client.awaitClose().statusCode()).isEqualTo(1001);
        }
    }

    @Test
    void statsServeOpenConnectionsAndPerRouteCountersAsJson() throws Exception {
        try (WsTestClient alice = connect("/ws/alice/");
                WsTestClient echo = connect("/echo/")) {
            echo.send("count me");
            assertThat(echo.awaitText()).isEqualTo("count me");
            roundTripToSelf(alice, "alice");
            alice.send("not json");
            assertThat(alice.awaitTextSkipping(t -> t.contains("\"presence\""))).contains("\"invalid_json\"");
            alice.send("{\"to_user\":\"nobody\",\"message\":\"hi\"}");
            assertThat(alice.awaitTextSkipping(t -> t.contains("\"presence\""))).contains("\"unknown_recipient\"");

            HttpResponse<String> response = get("/stats");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
            JsonObject stats = json(response.body());
            assertThat(stats.get("open").getAsLong()).isEqualTo(2);
            JsonObject routes = stats.getAsJsonObject("routes");
            assertThat(routes.keySet()).contains("/echo/", "/ws/", "/ws/{username}/", "/rooms/{room}/");
            assertThat(routes.getAsJsonObject("/echo/").get("messagesIn").getAsLong())
                    .isEqualTo(1);
            assertThat(routes.getAsJsonObject("/echo/").get("open").getAsLong()).isEqualTo(1);
            assertThat(routes.getAsJsonObject("/echo/").get("errorReplies").getAsLong())
                    .isZero();
            assertThat(routes.getAsJsonObject("/ws/{username}/")
                            .get("errorReplies")
                            .getAsLong())
                    .isEqualTo(2);
            assertThat(stats.getAsJsonObject("total").get("errorReplies").getAsLong())
                    .isEqualTo(2);
        }
    }

    @Test
    void metricsServeTheMetersInPrometheusTextFormat() throws Exception {
        try (WsTestClient alice = connect("/ws/alice/");
                WsTestClient echo = connect("/echo/")) {
            echo.send("count me");
            assertThat(echo.awaitText()).isEqualTo("count me");
            roundTripToSelf(alice, "alice");
            alice.send("not json");
            assertThat(alice.awaitTextSkipping(t -> t.contains("\"presence\""))).contains("\"invalid_json\"");

            HttpResponse<String> response = get("/metrics");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValue(MetricsHandler.CONTENT_TYPE);
            Map<String, PrometheusText.Family> families = PrometheusText.parse(response.body());

            assertThat(families).containsOnlyKeys(METRIC_FAMILIES.keySet());
            METRIC_FAMILIES.forEach((name, type) ->
                    assertThat(families.get(name).type()).as(name).isEqualTo(type));
            assertThat(families.values())
                    .allSatisfy(family -> assertThat(family.help()).isNotBlank());
            for (String family : METRIC_FAMILIES.keySet()) {
                if (family.equals("wsrouter_send_queued_bytes")
                        || family.equals("wsrouter_handshakes_rejected_total")) {
                    continue;
                }
                assertThat(families.get(family).samples())
                        .as(family)
                        .extracting(sample -> sample.labels().get("route"))
                        .containsExactlyInAnyOrder("/echo/", "/ws/", "/ws/{username}/", "/rooms/{room}/");
            }
            assertThat(sample(families, "wsrouter_connections", "route", "/echo/"))
                    .isEqualTo(1);
            assertThat(sample(families, "wsrouter_connections", "route", "/ws/{username}/"))
                    .isEqualTo(1);
            assertThat(sample(families, "wsrouter_connections", "route", "/ws/"))
                    .isZero();
            assertThat(sample(families, "wsrouter_connections_opened_total", "route", "/echo/"))
                    .isEqualTo(1);
            assertThat(sample(families, "wsrouter_messages_received_total", "route", "/echo/"))
                    .isEqualTo(1);
            assertThat(sample(families, "wsrouter_payload_received_bytes_total", "route", "/echo/"))
                    .isEqualTo("count me".length());
            assertThat(sample(families, "wsrouter_error_replies_total", "route", "/ws/{username}/"))
                    .isEqualTo(1);
            assertThat(sample(families, "wsrouter_handshakes_rejected_total", "reason", "origin"))
                    .isZero();
            assertThat(families.get("wsrouter_send_queued_bytes").samples())
                    .singleElement()
                    .satisfies(sample -> assertThat(sample.labels()).isEmpty());
        }
    }

    /** The families of GET /metrics, with their types, as Prometheus' text format names them. */
    private static final Map<String, String> METRIC_FAMILIES = Map.ofEntries(
            Map.entry("wsrouter_connections", "gauge"),
            Map.entry("wsrouter_connections_opened_total", "counter"),
            Map.entry("wsrouter_connections_closed_total", "counter"),
            Map.entry("wsrouter_messages_received_total", "counter"),
            Map.entry("wsrouter_messages_sent_total", "counter"),
            Map.entry("wsrouter_payload_received_bytes_total", "counter"),
            Map.entry("wsrouter_payload_sent_bytes_total", "counter"),
            Map.entry("wsrouter_error_replies_total", "counter"),
            Map.entry("wsrouter_slow_consumer_closes_total", "counter"),
            Map.entry("wsrouter_messages_dropped_total", "counter"),
            Map.entry("wsrouter_handshakes_rejected_total", "counter"),
            Map.entry("wsrouter_send_queued_bytes", "gauge"));

    /** The value of the one sample of a family with this label. */
    private static double sample(
            Map<String, PrometheusText.Family> families, String family, String label, String value) {
        assertThat(families).containsKey(family);
        return families.get(family).samples().stream()
                .filter(sample -> value.equals(sample.labels().get(label)))
                .reduce((a, b) -> {
                    throw new AssertionError("two samples of " + family + " with " + label + "=" + value);
                })
                .orElseThrow(() -> new AssertionError("no sample of " + family + " with " + label + "=" + value))
                .value();
    }
}
