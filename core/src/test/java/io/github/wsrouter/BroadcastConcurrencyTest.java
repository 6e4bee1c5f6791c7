package io.github.wsrouter;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many senders broadcasting at once through the test kit. */
@Timeout(20)
class BroadcastConcurrencyTest {

    private static final int SENDERS = 8;
    private static final int MESSAGES = 500;
    private static final int LISTENERS = 50;

    @Test
    void everyListenerGetsEveryMessageOnceAndEachSendersInOrder() throws Exception {
        BroadcastRouter router = BroadcastRouter.builder().excludeSender(true).build();
        TestServer server = TestServer.create().route("/chat/", router);
        List<TestClient> listeners = new ArrayList<>();
        for (int i = 0; i < LISTENERS; i++) {
            listeners.add(server.connect("/chat/"));
        }
        List<TestClient> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            senders.add(server.connect("/chat/"));
        }
        assertThat(router.connectionCount()).isEqualTo(LISTENERS + SENDERS);

        ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                TestClient sender = senders.get(s);
                String name = "s" + s;
                futures.add(pool.submit(() -> {
                    start.await(5, SECONDS);
                    for (int i = 0; i < MESSAGES; i++) {
                        sender.sendText(name + ":" + i);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(10, SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        for (TestClient listener : listeners) {
            assertDeliveredOnceInOrder(listener.texts(), SENDERS);
            listener.assertNoMoreMessages();
        }
        for (int s = 0; s < SENDERS; s++) {
            List<String> heard = senders.get(s).texts();
            assertDeliveredOnceInOrder(heard, SENDERS - 1);
            String own = "s" + s + ":";
            assertThat(heard).noneMatch(text -> text.startsWith(own));
        }
    }

    /** Checks, cheaply enough for 200,000 messages, that each message came once and each sender's in order. */
    private static void assertDeliveredOnceInOrder(List<String> texts, int expectedSenders) {
        assertThat(texts).hasSize(expectedSenders * MESSAGES);
        Set<String> seen = new HashSet<>();
        Map<String, Integer> last = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (String text : texts) {
            if (!seen.add(text)) {
                problems.add("received twice: " + text);
            }
            int colon = text.indexOf(':');
            String sender = text.substring(0, colon);
            int seq = Integer.parseInt(text.substring(colon + 1));
            Integer previous = last.put(sender, seq);
            int expected = previous == null ? 0 : previous + 1;
            if (seq != expected) {
                problems.add(sender + ":" + seq + " came where " + sender + ":" + expected + " was due");
            }
        }
        assertThat(problems).isEmpty();
        assertThat(last)
                .hasSize(expectedSenders)
                .allSatisfy((sender, seq) -> assertThat(seq).isEqualTo(MESSAGES - 1));
    }

    @Test
    void clientsJoiningAndLeavingDuringABroadcastStormBreakNothing() throws Exception {
        BroadcastRouter router = BroadcastRouter.create();
        TestServer server = TestServer.create().route("/chat/", router);
        TestClient steady = server.connect("/chat/");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                TestClient sender = server.connect("/chat/");
                String name = "s" + s;
                futures.add(pool.submit(() -> {
                    start.await(5, SECONDS);
                    for (int i = 0; i < MESSAGES; i++) {
                        sender.sendText(name + ":" + i);
                    }
                    sender.close();
                    return null;
                }));
            }
            for (int c = 0; c < 2; c++) {
                futures.add(pool.submit(() -> {
                    start.await(5, SECONDS);
                    for (int i = 0; i < 200; i++) {
                        TestClient churn = server.connect("/chat/");
                        if (i % 2 == 0) {
                            churn.close();
                        } else {
                            churn.disconnect();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(10, SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertDeliveredOnceInOrder(steady.texts(), 2);
        assertThat(router.connectionCount()).isEqualTo(1);
        steady.close();
        assertThat(router.connectionCount()).isZero();
    }
}
