package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A router that records every callback as a short string ({@code open}, {@code text:hi}, {@code
 * binary:hi}, {@code error:boom}, {@code close:1000}) and checks callbacks never nest or overlap.
 * Subclasses add behaviour by overriding the {@code after*} hooks.
 */
class RecordingRouter implements MessageRouter {

    final List<String> events = new CopyOnWriteArrayList<>();
    final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger maxRunning = new AtomicInteger();

    @Override
    public final void onOpen(Connection connection) {
        enter();
        try {
            events.add("open");
            afterOpen(connection);
        } finally {
            exit();
        }
    }

    @Override
    public final void onText(Connection connection, String text) {
        enter();
        try {
            events.add("text:" + text);
            afterText(connection, text);
        } finally {
            exit();
        }
    }

    @Override
    public final void onBinary(Connection connection, ByteBuffer data) {
        enter();
        try {
            events.add("binary:" + StandardCharsets.UTF_8.decode(data.duplicate()));
            afterBinary(connection, data);
        } finally {
            exit();
        }
    }

    @Override
    public final void onError(Connection connection, Throwable error) {
        enter();
        try {
            events.add("error:" + error.getMessage());
            errors.add(error);
            afterError(connection, error);
        } finally {
            exit();
        }
    }

    @Override
    public final void onClose(Connection connection, CloseStatus status) {
        enter();
        try {
            events.add("close:" + status.code());
            afterClose(connection, status);
        } finally {
            exit();
        }
    }

    void afterOpen(Connection connection) {}

    void afterText(Connection connection, String text) {}

    void afterBinary(Connection connection, ByteBuffer data) {}

    void afterError(Connection connection, Throwable error) {}

    void afterClose(Connection connection, CloseStatus status) {}

    /** Checks that no callback ever ran inside another one or beside it (for one connection only). */
    void assertNeverNested() {
        assertThat(maxRunning.get()).as("callbacks running at once").isLessThanOrEqualTo(1);
    }

    private void enter() {
        maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
    }

    private void exit() {
        running.decrementAndGet();
    }
}
