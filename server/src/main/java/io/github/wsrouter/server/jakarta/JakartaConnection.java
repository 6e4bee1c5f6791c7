package io.github.wsrouter.server.jakarta;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.server.internal.GuardedConnection;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.RouteCounters;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.jsr.UndertowSession;
import jakarta.websocket.CloseReason;
import jakarta.websocket.SendHandler;
import jakarta.websocket.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.xnio.IoUtils;

/**
 * A connection on a Jakarta WebSocket {@link Session}. Sends go through {@code RemoteEndpoint.Async}
 * one at a time: {@link AbstractConnection}'s queue hands over the next frame only when the
 * container has reported the previous one done, so the container never sees a second send while
 * one is in progress (the "TEXT_PARTIAL_WRITING" failure), however many threads send.
 */
final class JakartaConnection extends AbstractConnection implements GuardedConnection {

    /** Set once by {@link #attach} for a connection opened before its session; until then frames wait. */
    private volatile Session session;

    private final Settings.Limits limits;
    private volatile CloseStatus sentStatus;

    private final Consumer<JakartaConnection> onTerminated;

    JakartaConnection(
            Handshake handshake,
            MessageRouter router,
            Executor callbackExecutor,
            Settings.Limits limits,
            RouteCounters counters,
            Session session,
            Consumer<JakartaConnection> onTerminated) {
        super(handshake, router, callbackExecutor, limits.sendLimits(), counters);
        this.limits = limits;
        this.onTerminated = onTerminated;
        useSession(session);
    }

    /**
     * A connection opened in the handshake, before its 101 and its session: frames wait in the send
     * queue until {@link #attach}, or fail with {@link #upgradeFailed()}.
     */
    JakartaConnection(
            Handshake handshake,
            MessageRouter router,
            Executor callbackExecutor,
            Settings.Limits limits,
            RouteCounters counters,
            Consumer<JakartaConnection> onTerminated) {
        super(handshake, router, callbackExecutor, limits.sendLimits(), counters, false);
        this.limits = limits;
        this.onTerminated = onTerminated;
    }

    private void useSession(Session opened) {
        this.session = opened;
        if (opened instanceof UndertowSession undertow) {
            // Undertow reports onClose as soon as we close locally; the socket is gone only when
            // the closing handshake is done, which is what a stop waits for.
            undertow.getWebSocketChannel().addCloseTask(channel -> onTerminated.accept(this));
        }
    }

    /**
     * The container opened the session: returns {@code false} if the upgrade was given up first
     * (the router has heard its close). Frames go out once {@link #ready()} is called.
     */
    boolean attach(Session opened) {
        if (!claimSocket()) {
            return false;
        }
        useSession(opened);
        return true;
    }

    /** Queued frames go to the session: once the message handlers are in place. */
    void ready() {
        transportReady();
    }

    /**
     * The upgrade failed after the router's {@code onOpen} and before the session opened: the
     * router hears 1006, once, and the connection is forgotten. Ignored once the session is there.
     */
    void upgradeFailed() {
        if (failUpgrade()) { // closed before terminated: see JakartaRoutes.openInHandshake
            onTerminated.accept(this);
        }
    }

    @Override
    protected void writeText(String text, WriteCallback callback) {
        session.getAsyncRemote().sendText(text, handler(callback));
    }

    @Override
    protected void writeBinary(ByteBuffer data, WriteCallback callback) {
        session.getAsyncRemote().sendBinary(data, handler(callback));
    }

    @Override
    protected void writeClose(CloseStatus status, WriteCallback callback) {
        sentStatus = status;
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(status.code()), status.reason()));
            callback.done(null);
        } catch (IOException | RuntimeException e) {
            callback.done(e);
        }
        if (session instanceof UndertowSession undertow) {
            // A peer that never answers our close frame is dropped after the close timeout.
            var channel = undertow.getWebSocketChannel();
            channel.getIoThread()
                    .executeAfter(() -> IoUtils.safeClose(channel), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    protected void slowConsumer() {
        sentStatus = CloseStatus.SLOW_CONSUMER;
        if (session instanceof UndertowSession undertow) {
            var channel = undertow.getWebSocketChannel();
            channel.getIoThread()
                    .executeAfter(() -> IoUtils.safeClose(channel), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The container reported the session closed. */
    void sessionClosed(CloseReason reason) {
        CloseStatus sent = sentStatus;
        closed(sent != null ? sent : toStatus(reason));
        if (!(session instanceof UndertowSession)) {
            onTerminated.accept(this);
        }
    }

    @Override
    public WebSocketChannel webSocketChannel() {
        Session session = this.session;
        return session instanceof UndertowSession undertow ? undertow.getWebSocketChannel() : null;
    }

    @Override
    public Settings.Limits limits() {
        return limits;
    }

    /** Records the status we close with ourselves, outside the send queue (a policy violation). */
    @Override
    public void closedBy(CloseStatus status) {
        if (sentStatus == null) {
            sentStatus = status;
        }
    }

    /** Drops a peer that has been silent for the idle timeout: the router sees 1001 "idle timeout". */
    @Override
    public void dropIdle() {
        sentStatus = CloseStatus.GOING_AWAY.withReason("idle timeout");
        abort();
    }

    /** Drops the connection without a closing handshake, where the container allows it. */
    void abort() {
        Session session = this.session;
        if (session == null) {
            upgradeFailed(); // the session, if it still comes, is closed at once
        } else if (session instanceof UndertowSession undertow) {
            undertow.forceClose();
        } else {
            try {
                session.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private static CloseStatus toStatus(CloseReason reason) {
        if (reason == null) {
            return CloseStatus.ABNORMAL_CLOSURE;
        }
        try {
            return CloseStatus.of(reason.getCloseCode().getCode(), reason.getReasonPhrase());
        } catch (IllegalArgumentException invalid) {
            return CloseStatus.PROTOCOL_ERROR;
        }
    }

    private static SendHandler handler(WriteCallback callback) {
        return result -> callback.done(result.isOK() ? null : result.getException());
    }
}
