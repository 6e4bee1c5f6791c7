package io.github.wsrouter;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ConnectionGroupsTest {

    private static final Handshake HANDSHAKE = new Handshake("/index/", Map.of(), Map.of(), Map.of());
    private static final MessageRouter NO_OP = new MessageRouter() {};

    /** A connection that is only ever a member of groups. */
    private static final class Member extends AbstractConnection {
        Member() {
            super(HANDSHAKE, NO_OP, Runnable::run);
        }

        @Override
        protected void writeText(String text, WriteCallback callback) {
            callback.done(null);
        }

        @Override
        protected void writeBinary(ByteBuffer data, WriteCallback callback) {
            callback.done(null);
        }

        @Override
        protected void writeClose(CloseStatus status, WriteCallback callback) {
            callback.done(null);
        }
    }

    private final ConnectionGroups index = ConnectionGroups.create();

    @Test
    void emptyIndexHasNothing() {
        assertThat(index.size()).isZero();
        assertThat(index.groups()).isEmpty();
        assertThat(index.members("x")).isEmpty();
        assertThat(index.contains("x")).isFalse();
    }

    @Test
    void keyGoesAwayWithItsLastConnection() {
        Member a = new Member();
        Member b = new Member();
        index.add("bob", a);
        index.add("bob", b);
        index.add("bob", b);
        index.add("carol", a);

        assertThat(index.size()).isEqualTo(2);
        assertThat(index.size("bob")).isEqualTo(2);
        assertThat(index.members("bob")).containsExactlyInAnyOrder(a, b);
        assertThat(index.groupsOf(a)).containsExactlyInAnyOrder("bob", "carol");
        assertThat(index.groups()).containsExactlyInAnyOrder("bob", "carol");

        index.remove("bob", a);
        assertThat(index.contains("bob")).isTrue();
        index.remove("bob", b);
        assertThat(index.contains("bob")).isFalse();
        assertThat(index.groups()).containsExactly("carol");
        assertThat(index.remove("bob", b)).isFalse();
        assertThat(index.remove("nobody", a)).isFalse();
        assertThat(index.size())
                .as("leaving a group is not leaving the members")
                .isEqualTo(2);
        index.remove(a);
        assertThat(index.groups()).isEmpty();
        assertThat(index.members()).containsExactly(b);
    }

    @Test
    void getIsAnUnmodifiableLiveView() {
        Member a = new Member();
        Member b = new Member();
        index.add("room", a);

        Collection<Connection> view = index.members("room");
        index.add("room", b);

        assertThat(view).containsExactlyInAnyOrder(a, b);
        assertThatThrownBy(() -> view.add(new Member())).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> index.members("none").add(a)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void keysIsASnapshot() {
        index.add("a", new Member());
        var keys = index.groups();
        index.add("b", new Member());

        assertThat(keys).containsExactly("a");
    }

    @Test
    void concurrentAddAndRemoveLeavesNoEmptyKeyAndSizeZero() throws Exception {
        int threads = 16;
        int perThread = 2000;
        String[] keys = {"a", "b", "c", "d"};
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CyclicBarrier halfway = new CyclicBarrier(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    start.await(5, SECONDS);
                    List<Member> mine = new ArrayList<>();
                    List<String> where = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        Member member = new Member();
                        String key = keys[random.nextInt(keys.length)];
                        index.add(key, member);
                        mine.add(member);
                        where.add(key);
                        if (random.nextBoolean()) {
                            int victim = random.nextInt(mine.size());
                            Member gone = mine.remove(victim);
                            index.remove(where.remove(victim), gone);
                            if (random.nextBoolean()) {
                                gone.closed(CloseStatus.NORMAL); // forgotten by itself
                            } else {
                                index.remove(gone);
                            }
                        }
                    }
                    halfway.await(5, SECONDS);
                    for (int i = 0; i < mine.size(); i++) {
                        index.remove(where.get(i), mine.get(i));
                        index.remove(mine.get(i));
                    }
                    return mine.size();
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(5, SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(index.size()).isZero();
        assertThat(index.groups()).isEmpty();
        for (String key : keys) {
            assertThat(index.contains(key)).as("key " + key).isFalse();
            assertThat(index.members(key)).isEmpty();
        }
    }

    @Test
    void concurrentAddsAreAllCounted() throws Exception {
        int threads = 8;
        int perThread = 1000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String key = "k" + (t % 3);
                futures.add(pool.submit(() -> {
                    start.await(5, SECONDS);
                    for (int i = 0; i < perThread; i++) {
                        index.add(key, new Member());
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(5, SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(index.size()).isEqualTo(threads * perThread);
        assertThat(index.groups()).containsExactlyInAnyOrder("k0", "k1", "k2");
    }

    // ---- closes, broadcast, relay: through the test kit, as a router of one's own uses them ----

    /** A router built only on the public group API: rooms by path, broadcast to the room but the sender. */
    private static final class RoomRouter implements MessageRouter {
        final ConnectionGroups groups = ConnectionGroups.create();

        @Override
        public void onMount(RouteContext route) {
            groups.mount(route);
        }

        @Override
        public void onOpen(Connection connection) {
            groups.add(connection.pathParameter("room"), connection);
        }

        @Override
        public void onText(Connection connection, String text) {
            if (text.startsWith("all:")) {
                groups.broadcast(text, connection);
            } else {
                groups.broadcastTo(connection.pathParameter("room"), text, connection);
            }
        }

        @Override
        public void onBinary(Connection connection, ByteBuffer data) {
            groups.broadcastTo(connection.pathParameter("room"), data, null);
        }
    }

    @Test
    void aClosedConnectionIsForgottenWithoutTheRouterRemovingIt() {
        RoomRouter router = new RoomRouter();
        TestServer server = TestServer.create().route("/rooms/{room}/", router);
        TestClient alice = server.connect("/rooms/blue/");
        TestClient bob = server.connect("/rooms/blue/");
        TestClient carol = server.connect("/rooms/red/");
        assertThat(router.groups.size()).isEqualTo(3);

        bob.close();
        carol.disconnect();

        assertThat(router.groups.members("blue")).containsExactly(alice.connection());
        assertThat(router.groups.groups()).containsExactly("blue");
        assertThat(router.groups.size()).isEqualTo(1);
        assertThat(router.groups.contains(bob.connection())).isFalse();
    }

    @Test
    void broadcastReachesTheGroupButNotTheExceptedSenderNorOtherGroups() {
        RoomRouter router = new RoomRouter();
        TestServer server = TestServer.create().route("/rooms/{room}/", router);
        TestClient alice = server.connect("/rooms/blue/");
        TestClient bob = server.connect("/rooms/blue/");
        TestClient carol = server.connect("/rooms/red/");

        alice.sendText("hi blue");
        alice.sendText("all: hi everyone");
        bob.sendBinary(new byte[] {1, 2, 3});

        assertThat(bob.nextText()).isEqualTo("hi blue");
        assertThat(bob.nextText()).isEqualTo("all: hi everyone");
        assertThat(carol.nextText()).isEqualTo("all: hi everyone");
        assertThat(alice.nextBinary().remaining()).isEqualTo(3);
        assertThat(bob.nextBinary().remaining()).isEqualTo(3);
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages();
        carol.assertNoMoreMessages();
    }

    @Test
    void deliveryCountsThisNodesRecipientsAndTheRelaysAnswer() {
        Member a = new Member();
        Member b = new Member();
        index.add("room", a);
        index.add("room", b);

        ConnectionGroups.Delivery toRoom = index.broadcastTo("room", "x", a);
        ConnectionGroups.Delivery toNobody = index.broadcastTo("empty", "x", null);

        assertThat(toRoom.local()).isEqualTo(1);
        assertThat(toNobody.local()).isZero();
        assertThat(toNobody.nodes().toCompletableFuture().join())
                .as("a single node reaches nobody else")
                .isZero();
    }

    @Test
    void aConnectionAddedAfterItClosedIsForgottenAtOnce() {
        Member late = new Member();
        late.closed(CloseStatus.NORMAL);

        index.add("room", late);

        assertThat(index.size()).isZero();
        assertThat(index.groups()).isEmpty();
    }

    @Test
    void mountedGroupsPublishOnceAndSubscribeWhileTheyHoldAMember() {
        FakeRelay relay = new FakeRelay();
        RoomRouter router = new RoomRouter();
        TestServer server = TestServer.create().relay(relay).route("/rooms/{room}/", router);
        TestClient alice = server.connect("/rooms/blue/");
        TestClient bob = server.connect("/rooms/blue/");

        assertThat(relay.subscriptions("/rooms/{room}/", Relay.Topic.room("blue")))
                .isEqualTo(2);
        alice.sendText("hello");
        assertThat(relay.published)
                .extracting(FakeRelay.Published::topic, FakeRelay.Published::text)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Relay.Topic.room("blue"), "hello"));

        relay.deliver("/rooms/{room}/", Relay.Topic.room("blue"), "from another node");
        relay.deliver("/rooms/{room}/", Relay.Topic.room("red"), "not for blue");
        relay.deliver("/rooms/{room}/", Relay.Topic.route(), "to every member");
        assertThat(alice.texts()).containsExactly("from another node", "to every member");
        assertThat(bob.texts()).containsExactly("hello", "from another node", "to every member");

        alice.close();
        bob.close();
        assertThat(relay.subscriptions("/rooms/{room}/", Relay.Topic.room("blue")))
                .isZero();
        assertThat(relay.subscriptions("/rooms/{room}/", Relay.Topic.route())).isZero();
    }

    @Test
    void userGroupsTravelOnUserTopics() {
        FakeRelay relay = new FakeRelay();
        ConnectionGroups users = ConnectionGroups.byUser();
        users.mount(new RouteContext("/ws/{username}/", relay));
        Member a = new Member();
        users.add("alice", a);

        users.broadcastTo("alice", "hi");

        assertThat(relay.subscriptions("/ws/{username}/", Relay.Topic.user("alice")))
                .isEqualTo(1);
        assertThat(relay.published.get(0).topic()).isEqualTo(Relay.Topic.user("alice"));
    }
}
