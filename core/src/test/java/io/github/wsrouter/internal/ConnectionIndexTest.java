package io.github.wsrouter.internal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.MessageRouter;
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
class ConnectionIndexTest {

    private static final Handshake HANDSHAKE = new Handshake("/index/", Map.of(), Map.of(), Map.of());
    private static final MessageRouter NO_OP = new MessageRouter() {
    };

    /** A connection that is only ever a member of an index. */
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

    private final ConnectionIndex index = new ConnectionIndex();

    @Test
    void emptyIndexHasNothing() {
        assertThat(index.size()).isZero();
        assertThat(index.keys()).isEmpty();
        assertThat(index.get("x")).isEmpty();
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

        assertThat(index.size()).isEqualTo(3);
        assertThat(index.get("bob")).containsExactlyInAnyOrder(a, b);
        assertThat(index.keys()).containsExactlyInAnyOrder("bob", "carol");

        index.remove("bob", a);
        assertThat(index.contains("bob")).isTrue();
        index.remove("bob", b);
        assertThat(index.contains("bob")).isFalse();
        assertThat(index.keys()).containsExactly("carol");
        index.remove("bob", b);
        index.remove("nobody", a);
        assertThat(index.size()).isEqualTo(1);
    }

    @Test
    void getIsAnUnmodifiableLiveView() {
        Member a = new Member();
        Member b = new Member();
        index.add("room", a);

        Collection<Connection> view = index.get("room");
        index.add("room", b);

        assertThat(view).containsExactlyInAnyOrder(a, b);
        assertThatThrownBy(() -> view.add(new Member())).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> index.get("none").add(a)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void keysIsASnapshot() {
        index.add("a", new Member());
        var keys = index.keys();
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
                            index.remove(where.remove(victim), mine.remove(victim));
                        }
                    }
                    halfway.await(5, SECONDS);
                    for (int i = 0; i < mine.size(); i++) {
                        index.remove(where.get(i), mine.get(i));
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
        assertThat(index.keys()).isEmpty();
        for (String key : keys) {
            assertThat(index.contains(key)).as("key " + key).isFalse();
            assertThat(index.get(key)).isEmpty();
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
        assertThat(index.keys()).containsExactlyInAnyOrder("k0", "k1", "k2");
    }
}
