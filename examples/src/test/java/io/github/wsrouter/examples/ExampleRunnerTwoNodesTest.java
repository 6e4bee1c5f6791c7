package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.Relay.Topic;
import io.github.wsrouter.redis.RedisRelay;
import io.github.wsrouter.redis.RedisServerProcess;
import io.github.wsrouter.server.WsServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two runners on two ports with the same {@code --redis} form one chat: alice on one, bob on the
 * other, talking directly and by broadcast, both ways.
 */
@Tag("redis") // left out by -Pfast
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExampleRunnerTwoNodesTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<WsTestClient> clients = new ArrayList<>();
    private RedisServerProcess redis;
    private WsServer first;
    private WsServer second;

    @BeforeEach
    void startRunners() {
        redis = RedisServerProcess.start();
        first = launch("--port", "0", "--redis", redis.uri().toString());
        second = launch("--port", "0", "--redis", redis.uri().toString());
    }

    @AfterEach
    void stopRunners() {
        clients.forEach(WsTestClient::close);
        for (WsServer server : new WsServer[] {first, second}) {
            if (server != null) {
                server.stop();
            }
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void aliceOnOneRunnerAndBobOnTheOtherTalkDirectlyAndByBroadcast() {
        WsTestClient alice = connect(first, "/ws/alice/");
        WsTestClient bob = connect(second, "/ws/bob/");
        // the route keeps history in Redis: a user can be written to once their streams are open
        alice.awaitTextSkipping(text -> !ExampleRunnerServerTest.isStreams(text));
        bob.awaitTextSkipping(text -> !ExampleRunnerServerTest.isStreams(text));
        await().atMost(WAIT)
                .until(() -> subscribed(first, "/ws/{username}/", Topic.user("alice"))
                        && subscribed(second, "/ws/{username}/", Topic.user("bob"))
                        && subscribed(first, "/ws/{username}/", Topic.route())
                        && subscribed(second, "/ws/{username}/", Topic.route()));

        alice.send("{\"to_user\":\"bob\",\"message\":\"hi bob\"}");
        JsonObject toBob = next(bob);
        assertThat(toBob.get("message").getAsString()).isEqualTo("hi bob");
        assertThat(toBob.get("from").getAsString()).isEqualTo("alice");

        bob.send("{\"to_user\":\"alice\",\"message\":\"hi alice\"}");
        JsonObject toAlice = next(alice);
        assertThat(toAlice.get("message").getAsString()).isEqualTo("hi alice");
        assertThat(toAlice.get("from").getAsString()).isEqualTo("bob");

        // everyone ("*") on the directed route: both runners' people, the sender included
        alice.send("{\"to_user\":\"*\",\"message\":\"hello all\"}");
        assertThat(next(alice).get("message").getAsString()).isEqualTo("hello all");
        assertThat(next(bob).get("message").getAsString()).isEqualTo("hello all");
        bob.send("{\"to_user\":\"*\",\"message\":\"hello from bob\"}");
        assertThat(next(bob).get("message").getAsString()).isEqualTo("hello from bob");
        assertThat(next(alice).get("message").getAsString()).isEqualTo("hello from bob");

        // the seed's broadcast route and a room, across the two runners
        WsTestClient one = connect(first, "/ws/");
        WsTestClient two = connect(second, "/ws/");
        WsTestClient lobby1 = connect(first, "/rooms/lobby/");
        WsTestClient lobby2 = connect(second, "/rooms/lobby/");
        await().atMost(WAIT)
                .until(() -> subscribed(first, "/ws/", Topic.route())
                        && subscribed(second, "/ws/", Topic.route())
                        && subscribed(first, "/rooms/{room}/", Topic.room("lobby"))
                        && subscribed(second, "/rooms/{room}/", Topic.room("lobby")));
        one.send("from one");
        assertThat(two.awaitText()).isEqualTo("from one");
        two.send("from two");
        assertThat(one.awaitText()).isEqualTo("from one");
        assertThat(one.awaitText()).isEqualTo("from two");
        lobby2.send("lobby from two");
        assertThat(lobby1.awaitText()).isEqualTo("lobby from two");

        // and someone connected to neither runner is unknown
        alice.send("{\"to_user\":\"carol\",\"message\":\"?\"}");
        assertThat(next(alice).get("error").getAsString()).isEqualTo("unknown_recipient");
    }

    @Test
    void anUnreachableRedisIsOneLineAndExitStatusTwo() {
        String uri = redis.uri().toString();
        redis.kill();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExampleRunner.Launch launch;
        try (PrintStream o = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            launch = ExampleRunner.launch(new String[] {"--port", "0", "--redis", uri}, o, e);
        }
        assertThat(launch.exitCode()).isEqualTo(ExampleRunner.EXIT_USAGE);
        assertThat(launch.server()).isNull();
        String message = err.toString(StandardCharsets.UTF_8);
        assertThat(message).startsWith(ExampleRunner.PROGRAM + ": cannot reach Redis at " + uri);
        assertThat(message.strip().lines()).hasSize(1);
    }

    /** Starts a runner in this JVM with the arguments; it must start and say nothing on stderr. */
    static WsServer launch(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExampleRunner.Launch launch;
        try (PrintStream o = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            launch = ExampleRunner.launch(args, o, e);
        }
        assertThat(err.toString(StandardCharsets.UTF_8)).as("stderr").isEmpty();
        assertThat(launch.server()).as("started runner").isNotNull();
        return launch.server();
    }

    private WsTestClient connect(WsServer server, String path) {
        WsTestClient client = WsTestClient.connect(http, server.port(), path);
        clients.add(client);
        return client;
    }

    private static boolean subscribed(WsServer server, String route, Topic topic) {
        return ((RedisRelay) server.relay()).isSubscribed(route, topic);
    }

    /** The next message that is not a presence object. */
    private static JsonObject next(WsTestClient client) {
        return JsonParser.parseString(client.awaitTextSkipping(ExampleRunnerServerTest::isNotice))
                .getAsJsonObject();
    }
}
