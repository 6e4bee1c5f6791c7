package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.redis.RedisServerProcess;
import io.github.wsrouter.server.WsServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The chat page on two runners that share one real redis-server, in headless Chromium: alice's
 * page on the first runner, bob's on the second. Each page's Online list shows the other person,
 * and in a room joined through the page's room panel each message shows its verified sender on
 * both pages, whatever the sender claims. Screenshots go to {@code examples/target/screenshots/}
 * ({@code 13-...}).
 *
 * <p>Needs Chromium and its driver ({@link ChatPage}) and redis-server ({@link RedisServerProcess}):
 * without them it is skipped, or fails under {@code CI=true}.
 */
@Tag("browser") // left out by -Pfast
@Tag("redis") // left out by -Pfast
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TwoRunnersChatPageBrowserTest {

    private static final Path SCREENSHOTS = Path.of(System.getProperty("screenshots.dir", "target/screenshots"));
    private static final Duration WAIT = Duration.ofSeconds(15);

    /** One browser per person, started on first use. */
    private static final Map<String, ChatPage> BROWSERS = new LinkedHashMap<>();

    private final List<ChatPage> pages = new ArrayList<>();
    private RedisServerProcess redis;
    private WsServer first;
    private WsServer second;

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
    void startRedisAndTwoRunners() {
        redis = RedisServerProcess.start();
        first = ExampleRunnerTwoNodesTest.launch(
                "--host", "127.0.0.1", "--port", "0", "--redis", redis.uri().toString());
        second = ExampleRunnerTwoNodesTest.launch(
                "--host", "127.0.0.1", "--port", "0", "--redis", redis.uri().toString());
    }

    @AfterEach
    void leavePagesWithoutConsoleErrorsThenStop(TestInfo test) {
        Map<String, List<String>> errors = new LinkedHashMap<>();
        try {
            for (ChatPage page : pages) {
                errors.put(page.who(), page.leave(null));
            }
        } finally {
            for (WsServer server : new WsServer[] {first, second}) {
                if (server != null) {
                    server.stop();
                }
            }
            if (redis != null) {
                redis.close();
            }
        }
        assertThat(errors)
                .as("console errors in %s", test.getDisplayName())
                .allSatisfy((who, list) -> assertThat(list).isEmpty());
    }

    @Test
    void pagesOnTwoRunnersSeeEachOtherOnlineAndEachOthersVerifiedNamesInARoom() {
        ChatPage alice = connected(first, "alice");
        ChatPage bob = connected(second, "bob");

        // presence across the runners: each page lists the other person
        alice.awaitOnline("alice", "bob");
        bob.awaitOnline("alice", "bob");
        assertThat(alice.find("#online li[data-user='alice']").getText()).contains("(you)");
        assertThat(alice.find("#online li[data-user='bob']").getText()).doesNotContain("(you)");
        assertThat(bob.find("#online li[data-user='bob']").getText()).contains("(you)");
        assertThat(bob.find("#online li[data-user='alice']").getText()).doesNotContain("(you)");
        alice.screenshot("13-two-runners-online-alice");
        bob.screenshot("13-two-runners-online-bob");

        // both join "lobby" through the room panel
        alice.joinRoom("lobby");
        bob.joinRoom("lobby");
        assertThat(alice.roomStatus().text()).isEqualTo("in room lobby");
        assertThat(bob.roomStatus().text()).isEqualTo("in room lobby");
        // the member list of the room, across both runners, on each page
        alice.await(
                "the room's members alice and bob", () -> alice.roomMembers().equals("alice, bob"));
        bob.await("the room's members alice and bob", () -> bob.roomMembers().equals("alice, bob"));
        // "in room lobby" on both pages: each runner confirmed its subscription to the room before it
        // answered the join, so no message sent from now on can pass a page by

        alice.sendToRoom("hello lobby, from the first runner");
        assertThat(bob.awaitRoomMessage("alice", "hello lobby, from the first runner")
                        .line())
                .contains("alice")
                .doesNotContain("(you)", "claimed");
        assertThat(alice.awaitRoomMessage("alice", "hello lobby, from the first runner")
                        .line())
                .contains("alice (you)");

        bob.sendToRoom("hi alice, from the second runner");
        assertThat(alice.awaitRoomMessage("bob", "hi alice, from the second runner")
                        .line())
                .contains("bob")
                .doesNotContain("(you)", "claimed");
        assertThat(bob.awaitRoomMessage("bob", "hi alice, from the second runner")
                        .line())
                .contains("bob (you)");

        // a raw room message from bob's page that claims to be mallory: both pages show bob, the
        // sender the second runner verified
        bob.script("window.wsrouterChat.sendObject({to_room: 'lobby', message: 'who sent this?', from: 'mallory'});");
        alice.awaitRoomMessage("bob", "who sent this?");
        bob.awaitRoomMessage("bob", "who sent this?");

        List<String> expected =
                List.of("hello lobby, from the first runner", "hi alice, from the second runner", "who sent this?");
        for (ChatPage page : List.of(alice, bob)) {
            assertThat(page.roomEntries())
                    .as("%s's room log", page.who())
                    .noneSatisfy(e -> assertThat(e.line()).containsAnyOf("mallory", "claimed"))
                    .noneSatisfy(e -> assertThat(e.kind()).isEqualTo("error"))
                    .noneSatisfy(e -> assertThat(e.line()).contains("Missed"))
                    .filteredOn(e -> e.kind().equals("in"))
                    .extracting(ChatPage.Entry::text)
                    .containsExactlyElementsOf(expected);
            assertThat(page.roomEntries())
                    .filteredOn(e -> e.kind().equals("in"))
                    .extracting(ChatPage.Entry::from)
                    .as("the senders on %s's page", page.who())
                    .containsExactly("alice", "bob", "bob");
            page.scrollTo("#room-heading");
        }
        alice.screenshot("13-two-runners-room-alice");
        bob.screenshot("13-two-runners-room-bob");
    }

    private ChatPage connected(WsServer runner, String who) {
        ChatPage page = BROWSERS.computeIfAbsent(who, name -> ChatPage.start(name, SCREENSHOTS));
        pages.add(page);
        page.load(URI.create("http://127.0.0.1:" + runner.port() + "/"));
        page.connectAs(who);
        return page;
    }
}
