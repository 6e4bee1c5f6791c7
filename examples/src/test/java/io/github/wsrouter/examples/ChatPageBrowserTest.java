package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.server.WsServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/**
 * The chat page in a real browser: headless Chromium sessions (alice, bob, carol) against one example
 * runner started in this JVM on a free port. Each step is saved as a PNG under
 * {@code examples/target/screenshots/} so a person can see what the test saw.
 *
 * <p>Needs the Debian packages {@code chromium} and {@code chromium-driver}: without them the tests
 * are skipped, or fail under {@code CI=true}. See {@link ChatPage}.
 */
@Tag("browser") // left out by -Pfast
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ChatPageBrowserTest {

    /** Console errors Chromium itself logs while the server is down: not the page's fault. */
    private static final Pattern REFUSED_WHILE_SERVER_DOWN =
            Pattern.compile("WebSocket connection to 'ws://127\\.0\\.0\\.1:\\d+/ws/alice/(\\?resume=[^']*)?' failed");

    private static final Path SCREENSHOTS = Path.of(System.getProperty("screenshots.dir", "target/screenshots"));

    /** One browser per person, started on first use and shared by the scenarios of this class. */
    private static final Map<String, ChatPage> BROWSERS = new LinkedHashMap<>();

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<ChatPage> pages = new ArrayList<>();
    private final List<WsTestClient> clients = new ArrayList<>();
    private Pattern allowedConsoleErrors;
    private WsServer server;
    private int port;

    @BeforeAll
    static void browserIsInstalled() {
        ChatPage.requireBrowser();
    }

    @AfterAll
    static void quitBrowsers() {
        BROWSERS.values().forEach(ChatPage::close);
        BROWSERS.clear();
    }

    @BeforeEach
    void startRunner() {
        server = launch(0);
        port = server.port();
    }

    @AfterEach
    void leavePagesWithoutConsoleErrorsThenStop(TestInfo test) {
        Map<String, List<String>> errors = new LinkedHashMap<>();
        try {
            for (ChatPage page : pages) {
                errors.put(page.who(), page.leave(allowedConsoleErrors));
            }
        } finally {
            clients.forEach(WsTestClient::close);
            if (server != null) {
                server.stop();
            }
        }
        assertThat(errors)
                .as("console errors in %s", test.getDisplayName())
                .allSatisfy((who, list) -> assertThat(list).isEmpty());
    }

    // ---- helpers ----

    /** Starts the example runner as {@code --host 127.0.0.1 --port port} would. */
    private static WsServer launch(int port, String... extraArgs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExampleRunner.Launch launch;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            String[] args = java.util.stream.Stream.concat(
                            java.util.stream.Stream.of("--host", "127.0.0.1", "--port", String.valueOf(port)),
                            java.util.Arrays.stream(extraArgs))
                    .toArray(String[]::new);
            launch = ExampleRunner.launch(args, o, e);
        }
        assertThat(launch.server())
                .as("runner on port %d; stderr: %s", port, err.toString(StandardCharsets.UTF_8))
                .isNotNull();
        return launch.server();
    }

    private ChatPage open(String who) {
        ChatPage page = BROWSERS.computeIfAbsent(who, name -> ChatPage.start(name, SCREENSHOTS));
        pages.add(page);
        page.load(URI.create("http://127.0.0.1:" + port + "/"));
        return page;
    }

    private ChatPage connected(String who) {
        ChatPage page = open(who);
        page.connectAs(who);
        return page;
    }

    private WsTestClient wsClient(String path) {
        WsTestClient client = WsTestClient.connect(http, port, path);
        clients.add(client);
        return client;
    }

    /** The states recorded on a page since the recorder was installed, as "state | text". */
    @SuppressWarnings("unchecked")
    private static List<String> states(ChatPage page) {
        return (List<String>) page.script("return window.__states.slice();");
    }

    // ---- the scenarios ----

    @Test
    void withTokensRequiredThePageGetsASignedTokenAndChats() throws Exception {
        server.stop();
        server = launch(0, "--require-token", "a-secret-for-the-test");
        port = server.port();

        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");
        alice.awaitOnline("alice", "bob");
        alice.send("bob", "signed and delivered");
        assertThat(bob.awaitMessage("alice", "signed and delivered").line()).contains("alice");

        // a client without a token is refused before the upgrade
        var refused = http.newWebSocketBuilder()
                .buildAsync(
                        URI.create("ws://127.0.0.1:" + port + "/ws/mallory/"),
                        new java.net.http.WebSocket.Listener() {});
        assertThatThrownBy(() -> refused.get(10, java.util.concurrent.TimeUnit.SECONDS))
                .hasCauseInstanceOf(java.net.http.WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((java.net.http.WebSocketHandshakeException) e.getCause())
                                .getResponse()
                                .statusCode())
                        .isEqualTo(401));
        alice.screenshot("09-alice-with-tokens");
    }

    @Test
    void aliceSendsToEveryoneAndBobSeesItWithSenderAlice() {
        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");
        alice.awaitOnline("alice", "bob");
        String text = "Hello <b>everyone</b> & <img src=x onerror=\"document.title='owned'\">";

        alice.send("", text);

        ChatPage.Entry received = bob.awaitMessage("alice", text);
        assertThat(received.line()).as("bob's entry").contains("alice", "to everyone", text);
        assertThat(OffsetDateTime.parse(received.time()))
                .as("the time it arrived")
                .isBetween(
                        OffsetDateTime.now().minusMinutes(1),
                        OffsetDateTime.now().plusSeconds(1));
        assertThat(received.line()).matches("^\\d{2}:\\d{2}:\\d{2}.*");
        ChatPage.Entry own = alice.awaitMessage("alice", text);
        assertThat(own.line()).contains("alice (you)", "to everyone");
        for (ChatPage page : List.of(alice, bob)) {
            assertThat(page.script("return document.querySelectorAll('#log b, #log img').length + document.title;"))
                    .as("markup in a message stays text on %s's page", page.who())
                    .isEqualTo("0wsrouter chat");
        }
        alice.screenshot("01-alice-broadcast");
        bob.screenshot("01-bob-receives-broadcast");
    }

    @Test
    void bobSendsDirectlyToAliceAndOnlyAliceSeesIt() {
        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");
        WsTestClient carol = wsClient("/ws/carol/");
        bob.awaitOnline("alice", "bob", "carol");

        // Bob picks alice in his online list with the keyboard, then types and presses Enter.
        WebElement pickAlice = bob.find("#online button[data-user='alice']");
        pickAlice.sendKeys(Keys.ENTER);
        assertThat(bob.find("#recipient").getDomProperty("value")).isEqualTo("alice");
        assertThat(pickAlice.getDomAttribute("aria-pressed")).isEqualTo("true");
        assertThat(bob.driver().switchTo().activeElement().getDomAttribute("id"))
                .as("focus after picking")
                .isEqualTo("message");
        bob.sendToPicked("psst, alice only");

        ChatPage.Entry received = alice.awaitMessage("bob", "psst, alice only");
        assertThat(received.line()).contains("to you");
        alice.screenshot("02-alice-receives-direct");

        // A later message to everyone from bob: every page and carol get it after the direct one
        // would have arrived, had it been sent to them. Per-connection order makes this a proof.
        bob.find("#online button[data-user='*']").click();
        bob.sendToPicked("marker after the direct message");
        bob.awaitMessage("bob", "marker after the direct message");
        alice.awaitMessage("bob", "marker after the direct message");
        JsonObject carolsNext = JsonParser.parseString(carol.awaitTextSkipping(ExampleRunnerServerTest::isNotice))
                .getAsJsonObject();
        assertThat(carolsNext.get("message").getAsString())
                .as("carol's first message")
                .isEqualTo("marker after the direct message");

        assertThat(bob.entries())
                .as("bob's log")
                .filteredOn(e -> e.text().equals("psst, alice only"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.kind()).as("shown as sent, not received").isEqualTo("out");
                    assertThat(e.line()).contains("you", "to alice");
                });
        assertThat(alice.entries())
                .filteredOn(e -> e.text().equals("psst, alice only"))
                .hasSize(1);
        bob.screenshot("02-bob-direct-to-alice");
    }

    @Test
    void aliceSendsToAnUnknownUserAndSeesTheError() {
        ChatPage alice = connected("alice");

        alice.send("nobody", "is anyone there?");

        ChatPage.Entry error = alice.awaitError("no user 'nobody' is connected");
        assertThat(error.line()).contains("Error", "unknown_recipient", "to: nobody");
        assertThat(alice.status().state()).as("the connection stays open").isEqualTo("open");
        alice.screenshot("03-alice-unknown-recipient");
    }

    @Test
    void aNameTheServerWouldRefuseIsExplainedAndNotTried() {
        ChatPage alice = open("alice");
        alice.typeName("*");
        alice.find("#connect").click();

        alice.await("the explanation", () -> alice.status().text().contains("1 to 64 letters"));
        assertThat(alice.status().state()).as("no connection, no reconnection").isEqualTo("closed");
        assertThat(alice.status().text()).doesNotContain("reconnecting");
        assertThat(alice.find("#connect").isEnabled()).isTrue();
        alice.screenshot("03-refused-name");
    }

    @Test
    void onlineListShowsBothAndDropsBobWhenHeClosesHisPage() {
        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");

        alice.awaitOnline("alice", "bob");
        bob.awaitOnline("alice", "bob");
        assertThat(alice.find("#online li[data-user='alice']").getText()).contains("(you)");
        assertThat(alice.find("#online-count").getText()).isEqualTo("(2)");
        alice.screenshot("04-online-both");
        bob.screenshot("04-online-both-bob");

        bob.closePage();

        alice.awaitOnline("alice");
        alice.await(
                "a line saying bob left",
                () -> alice.entries().stream()
                        .anyMatch(e -> e.kind().equals("system")
                                && e.line().contains("Left")
                                && e.text().equals("bob")));
        alice.screenshot("04-online-bob-left");
    }

    @Test
    void pageReconnectsByItselfWhenTheServerRestartsOnTheSamePortButNotAfterDisconnect() {
        allowedConsoleErrors = REFUSED_WHILE_SERVER_DOWN;
        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");
        alice.awaitOnline("alice", "bob");

        // Bob disconnects by hand: closed with 1000, and nothing is scheduled.
        bob.clickDisconnect();
        bob.awaitState("closed");
        assertThat(bob.status().text())
                .startsWith("closed (code 1000: normal closure)")
                .doesNotContain("reconnecting");
        assertThat(bob.find("#connect").isEnabled()).isTrue();
        alice.awaitOnline("alice");

        // Record every state alice's page shows from now on.
        alice.script("window.__states = [];"
                + "var s = document.getElementById('status');"
                + "new MutationObserver(function () { window.__states.push(s.dataset.state + ' | ' + s.textContent); })"
                + "  .observe(s, {attributes: true, childList: true, characterData: true, subtree: true});");

        server.stop();

        // The state line shows each wait; the recording keeps the short-lived ones for the assertions below.
        alice.await(
                "a second reconnection attempt to be scheduled",
                () -> states(alice).stream().anyMatch(s -> s.endsWith("(attempt 2)") && s.startsWith("waiting")));
        assertThat(alice.status().state()).isIn("waiting", "connecting");
        alice.screenshot("05-alice-reconnecting");
        assertThat(bob.status().state())
                .as("bob disconnected by hand and must not reconnect")
                .isEqualTo("closed");
        assertThat(bob.status().text()).startsWith("closed (code 1000");

        server = launch(port);
        assertThat(server.port()).isEqualTo(port);

        alice.awaitState("open");
        alice.awaitOnline("alice");
        assertThat(states(alice))
                .as("the states alice's page went through")
                .anySatisfy(s -> assertThat(s)
                        .startsWith("waiting | closed (code 1001: going away)")
                        .matches(".*reconnecting in 0\\.[0-5] s \\(attempt 1\\)$"))
                .anySatisfy(s -> assertThat(s).startsWith("connecting | reconnecting"))
                .anySatisfy(s -> assertThat(s)
                        .startsWith("waiting | closed (code 1006")
                        .matches(".*reconnecting in [01]\\.\\d s \\(attempt 2\\)$"))
                .last()
                .isEqualTo("open | open as alice");
        @SuppressWarnings("unchecked")
        List<Long> ceilings = (List<Long>) alice.script("var d = [];"
                + "for (var n = 1; n <= 7; n++) { d.push(window.wsrouterChat.backoff(n, 1)); } return d;");
        assertThat(ceilings)
                .as("the longest wait in ms (full jitter waits a random part of it), attempts 1 to 7")
                .containsExactly(500L, 1000L, 2000L, 4000L, 8000L, 10000L, 10000L);
        assertThat(alice.script("return window.wsrouterChat.backoff(3, 0.25);"))
                .as("a quarter of the way up to attempt 3's ceiling")
                .isEqualTo(500L);
        assertThat(alice.entries())
                .as("the restart changed the history's epoch: alice is told she may have missed messages")
                .anySatisfy(e -> assertThat(e.line()).contains("Missed", "(epoch_changed)"));

        // Messaging works again: bob reconnects by hand and alice writes to him.
        assertThat(bob.status().state()).isEqualTo("closed");
        bob.find("#connect").click();
        bob.awaitState("open");
        alice.awaitOnline("alice", "bob");
        alice.send("bob", "welcome back");
        bob.awaitMessage("alice", "welcome back");
        alice.screenshot("05-alice-reconnected");
        bob.screenshot("05-bob-reconnected-by-hand");
    }

    /** The marker of the message {@code text} the page sent: pending, delivered, kept or failed, and its words. */
    private static String sentMarker(ChatPage page, String text) {
        return (String) page.script(
                "var text = arguments[0];"
                        + "var li = Array.from(document.querySelectorAll('#log li[data-kind=\"out\"]'))"
                        + ".find(function (li) { return li.querySelector('.text').textContent === text; });"
                        + "return li ? li.dataset.ack + ' ' + li.querySelector('.ack').textContent : 'none';",
                text);
    }

    /** The texts of the messages from {@code from} on the page, in the order shown. */
    private static List<String> messagesFrom(ChatPage page, String from) {
        return page.entries().stream()
                .filter(e -> e.kind().equals("in") && e.from().equals(from))
                .map(ChatPage.Entry::text)
                .toList();
    }

    /**
     * Bob's page loses its connection while alice sends him 20 messages. The page's test hook closes
     * its socket (code 4000, as if the network had gone) and holds wsrouter.js's reconnection until
     * released: the test releases it only once the server has seen bob leave and alice has the 20
     * acknowledgements, so the drop always spans the sending, without a sleep. Back, bob resumes
     * from his last offset and shows each of the 20 once, in order, before what alice sends next;
     * what he sent as the connection dropped, and what he wrote while away, reach alice once each.
     */
    @Test
    void bobLosesHisConnectionWhileAliceSendsAndAfterReconnectingSeesEachMessageOnceInOrder() {
        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");
        alice.awaitOnline("alice", "bob");
        alice.send("bob", "before the drop");
        bob.awaitMessage("alice", "before the drop");
        alice.await(
                "the ack of 'before the drop'",
                () -> sentMarker(alice, "before the drop").startsWith("delivered"));

        // bob sends, and his connection drops in the same task: the server routes the message, and
        // its ack reaches the page or is lost with the connection; if lost, wsrouter.js sends it again
        // under the same id after the reconnection, and the server acknowledges without routing twice.
        bob.script("document.getElementById('recipient').value = 'alice';"
                + "document.getElementById('message').value = 'sent as the connection dropped';"
                + "document.getElementById('send-form').requestSubmit();"
                + "window.wsrouterChat.dropAndHold();");
        bob.awaitState("waiting");
        alice.awaitOnline("alice");
        List<String> missed = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            missed.add("missed " + i);
            alice.sendToPicked("missed " + i);
        }
        alice.await(
                "20 acks saying the messages are kept for bob",
                () -> missed.stream().allMatch(text -> sentMarker(alice, text).equals("kept \u2713 kept")));
        assertThat(messagesFrom(bob, "alice")).as("bob, away").containsExactly("before the drop");
        // bob writes while away: wsrouter.js queues it until the connection is back
        bob.send("alice", "queued while away");
        assertThat(sentMarker(bob, "queued while away")).isEqualTo("pending \u2026");
        bob.screenshot("10-bob-away");

        bob.script("window.wsrouterChat.release();");
        bob.awaitState("open");
        alice.awaitOnline("alice", "bob");
        alice.sendToPicked("after the reconnection");
        bob.awaitMessage("alice", "after the reconnection");

        List<String> expected = new ArrayList<>();
        expected.add("before the drop");
        expected.addAll(missed);
        expected.add("after the reconnection");
        assertThat(messagesFrom(bob, "alice")).as("bob's messages from alice").isEqualTo(expected);
        assertThat(bob.entries())
                .as("nothing was lost: no recovery failure")
                .noneSatisfy(e -> assertThat(e.line()).contains("Missed"));
        alice.await(
                "the ack of the live message",
                () -> sentMarker(alice, "after the reconnection").startsWith("delivered"));
        alice.awaitMessage("bob", "queued while away");
        bob.await(
                "the ack of the message sent as the connection dropped",
                () -> List.of("delivered \u2713", "sent \u2713")
                        .contains(sentMarker(bob, "sent as the connection dropped")));
        bob.await(
                "the ack of the queued message",
                () -> sentMarker(bob, "queued while away").equals("delivered \u2713"));
        assertThat(messagesFrom(alice, "bob"))
                .as("alice's messages from bob")
                .containsExactly("sent as the connection dropped", "queued while away");
        bob.screenshot("10-bob-back-with-everything");
        alice.screenshot("10-alice-acks");
    }

    @Test
    void aSentMessageIsMarkedDeliveredOnItsAckAndFailedForAnUnknownUser() {
        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");
        alice.awaitOnline("alice", "bob");

        alice.send("bob", "are you there?");
        alice.send("nobody", "and you?");

        bob.awaitMessage("alice", "are you there?");
        alice.await(
                "the ack of the message to bob",
                () -> sentMarker(alice, "are you there?").equals("delivered \u2713"));
        alice.await(
                "the failure of the message to nobody",
                () -> sentMarker(alice, "and you?").equals("failed \u2717 unknown user"));
        assertThat(alice.awaitError("no user 'nobody' is connected").line()).contains("unknown_recipient");
        alice.screenshot("11-alice-acked-and-failed");
    }

    /** The texts of the messages in the room log of the page, in the order shown. */
    private static List<String> roomTexts(ChatPage page) {
        return page.roomEntries().stream()
                .filter(e -> e.kind().equals("in"))
                .map(ChatPage.Entry::text)
                .toList();
    }

    /**
     * Sends a whole object through the page's wsrouter.js client (its send: an id and {@code "ack":
     * true}), as one could from the browser's console, and returns how many connections it reached
     * (the ack's {@code delivered}), or the error code.
     */
    private static Object sendObject(ChatPage page, String objectJs) {
        return page.script("return window.wsrouterChat.sendObject(" + objectJs + ")"
                + ".then(function (ack) { return ack.delivered; }, function (e) { return 'failed: ' + e.code; });");
    }

    /**
     * Rooms go through the chat's connection: the pages join with {"join": room}, and each room
     * message shows the sender the server stamped, on the pages in that room only. A sender that
     * claims another name in its message, or dresses a direct message as a room message, does not
     * get it shown.
     */
    @Test
    void pagesInOneRoomSeeEachOthersVerifiedNamesAndARoomElsewhereDoesNot() {
        ChatPage alice = open("alice");
        assertThat(alice.find("#room-join").isEnabled())
                .as("Join before connecting: rooms go through the chat connection")
                .isFalse();
        alice.connectAs("alice");
        ChatPage bob = connected("bob");
        ChatPage carol = connected("carol");
        // The room status says "in room" once the server has answered {"joined": room}.
        alice.joinRoom("blue");
        bob.joinRoom("blue");
        carol.joinRoom("red");
        assertThat(bob.roomStatus().text()).isEqualTo("in room blue");

        alice.sendToRoom("hi bob, how is blue?");

        ChatPage.Entry received = bob.awaitRoomMessage("alice", "hi bob, how is blue?");
        assertThat(received.line()).contains("alice").doesNotContain("claimed");
        assertThat(alice.awaitRoomMessage("alice", "hi bob, how is blue?").line())
                .contains("alice (you)");
        bob.sendToRoom("fine, thanks");
        alice.awaitRoomMessage("bob", "fine, thanks");
        assertThat(bob.awaitRoomMessage("bob", "fine, thanks").line()).contains("bob (you)");

        // alice's page sends a raw room message claiming to be mallory: the server stamps alice
        assertThat(sendObject(alice, "{to_room: 'blue', message: 'who sent this?', from: 'mallory'}"))
                .as("delivered to alice and bob")
                .isEqualTo(2L);
        bob.awaitRoomMessage("alice", "who sent this?");
        alice.awaitRoomMessage("alice", "who sent this?");
        // ... and a direct message dressed as a room message: a direct message from alice, not a room's
        assertThat(sendObject(alice, "{to_user: 'bob', message: 'a room message?', room: 'blue', from: 'mallory'}"))
                .isEqualTo(1L);
        assertThat(bob.awaitMessage("alice", "a room message?").line()).contains("to you");
        assertThat(roomTexts(bob)).doesNotContain("a room message?");
        for (ChatPage page : List.of(alice, bob, carol)) {
            assertThat(page.roomEntries())
                    .as("%s's room log", page.who())
                    .noneSatisfy(e -> assertThat(e.line()).containsAnyOf("mallory", "claimed"))
                    .noneSatisfy(e -> assertThat(e.kind()).isEqualTo("error"));
            assertThat(page.entries()).noneSatisfy(e -> assertThat(e.line()).contains("mallory"));
        }
        assertThat(roomTexts(bob)).containsExactly("hi bob, how is blue?", "fine, thanks", "who sent this?");

        // Red hears only itself: its own message comes back after anything blue could have leaked.
        carol.sendToRoom("red marker");
        carol.awaitRoomMessage("carol", "red marker");
        assertThat(roomTexts(carol)).containsExactly("red marker");
        for (ChatPage page : List.of(alice, bob, carol)) {
            page.scrollTo("#room-heading");
        }
        alice.screenshot("06-room-blue-alice");
        bob.screenshot("06-room-blue-bob");
        carol.screenshot("06-room-red-carol");

        // bob leaves blue: what alice says next reaches her alone
        bob.find("#room-leave").click();
        bob.await("room status 'idle'", () -> "idle".equals(bob.roomStatus().state()));
        alice.sendToRoom("bob has gone");
        alice.awaitRoomMessage("alice", "bob has gone");
        bob.send("bob", "marker after leaving");
        bob.awaitMessage("bob", "marker after leaving");
        assertThat(roomTexts(bob)).doesNotContain("bob has gone");
    }

    /**
     * A page that loses its connection is back in its room after the reconnect: wsrouter.js joins
     * again before it sends what was written meanwhile. What the room said while it was away is not
     * replayed (rooms keep no history).
     */
    @Test
    void aPageThatLosesItsConnectionIsBackInItsRoomAfterTheReconnect() {
        ChatPage alice = connected("alice");
        ChatPage bob = connected("bob");
        alice.joinRoom("green");
        bob.joinRoom("green");
        alice.awaitOnline("alice", "bob");

        bob.script("window.wsrouterChat.dropAndHold();");
        bob.awaitState("waiting");
        bob.await(
                "room status 'waiting'", () -> "waiting".equals(bob.roomStatus().state()));
        alice.awaitOnline("alice"); // the server has forgotten bob's connection, and its room
        alice.sendToRoom("said while bob was away");
        alice.awaitRoomMessage("alice", "said while bob was away");
        bob.sendToRoom("written while away"); // queued by wsrouter.js

        bob.script("window.wsrouterChat.release();");
        bob.awaitState("open");
        alice.awaitRoomMessage("bob", "written while away");
        bob.awaitRoomMessage("bob", "written while away");
        assertThat(bob.roomStatus().text()).isEqualTo("in room green");
        alice.sendToRoom("welcome back");
        bob.awaitRoomMessage("alice", "welcome back");

        assertThat(roomTexts(bob)).containsExactly("written while away", "welcome back");
        assertThat(bob.roomEntries()).anySatisfy(e -> assertThat(e.line()).contains("Rejoined", "room green"));
        bob.scrollTo("#room-heading");
        bob.screenshot("12-bob-back-in-his-room");
    }

    @Test
    void pageWorksFromTheKeyboardHasLabelsAndFitsANarrowWindow() {
        ChatPage alice = open("alice");

        // Every form control has a label, every button a name.
        assertThat(alice.script("return Array.from(document.querySelectorAll('input, select, textarea'))"
                        + ".filter(function (c) { return c.labels.length === 0 && !c.getAttribute('aria-label'); })"
                        + ".map(function (c) { return c.id; });"))
                .as("controls without a label")
                .asInstanceOf(InstanceOfAssertFactories.LIST)
                .isEmpty();
        assertThat(alice.find("#username").getDomProperty("value"))
                .as("the proposed name")
                .matches("user-\\d{4}");

        // Keyboard only: Tab to the name, Enter connects, the message field takes the focus, Enter sends.
        new Actions(alice.driver()).sendKeys(Keys.TAB).perform();
        assertThat(alice.driver().switchTo().activeElement().getDomAttribute("id"))
                .isEqualTo("username");
        WebElement name = alice.driver().switchTo().activeElement();
        name.sendKeys(Keys.chord(Keys.CONTROL, "a"), "alice", Keys.ENTER);
        alice.awaitState("open");
        alice.await(
                "the focus to move to the message field",
                () -> "message".equals(alice.driver().switchTo().activeElement().getDomAttribute("id")));
        alice.driver().switchTo().activeElement().sendKeys("typed without a mouse", Keys.ENTER);
        alice.awaitMessage("alice", "typed without a mouse");

        // A phone-sized window: one column, nothing wider than the window.
        alice.resize(390, 844);
        alice.await(
                "the window to be narrow",
                () -> ((Number) alice.script("return window.innerWidth;")).intValue() <= 400);
        assertThat(((Number) alice.script(
                                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"))
                        .intValue())
                .as("horizontal overflow in px")
                .isLessThanOrEqualTo(0);
        assertThat(alice.script("var a = document.querySelector('.online-panel').getBoundingClientRect();"
                        + "var b = document.querySelector('.messages-panel').getBoundingClientRect();"
                        + "return b.top >= a.bottom;"))
                .as("online list above the messages")
                .isEqualTo(true);
        alice.screenshot("07-narrow-window");
    }
}
