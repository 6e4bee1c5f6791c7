package io.github.wsrouter;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The lifecycle guarantees of {@link MessageRouter}, through the in-memory test kit. */
@Timeout(10)
class LifecycleTest {

    private static final byte[] BYTES = "bin".getBytes(StandardCharsets.UTF_8);

    private static void assertFailsWithConnectionClosed(CompletionStage<Void> stage) {
        CompletableFuture<Void> future = stage.toCompletableFuture();
        assertThatThrownBy(() -> future.get(5, SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(ConnectionClosedException.class);
    }

    private static TestClient connect(MessageRouter router) {
        return TestServer.create().route("/ws/", router).connect("/ws/");
    }

    @Test
    void openThenMessagesInOrderThenCloseExactlyOnce() {
        RecordingRouter router = new RecordingRouter();
        TestClient client = connect(router);

        client.sendText("a").sendBinary(BYTES).sendText("b");
        client.close();
        client.close();
        client.disconnect();
        client.connection().close();

        assertThat(router.events).containsExactly("open", "text:a", "binary:bin", "text:b", "close:1000");
        router.assertNeverNested();
        client.assertClosed(1000);
    }

    @Test
    void droppedConnectionIsReportedAsAbnormalClosureOnce() {
        RecordingRouter router = new RecordingRouter();
        TestClient client = connect(router);

        client.disconnect();
        client.close();

        assertThat(router.events).containsExactly("open", "close:1006");
        assertThat(client.closeStatus()).isEqualTo(CloseStatus.ABNORMAL_CLOSURE);
    }

    @Test
    void clientCloseStatusReachesTheRouter() {
        AtomicReference<CloseStatus> seen = new AtomicReference<>();
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterClose(Connection connection, CloseStatus status) {
                seen.set(status);
            }
        };
        TestClient client = connect(router);

        client.close(CloseStatus.of(4001, "leaving"));

        assertThat(seen.get()).isEqualTo(CloseStatus.of(4001, "leaving"));
        assertThat(router.events).containsExactly("open", "close:4001");
    }

    @Test
    void serverCloseReachesTheClientAndTheRouterOnce() {
        RecordingRouter router = new RecordingRouter();
        TestClient client = connect(router);

        CompletionStage<Void> first = client.connection().close(CloseStatus.of(4000, "bye"));
        CompletionStage<Void> second = client.connection().close(CloseStatus.NORMAL);

        assertThat(first.toCompletableFuture()).isCompleted().isNotCompletedExceptionally();
        assertThat(second.toCompletableFuture()).isCompleted().isNotCompletedExceptionally();
        assertThat(client.closeStatus()).isEqualTo(CloseStatus.of(4000, "bye"));
        assertThat(router.events).containsExactly("open", "close:4000");
        assertThat(client.connection().isOpen()).isFalse();
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void routerThatThrowsInOnTextIsToldOnceClosedWith1011AndLaterMessagesDropped() {
        RuntimeException boom = new IllegalStateException("boom");
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterText(Connection connection, String text) {
                throw boom;
            }
        };
        TestClient client = connect(router);

        client.sendText("first");

        assertThat(router.events).containsExactly("open", "text:first", "error:boom", "close:1011");
        assertThat(router.errors).singleElement().isSameAs(boom);
        assertThat(client.assertClosed(1011).reason()).isNotEmpty();
        assertThat(client.connection().isOpen()).isFalse();
        router.assertNeverNested();

        assertThatThrownBy(() -> client.sendText("second"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("closed with 1011");
        // Past the kit's own guard: a message the transport still delivers is dropped.
        ((AbstractConnection) client.connection()).deliverText("late");
        ((AbstractConnection) client.connection()).deliverBinary(ByteBuffer.wrap(BYTES));
        ((AbstractConnection) client.connection()).closed(CloseStatus.NORMAL);
        assertThat(router.events).containsExactly("open", "text:first", "error:boom", "close:1011");
        assertThat(router.errors).hasSize(1);
    }

    @Test
    void routerThatThrowsAnErrorIsTreatedLikeAnException() {
        AssertionError failure = new AssertionError("assertion in router");
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterBinary(Connection connection, ByteBuffer data) {
                throw failure;
            }
        };
        TestClient client = connect(router);

        client.sendBinary(BYTES);

        assertThat(router.events).containsExactly("open", "binary:bin", "error:assertion in router", "close:1011");
        assertThat(router.errors).singleElement().isSameAs(failure);
        client.assertClosed(1011);
    }

    @Test
    void routerThatThrowsInOnOpenIsClosedWith1011() {
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterOpen(Connection connection) {
                throw new IllegalStateException("no open");
            }
        };

        TestClient client = connect(router);

        client.assertClosed(1011);
        assertThat(router.events).containsExactly("open", "error:no open", "close:1011");
    }

    @Test
    void routerWhoseOnErrorAndOnCloseThrowBreaksNothing() {
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterText(Connection connection, String text) {
                throw new IllegalStateException("in text");
            }

            @Override
            void afterError(Connection connection, Throwable error) {
                throw new IllegalStateException("in error");
            }

            @Override
            void afterClose(Connection connection, CloseStatus status) {
                throw new IllegalStateException("in close");
            }
        };
        TestServer server = TestServer.create().route("/ws/", router).route("/echo/", EchoRouter.create());
        TestClient client = server.connect("/ws/");
        TestClient bystander = server.connect("/echo/");

        assertThatCode(() -> client.sendText("x")).doesNotThrowAnyException();

        client.assertClosed(1011);
        assertThat(router.events).containsExactly("open", "text:x", "error:in text", "close:1011");
        assertThat(router.errors).hasSize(1);
        bystander.sendText("still fine");
        assertThat(bystander.nextText()).isEqualTo("still fine");
    }

