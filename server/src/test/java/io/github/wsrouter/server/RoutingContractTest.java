package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.MessageRouter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every transport must show, written once: each subclass starts the same routes on
 * its transport and the same scenarios run against it.
 */
@Timeout(60)
abstract class RoutingContractTest {

    private final List<ServerUnderTest> servers = new ArrayList<>();

    /** Starts the routes on the transport under test. */
    protected abstract ServerUnderTest start(Map<String, MessageRouter> routes);

    private ServerUnderTest serve(Map<String, MessageRouter> routes) {
        ServerUnderTest server = start(routes);
        servers.add(server);
        return server;
    }

    private ServerUnderTest serve(String template, MessageRouter router) {
        return serve(Map.of(template, router));
    }

    @AfterEach
    void stopServers() {
        servers.forEach(ServerUnderTest::stop);
    }

    @Test
    void echoSendsTextAndBinaryBackToTheSenderOnly() {
        ServerUnderTest server = serve("/echo/", EchoRouter.create());
        Peer one = server.connect("/echo/");
        Peer two = server.connect("/echo/");

        one.sendText("hello");
        one.sendBinary(new byte[] {1, 2, 3});
        two.sendText("two");

        assertThat(one.awaitText()).isEqualTo("hello");
        assertThat(bytes(one.awaitBinary())).containsExactly(1, 2, 3);
        assertThat(two.awaitText()).isEqualTo("two");
    }

    @Test
    void echoKeepsUnicodeIntact() {
        ServerUnderTest server = serve("/echo/", EchoRouter.create());
        Peer peer = server.connect("/echo/");
        String text = "héllo wörld ✓ 😀 中文";
        peer.sendText(text);
        assertThat(peer.awaitText()).isEqualTo(text);
    }

    @Test
    void broadcastReachesEveryConnectionIncludingTheSender() {
        ObservedRouter router = new ObservedRouter(BroadcastRouter.create());
        ServerUnderTest server = serve("/ws/", router);
        Peer alice = server.connect("/ws/");
        Peer bob = server.connect("/ws/");
        Peer carol = server.connect("/ws/");
        router.awaitOpens(3);

        bob.sendText("hi all");

        assertThat(alice.awaitText()).isEqualTo("hi all");
        assertThat(bob.awaitText()).isEqualTo("hi all");
        assertThat(carol.awaitText()).isEqualTo("hi all");
    }

    @Test
    void broadcastCanLeaveOutTheSender() {
        ObservedRouter router =
                new ObservedRouter(BroadcastRouter.builder().excludeSender(true).build());
        ServerUnderTest server = serve("/ws/", router);
        Peer alice = server.connect("/ws/");
        Peer bob = server.connect("/ws/");
        router.awaitOpens(2);

        alice.sendText("from alice");
        bob.sendText("from bob");

        assertThat(bob.awaitText()).isEqualTo("from alice");
        assertThat(alice.awaitText()).isEqualTo("from bob");
    }

    @Test
    void roomBroadcastStaysInItsRoom() {
        roomsStayApart(BroadcastRouter.builder().roomParameter("room").build());
    }

    @Test
    void aRouterOnThePublicGroupApiKeepsRoomsApart() {
        roomsStayApart(new GroupChatRouter());
    }

    private void roomsStayApart(MessageRouter rooms) {
        ObservedRouter router = new ObservedRouter(rooms);
        ServerUnderTest server = serve("/rooms/{room}/", router);
        Peer blue1 = server.connect("/rooms/blue/");
        Peer blue2 = server.connect("/rooms/blue/");
        Peer red = server.connect("/rooms/red/");
        router.awaitOpens(3);

        blue1.sendText("blue news");
        red.sendText("red news");

        assertThat(blue1.awaitText()).isEqualTo("blue news");
        assertThat(blue2.awaitText()).isEqualTo("blue news");
        assertThat(red.awaitText()).isEqualTo("red news"); // not "blue news": it never came
    }

