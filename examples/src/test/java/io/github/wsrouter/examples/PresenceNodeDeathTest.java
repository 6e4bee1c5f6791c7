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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A runner that dies without a word ({@code kill -9}) has its users leave everywhere within the
 * presence timeout: two runners share one real redis-server, A in this JVM and B a child JVM, both
 * as {@code --redis} makes them (a random node id, {@code RedisRelay}'s default presence timeout of
 * 15 s). alice on A sees bob on B; B is killed with SIGKILL, so it removes nothing from Redis; alice
 * is told {@code {"presence":"leave","user":"bob"}} within the timeout plus a margin (the time is
 * printed), A's relay never took its view for stale, and a runner started afterwards in a new
 * process does not bring bob back: carol on it is told exactly alice and carol are online.
 */
@Tag("redis") // left out by -Pfast
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PresenceNodeDeathTest {

    /** {@code RedisRelay.Builder.presenceTimeout}'s default, which the runner keeps. */
    private static final Duration PRESENCE_TIMEOUT = Duration.ofSeconds(15);
    /** What the leave may take beyond the timeout: the reaper's period, a publish, a WebSocket frame. */
    private static final Duration MARGIN = Duration.ofSeconds(5);
    /** The longest wait for anything else: a child JVM's start, a join, an online list. */
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** The Redis hash of the runner's directed route's users ({@code <prefix>:<route>:presence:<group>}). */
    private static final String USERS_HASH = "wsrouter:/ws/{username}/:presence:";

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<WsTestClient> clients = new ArrayList<>();
    private final List<ChildRunner> children = new ArrayList<>();
    private RedisServerProcess redis;
    private RedisWithRunner cluster;
    private StatefulRedisConnection<String, String> redisConnection;
    private WsServer runnerA;

    @BeforeEach
    void startRedisAndRunnerA() {
        cluster = RedisWithRunner.start();
        redis = cluster.redis;
        redisConnection = cluster.commands;
        runnerA = cluster.runner;
    }

    @AfterEach
    void stopEverything() {
        clients.forEach(WsTestClient::close);
        children.forEach(ChildRunner::close);
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aRunnerKilledWithSigkillHasItsUserLeaveWithinTheTimeoutAndARunnerStartedAfterDoesNotBringHimBack()
            throws Exception {
        ChildRunner runnerB = startChild("runner-b");

        WsTestClient alice = connect(runnerA.port(), "/ws/alice/");
        PresenceView alicesView = new PresenceView("alice", alice);
        WsTestClient bob = connect(runnerB.port, "/ws/bob/");
        PresenceView bobsView = new PresenceView("bob", bob);
        alicesView.awaitOnline(Set.of("alice", "bob"), WAIT);
        bobsView.awaitOnline(Set.of("alice", "bob"), WAIT);
        assertThat(redisConnection.sync().hkeys(USERS_HASH)).containsExactlyInAnyOrder("alice", "bob");

        // SIGKILL: B has no shutdown hook, no graceful stop, nothing said to Redis
        long killedAt = System.nanoTime();
        runnerB.process.destroyForcibly();
        assertThat(runnerB.process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS))
                .as("runner B gone after SIGKILL")
                .isTrue();
        assertThat(runnerB.process.exitValue())
                .as("exit status: 128 + SIGKILL (9)")
                .isEqualTo(137);

        JsonObject leave = alicesView.awaitChange(
                "leave",
                "bob",
                Duration.ofNanos(PRESENCE_TIMEOUT.plus(MARGIN).toNanos() - (System.nanoTime() - killedAt)));
        Duration took = Duration.ofNanos(System.nanoTime() - killedAt);
        System.out.printf(
                "PresenceNodeDeathTest: bob's leave reached alice %d ms after runner B's SIGKILL"
                        + " (presence timeout %d s, bound %d s)%n",
                took.toMillis(),
                PRESENCE_TIMEOUT.toSeconds(),
                PRESENCE_TIMEOUT.plus(MARGIN).toSeconds());
        assertThat(leave.toString())
                .isIn(
                        "{\"presence\":\"leave\",\"user\":\"bob\"}",
                        "{\"presence\":\"changes\",\"joined\":[],\"left\":[\"bob\"]}");
        assertThat(took).isLessThanOrEqualTo(PRESENCE_TIMEOUT.plus(MARGIN));
        assertThat(alicesView.users).containsExactly("alice");
        assertThat(redisConnection.sync().hkeys(USERS_HASH)).containsExactly("alice");

        // A lost a peer, not Redis: its relay never marked its view stale nor lost its subscription
        JsonObject relayA = relayStats(runnerA.port());
        assertThat(relayA.get("presenceStale").getAsLong())
                .as("A's relay: %s", relayA)
                .isZero();
        assertThat(relayA.get("subscriptionLosses").getAsLong())
                .as("A's relay: %s", relayA)
                .isZero();

        // a new runner, in a new process (a new node id and life): bob is not back
        ChildRunner runnerB2 = startChild("runner-b2");
        assertThat(runnerB2.process.pid()).isNotEqualTo(runnerB.process.pid());
        List<String> carolsOnline = onlineListOfNewConnection(runnerB2, "carol");
        assertThat(carolsOnline).as("the online list carol gets on B2").containsExactly("alice", "carol");
        alicesView.awaitOnline(Set.of("alice", "carol"), WAIT);
        assertThat(alicesView.changes)
                .as("alice's presence changes since she connected")
                .startsWith("join bob", "leave bob")
                .contains("join carol")
                .filteredOn(change -> change.endsWith(" bob"))
                .hasSize(2);
        await("Redis's users: alice and carol")
                .atMost(WAIT)
                .until(() -> Set.copyOf(redisConnection.sync().hkeys(USERS_HASH)), Set.of("alice", "carol")::equals);
    }

    /**
     * Connects {@code user} to the runner and returns the users of the first online list it gets
     * that is not stale. A runner that has just started may not have read Redis's view yet; its
     * online list then says {@code "stale": true}, and the user connects again (bounded).
     */
    private List<String> onlineListOfNewConnection(ChildRunner runner, String user) {
        AtomicReference<List<String>> users = new AtomicReference<>();
        AtomicInteger attempts = new AtomicInteger();
        await(user + "'s online list, not stale, on " + runner.name)
                .atMost(WAIT)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    attempts.incrementAndGet();
                    WsTestClient client = connect(runner.port, "/ws/" + user + "/");
                    JsonObject online = nextPresence(client, Duration.ofSeconds(WsTestClient.TIMEOUT_SECONDS));
                    assertThat(online.get("presence").getAsString())
                            .as("first presence object: %s", online)
                            .isEqualTo("online");
                    if (online.has("stale") && online.get("stale").getAsBoolean()) {
                        client.close();
                        clients.remove(client);
                        return false;
                    }
                    List<String> names = new ArrayList<>();
                    online.getAsJsonArray("users").forEach(name -> names.add(name.getAsString()));
                    users.set(names);
                    return true;
                });
        System.out.printf(
                "PresenceNodeDeathTest: %s's online list on %s, not stale, at connection %d: %s%n",
                user, runner.name, attempts.get(), users.get());
        return users.get();
    }

    /** What one connection knows of who is online: its online list, then each join and leave, in order. */
    private static final class PresenceView {
        final String who;
        final WsTestClient client;
        final TreeSet<String> users = new TreeSet<>();
        /** "join bob", "leave bob", ...: every change after the online list. */
        final List<String> changes = new ArrayList<>();

        PresenceView(String who, WsTestClient client) {
            this.who = who;
            this.client = client;
            JsonObject online = nextPresence(client, WAIT);
            assertThat(online.get("presence").getAsString())
                    .as("%s's first presence object: %s", who, online)
                    .isEqualTo("online");
            online.getAsJsonArray("users").forEach(name -> users.add(name.getAsString()));
        }

        /** Takes presence changes until the users are exactly {@code expected}, at most {@code timeout}. */
        void awaitOnline(Set<String> expected, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!users.equals(new TreeSet<>(expected))) {
                next(remaining(deadline, expected.toString()));
            }
        }

        /**
         * Takes presence objects until one changes the view by {@code kind} of {@code user}, at most
         * {@code timeout}; returns that object (a {@code join}/{@code leave}, or a window's {@code changes}).
         */
        JsonObject awaitChange(String kind, String user, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                int before = changes.size();
                JsonObject change = next(remaining(deadline, kind + " " + user));
                if (changes.subList(before, changes.size()).contains(kind + " " + user)) {
                    return change;
                }
            }
        }

        private Duration remaining(long deadline, String what) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail(who + " waited in vain for " + what + "; online now " + users + ", changes " + changes);
            }
            return Duration.ofNanos(left);
        }

        /** The next presence object, applied to the view; what it changed is recorded (a join of someone present is no change). */
        private JsonObject next(Duration timeout) {
            JsonObject change = nextPresence(client, timeout);
            String kind = change.get("presence").getAsString();
            switch (kind) {
                case "join" -> record(true, change.get("user").getAsString());
                case "leave" -> record(false, change.get("user").getAsString());
                case "changes" -> { // several servers: the changes of one 100 ms window
                    change.getAsJsonArray("joined").forEach(name -> record(true, name.getAsString()));
                    change.getAsJsonArray("left").forEach(name -> record(false, name.getAsString()));
                }
                default -> fail(who + " got a presence object other than join, leave or changes: " + change);
            }
            return change;
        }

        private void record(boolean join, String user) {
            if (join ? users.add(user) : users.remove(user)) {
                changes.add((join ? "join " : "leave ") + user);
            }
        }
    }

    /** The next presence object on the connection, skipping anything else (stream positions, gap notices). */
    private static JsonObject nextPresence(WsTestClient client, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, deadline - System.nanoTime());
            String text = client.awaitText(Duration.ofNanos(left));
            JsonElement element = JsonParser.parseString(text);
            if (element.isJsonObject() && element.getAsJsonObject().has("presence")) {
                return element.getAsJsonObject();
            }
        }
    }

    /** A runner's {@code GET /stats}, its {@code relay} object. */
    private JsonObject relayStats(int port) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats"))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(200);
        return JsonParser.parseString(response.body()).getAsJsonObject().getAsJsonObject("relay");
    }

    private ChildRunner startChild(String name) throws IOException, InterruptedException {
        ChildRunner child =
                ChildRunner.start(name, "--port", "0", "--redis", redis.uri().toString());
        children.add(child);
        return child;
    }

    private WsTestClient connect(int port, String path) {
        WsTestClient client = WsTestClient.connect(http, port, path);
        clients.add(client);
        return client;
    }

    /** {@code ExampleRunner.main} in a child JVM on the test class path: its port, and its stderr kept. */
    private static final class ChildRunner implements AutoCloseable {
        final String name;
        final Process process;
        final StringBuffer stderr = new StringBuffer();
        int port;

        private ChildRunner(String name, Process process) {
            this.name = name;
            this.process = process;
        }

        static ChildRunner start(String name, String... args) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    ExampleRunner.class.getName()));
            command.addAll(List.of(args));
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            ChildRunner child = new ChildRunner(name, process);
            Thread reader = new Thread(
                    () -> {
                        try (BufferedReader in = new BufferedReader(
                                new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                            for (String line; (line = in.readLine()) != null; ) {
                                child.stderr.append(line).append('\n');
                            }
                        } catch (IOException e) {
                            child.stderr.append("<read failed: ").append(e).append(">\n");
                        }
                    },
                    name + "-stderr");
            reader.setDaemon(true);
            reader.start();
            try {
                child.port = ExampleRunnerMainProcessTest.awaitListeningPort(process);
            } catch (AssertionError e) {
                child.close();
                throw new AssertionError(e.getMessage() + "; " + name + "'s stderr:\n" + child.stderr, e);
            }
            return child;
        }

        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