    @Test
    void routerWhoseOnCloseThrowsLetsTheClientCloseQuietly() {
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterClose(Connection connection, CloseStatus status) {
                throw new IllegalStateException("in close");
            }
        };
        TestClient client = connect(router);

        assertThatCode(client::close).doesNotThrowAnyException();

        assertThat(router.events).containsExactly("open", "close:1000");
        assertThat(router.errors).isEmpty();
    }

    @Test
    void routerThatClosesInsideOnTextGetsOnCloseAfterOnTextReturns() {
        List<String> seenInsideOnText = new CopyOnWriteArrayList<>();
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterText(Connection connection, String text) {
                connection.close(CloseStatus.of(4000, "done"));
                seenInsideOnText.add("open=" + connection.isOpen());
                seenInsideOnText.addAll(events);
                events.add("text returns");
            }
        };
        TestClient client = connect(router);

        client.sendText("bye");

        assertThat(router.events).containsExactly("open", "text:bye", "text returns", "close:4000");
        assertThat(seenInsideOnText).containsExactly("open=false", "open", "text:bye");
        router.assertNeverNested();
        assertThat(client.closeStatus()).isEqualTo(CloseStatus.of(4000, "done"));
    }

    @Test
    void routerThatClosesInsideOnOpenGetsOnCloseAfterOnOpenReturns() {
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterOpen(Connection connection) {
                connection.close(CloseStatus.POLICY_VIOLATION);
                events.add("open returns");
            }
        };

        TestClient client = connect(router);

        assertThat(router.events).containsExactly("open", "open returns", "close:1008");
        router.assertNeverNested();
        client.assertClosed(1008);
    }

    @Test
    void framesQueuedBeforeAServerCloseAreDeliveredFirst() {
        RecordingRouter router = new RecordingRouter() {
            @Override
            void afterText(Connection connection, String text) {
                connection.sendText("one");
                connection.sendText("two");
                connection.close();
            }
        };
        TestClient client = connect(router);

        client.sendText("go");

        assertThat(client.texts()).containsExactly("one", "two");
        client.assertClosed(1000);
    }

    @Test
    void sendsAfterCloseFailWithConnectionClosedAndNeverThrow() {
        RecordingRouter router = new RecordingRouter();
        TestClient client = connect(router);
        Connection connection = client.connection();

        client.close();

        CompletionStage<Void> text = connection.sendText("late");
        CompletionStage<Void> binary = connection.sendBinary(ByteBuffer.wrap(BYTES));
        assertFailsWithConnectionClosed(text);
        assertFailsWithConnectionClosed(binary);
        client.assertNoMoreMessages();
    }

    @Test
    void sendsAfterAServerCloseFailWithConnectionClosed() {
        TestClient client = connect(new RecordingRouter());

        client.connection().close();

        assertFailsWithConnectionClosed(client.connection().sendText("late"));
        client.assertNoMoreMessages();
    }

    @Test
    void sendsInsideOnCloseFailWithConnectionClosed() {
        List<CompletionStage<Void>> stages = new CopyOnWriteArrayList<>();
        TestClient client = connect(new RecordingRouter() {
            @Override
            void afterClose(Connection connection, CloseStatus status) {
                assertThat(connection.isOpen()).isFalse();
                stages.add(connection.sendText("goodbye"));
            }
        });

        client.close();

        assertThat(stages).singleElement().satisfies(LifecycleTest::assertFailsWithConnectionClosed);
        client.assertNoMoreMessages();
    }

    @Test
    void sendsWhileOpenCompleteSuccessfully() throws Exception {
        TestClient client = connect(new RecordingRouter());

        CompletionStage<Void> stage = client.connection().sendText("hi");

        assertThat(stage.toCompletableFuture().get(5, SECONDS)).isNull();
        assertThat(client.nextText()).isEqualTo("hi");
    }

    @ParameterizedTest
    @ValueSource(ints = {1005, 1006, 1015})
    void closingWithALocalOnlyStatusIsRefused(int code) {
        RecordingRouter router = new RecordingRouter();
        TestClient client = connect(router);

        assertThatThrownBy(() -> client.connection().close(CloseStatus.of(code)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Integer.toString(code));

        assertThat(client.isOpen()).isTrue();
        assertThat(client.connection().isOpen()).isTrue();
        assertThat(router.events).containsExactly("open");
    }

    @Test
    void abnormalClosureConstantIsRefusedByClose() {
        TestClient client = connect(new RecordingRouter());

        assertThatThrownBy(() -> client.connection().close(CloseStatus.ABNORMAL_CLOSURE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void eachConnectionHasItsOwnIdAndAttributes() {
        TestServer server = TestServer.create().route("/ws/", new RecordingRouter());
        TestClient a = server.connect("/ws/");
        TestClient b = server.connect("/ws/");

        a.connection().attributes().put("k", "a");

        assertThat(a.connection().id()).isNotEqualTo(b.connection().id()).isNotBlank();
        assertThat(a.connection().attributes()).containsEntry("k", "a");
        assertThat(b.connection().attributes()).isEmpty();
        assertThat(a.connection().attributes()).isSameAs(a.connection().attributes());
    }

    @Test
    void binaryBufferGivenToTheRouterIsReadOnlyAndUnaffectedByTheClientArray() {
        AtomicReference<ByteBuffer> seen = new AtomicReference<>();
        TestClient client = connect(new RecordingRouter() {
            @Override
            void afterBinary(Connection connection, ByteBuffer data) {
                seen.set(data);
            }
        });
        byte[] sent = {1, 2, 3};

        client.sendBinary(sent);
        sent[0] = 9;

        assertThat(seen.get().isReadOnly()).isTrue();
        assertThat(seen.get().get(0)).isEqualTo((byte) 1);
        assertThat(seen.get().remaining()).isEqualTo(3);
    }
}