    @Test
    void directedMessageReachesOnlyTheRecipientWithTheSenderStamped() {
        ObservedRouter router = new ObservedRouter(DirectedJsonRouter.create());
        ServerUnderTest server = serve("/ws/{username}/", router);
        Peer alice = server.connect("/ws/alice/");
        Peer bob = server.connect("/ws/bob/");
        Peer carol = server.connect("/ws/carol/");
        router.awaitOpens(3);

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi bob\",\"from\":\"mallory\"}");
        JsonObject received = json(bob.awaitText());
        assertThat(received.get("message").getAsString()).isEqualTo("hi bob");
        assertThat(received.get("from").getAsString()).isEqualTo("alice");
        assertThat(received.get("to_user").getAsString()).isEqualTo("bob");

        // carol's and alice's next messages are these markers: the message to bob never reached them
        bob.sendText("{\"to_user\":\"carol\",\"message\":\"marker\"}");
        bob.sendText("{\"to_user\":\"alice\",\"message\":\"marker\"}");
        assertThat(json(carol.awaitText()).get("message").getAsString()).isEqualTo("marker");
        assertThat(json(alice.awaitText()).get("message").getAsString()).isEqualTo("marker");
    }

    @Test
    void unknownRecipientGetsErrorAndStaysOpen() {
        ObservedRouter router = new ObservedRouter(DirectedJsonRouter.create());
        ServerUnderTest server = serve("/ws/{username}/", router);
        Peer alice = server.connect("/ws/alice/");
        router.awaitOpens(1);

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"anyone?\"}");
        JsonObject error = json(alice.awaitText());
        assertThat(error.get("error").getAsString()).isEqualTo("unknown_recipient");
        assertThat(error.get("to_user").getAsString()).isEqualTo("bob");
        assertThat(error.get("detail").getAsString()).isNotBlank();

        alice.sendText("{\"to_user\":\"alice\",\"message\":\"still here\"}");
        assertThat(json(alice.awaitText()).get("message").getAsString()).isEqualTo("still here");
    }

    @Test
    void invalidJsonGetsErrorAndStaysOpen() {
        ObservedRouter router = new ObservedRouter(DirectedJsonRouter.create());
        ServerUnderTest server = serve("/ws/{username}/", router);
        Peer alice = server.connect("/ws/alice/");
        router.awaitOpens(1);

        alice.sendText("this is not json");
        assertThat(json(alice.awaitText()).get("error").getAsString()).isEqualTo("invalid_json");
        alice.sendText("{\"message\":\"no recipient\"}");
        JsonObject missing = json(alice.awaitText());
        assertThat(missing.get("error").getAsString()).isEqualTo("missing_field");
        assertThat(missing.get("field").getAsString()).isEqualTo("to_user");
        alice.sendBinary(new byte[] {1});
        assertThat(json(alice.awaitText()).get("error").getAsString()).isEqualTo("unsupported_binary");

        alice.sendText("{\"to_user\":\"alice\",\"message\":\"fine\"}");
        assertThat(json(alice.awaitText()).get("message").getAsString()).isEqualTo("fine");
    }

    @Test
    void everyConnectionOfOneUserReceives() {
        ObservedRouter router = new ObservedRouter(DirectedJsonRouter.create());
        ServerUnderTest server = serve("/ws/{username}/", router);
        Peer bobTab1 = server.connect("/ws/bob/");
        Peer bobTab2 = server.connect("/ws/bob/");
        Peer alice = server.connect("/ws/alice/");
        router.awaitOpens(3);

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"both tabs\"}");

        assertThat(json(bobTab1.awaitText()).get("message").getAsString()).isEqualTo("both tabs");
        assertThat(json(bobTab2.awaitText()).get("message").getAsString()).isEqualTo("both tabs");
    }

    @Test
    void userIsUnknownAgainAfterTheirLastConnectionCloses() {
        DirectedJsonRouter directed = DirectedJsonRouter.create();
        ObservedRouter router = new ObservedRouter(directed);
        ServerUnderTest server = serve("/ws/{username}/", router);
        Peer alice = server.connect("/ws/alice/");
        Peer bob = server.connect("/ws/bob/");
        router.awaitOpens(2);

        bob.close(CloseStatus.NORMAL);
        assertThat(router.await("close").status().code()).isEqualTo(1000);
        assertThat(directed.isOnline("bob")).isFalse();

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"gone?\"}");
        assertThat(json(alice.awaitText()).get("error").getAsString()).isEqualTo("unknown_recipient");
    }

    @Test
    void droppedClientIsForgottenAndBroadcastGoesOn() {
        BroadcastRouter broadcast = BroadcastRouter.create();
        ObservedRouter router = new ObservedRouter(broadcast);
        ServerUnderTest server = serve("/ws/", router);
        Peer stays = server.connect("/ws/");
        Peer drops = server.connect("/ws/");
        router.awaitOpens(2);

        drops.abort();
        ObservedRouter.Event closed = router.await("close", "error");
        assertThat(closed.connection().isOpen()).isFalse();
        assertThat(broadcast.connectionCount()).isEqualTo(1);

        stays.sendText("after the drop");
        assertThat(stays.awaitText()).isEqualTo("after the drop");
        assertThat(broadcast.connectionCount()).isEqualTo(1);

        stays.close(CloseStatus.NORMAL);
        router.await("close", "error");
        assertThat(broadcast.connectionCount()).isZero();
        assertThat(broadcast.rooms()).isEmpty();
    }

    @Test
    void everySendToAPeerThatVanishesCompletesOneWayOrTheOther() {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        ServerUnderTest server = serve("/echo/", router);
        Peer peer = server.connect("/echo/");
        Connection connection = router.await("open").connection();
        String kilobyte = "x".repeat(1024);
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            sends.add(connection.sendText(kilobyte).toCompletableFuture());
        }

        peer.abort();
        for (int i = 0; i < 200; i++) { // while the drop is found out, and after
            sends.add(connection.sendText(kilobyte).toCompletableFuture());
        }
        router.await("close", "error");

        // written, or failed with the connection: none is left hanging, nothing stays counted
        CompletableFuture<?>[] settled =
                sends.stream().map(send -> send.handle((done, failure) -> null)).toArray(CompletableFuture[]::new);
        assertThat(CompletableFuture.allOf(settled)).succeedsWithin(java.time.Duration.ofSeconds(10));
        assertThat(connection.queuedBytes()).isZero();
        assertThat(connection.sendText("late").toCompletableFuture()).failsWithin(java.time.Duration.ofSeconds(5));
    }

    @Test
    void clientCloseReachesTheRouterWithItsStatus() {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        ServerUnderTest server = serve("/echo/", router);
        Peer peer = server.connect("/echo/");
        router.awaitOpens(1);

        peer.close(CloseStatus.of(4001, "bye"));

        ObservedRouter.Event closed = router.await("close");
        assertThat(closed.status()).isEqualTo(CloseStatus.of(4001, "bye"));
        assertThat(closed.connection().isOpen()).isFalse();
        assertThat(closed.connection().sendText("late").toCompletableFuture())
                .failsWithin(java.time.Duration.ofSeconds(5));
    }

    @Test
    void routerFailureClosesThatConnectionWith1011AndOthersCarryOn() {
        MessageRouter failing = new MessageRouter() {
            @Override
            public void onText(Connection connection, String text) {
                if (text.equals("boom")) {
                    throw new IllegalStateException("router bug");
                }
                connection.sendText("ok " + text);
            }
        };
        ObservedRouter router = new ObservedRouter(failing);
        ServerUnderTest server = serve("/fragile/", router);
        Peer victim = server.connect("/fragile/");
        Peer bystander = server.connect("/fragile/");
        router.awaitOpens(2);

        victim.sendText("boom");

        assertThat(victim.awaitClose().code()).isEqualTo(1011);
        assertThat(router.await("error").error()).hasMessage("router bug");
        assertThat(router.await("close").status().code()).isEqualTo(1011);
        bystander.sendText("still fine");
        assertThat(bystander.awaitText()).isEqualTo("ok still fine");
    }

    @Test
    void stopClosesEveryConnectionWithGoingAway() {
        ObservedRouter router = new ObservedRouter(BroadcastRouter.create());
        ServerUnderTest server = serve(Map.of("/ws/", router, "/echo/", EchoRouter.create()));
        Peer one = server.connect("/ws/");
        Peer two = server.connect("/ws/");
        Peer echo = server.connect("/echo/");
        router.awaitOpens(2);

        server.stop();

        assertThat(one.awaitClose().code()).isEqualTo(1001);
        assertThat(two.awaitClose().code()).isEqualTo(1001);
        assertThat(echo.awaitClose().code()).isEqualTo(1001);
        assertThat(router.await("close").status().code()).isEqualTo(1001);
        assertThat(router.await("close").status().code()).isEqualTo(1001);
    }

    @Test
    void eightSendersToFiftyListenersLoseNothingAndKeepEachSendersOrder() throws Exception {
        fanOut(new ObservedRouter(BroadcastRouter.create()));
    }

    @Test
    void aRouterOnThePublicGroupApiLosesNothingKeepsOrderAndForgetsClosedMembers() throws Exception {
        GroupChatRouter groupChat = new GroupChatRouter();
        ObservedRouter router = new ObservedRouter(groupChat);
        List<Peer> everyone = fanOut(router);
        assertThat(groupChat.groups.size()).isEqualTo(58);

        for (Peer leaving : everyone.subList(0, 10)) {
            leaving.close(CloseStatus.NORMAL);
        }
        for (int i = 0; i < 10; i++) {
            router.await("close");
        }
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> groupChat.groups.size() == 48);
        Peer last = everyone.get(everyone.size() - 1);
        last.sendText("after the leavers");
        for (Peer staying : everyone.subList(10, everyone.size())) {
            assertThat(staying.awaitText()).isEqualTo("after the leavers");
        }
    }

    /**
     * 8 senders × 500 messages to 50 listeners on {@code /ws/}: every peer (senders too) gets every
     * message, each sender's in order, none twice.
     *
     * @return the peers, listeners first
     */
    private List<Peer> fanOut(ObservedRouter router) throws Exception {
        int senders = 8;
        int listeners = 50;
        int perSender = 500;
        ServerUnderTest server = serve("/ws/", router);
        List<Peer> listening = new ArrayList<>();
        for (int i = 0; i < listeners; i++) {
            listening.add(server.connect("/ws/"));
        }
        List<Peer> sending = new ArrayList<>();
        for (int i = 0; i < senders; i++) {
            sending.add(server.connect("/ws/"));
        }
        router.awaitOpens(listeners + senders);

        ExecutorService pool = Executors.newFixedThreadPool(senders + listeners);
        try {
            List<Future<?>> sends = new ArrayList<>();
            for (int s = 0; s < senders; s++) {
                Peer sender = sending.get(s);
                int id = s;
                sends.add(pool.submit(() -> {
                    for (int n = 0; n < perSender; n++) {
                        sender.sendText(id + ":" + n);
                    }
                }));
            }
            List<Future<String>> checks = new ArrayList<>();
            List<Peer> everyone = new ArrayList<>(listening);
            everyone.addAll(sending);
            for (Peer peer : everyone) {
                checks.add(pool.submit(() -> verifyAllInOrder(peer, senders, perSender)));
            }
            for (Future<?> send : sends) {
                send.get(60, TimeUnit.SECONDS);
            }
            for (Future<String> check : checks) {
                assertThat(check.get(60, TimeUnit.SECONDS)).isEqualTo("ok");
            }
            return everyone;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Reads senders × perSender messages; each sender's must come in order, none twice. */
    private static String verifyAllInOrder(Peer peer, int senders, int perSender) {
        int[] next = new int[senders];
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < senders * perSender; i++) {
            String message = peer.awaitText();
            if (!seen.add(message)) {
                return "duplicate " + message;
            }
            int colon = message.indexOf(':');
            int sender = Integer.parseInt(message.substring(0, colon));
            int n = Integer.parseInt(message.substring(colon + 1));
            if (n != next[sender]) {
                return "sender " + sender + ": expected " + next[sender] + " but got " + n;
            }
            next[sender]++;
        }
        return "ok";
    }

    static Map<String, MessageRouter> routes(Object... templateAndRouter) {
        Map<String, MessageRouter> routes = new LinkedHashMap<>();
        for (int i = 0; i < templateAndRouter.length; i += 2) {
            routes.put((String) templateAndRouter[i], (MessageRouter) templateAndRouter[i + 1]);
        }
        return routes;
    }

    static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    static String utf8(ByteBuffer buffer) {
        return StandardCharsets.UTF_8.decode(buffer.duplicate()).toString();
    }

    static <T> T join(CompletableFuture<T> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }
}
