package io.github.wsrouter.server.jakarta;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.server.internal.FrameGuard;
import io.github.wsrouter.server.internal.GuardedConnection;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.OutboundFrame;
import io.github.wsrouter.spi.RouteCounters;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import io.undertow.websockets.jsr.UndertowSession;
import jakarta.websocket.CloseReason;
import jakarta.websocket.SendHandler;
import jakarta.websocket.Session;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.xnio.IoUtils;

/**
 * A connection on a Jakarta WebSocket {@link Session}. Sends go through {@code RemoteEndpoint.Async}
 * one at a time: {@link AbstractConnection}'s queue hands it batches of one frame and the next only
 * when the container has reported the previous one done, so the container never sees a second
 * send while one is in progress (the "TEXT_PARTIAL_WRITING" failure), however many threads send.
 *
 * <p>Closes for a violation the {@link FrameGuard} finds (1008, 1009) go through the connection's
 * one close path and linger as on the native adapter. A payload error Undertow's JSR container
 * finds itself (1007, invalid UTF-8) does not linger: its {@code FrameHandler.onError} calls
 * {@code UndertowSession.forceClose()} right after the endpoint's {@code onError}, whatever that
 * does, and that closes the socket itself (XNIO closes the {@code SocketChannel} directly, below
 * the conduit where the guard lingers). Lingering there would take a frame handler of our own in
 * place of the container's, or a UTF-8 check in the guard.
 */
final class JakartaConnection extends AbstractConnection implements GuardedConnection {

    /** Set once by {@link #attach} for a connection opened before its session; until then frames wait. */
    private volatile Session session;

    private final Settings.Limits limits;

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

    /** The close timeout's timer, removed when the socket closes (see {@code UndertowConnection}). */
    private volatile org.xnio.XnioExecutor.Key closeTimer;

    private void useSession(Session opened) {
        this.session = opened;
        if (opened instanceof UndertowSession undertow) {
            // Undertow reports onClose as soon as we close locally; the socket is gone only when
            // the closing handshake is done, which is what a stop waits for.
            undertow.getWebSocketChannel().addCloseTask(channel -> {
                org.xnio.XnioExecutor.Key timer = closeTimer;
                if (timer != null) {
                    timer.remove(); // the close completed: the timer would hold the connection for nothing
                }
                onTerminated.accept(this);
            });
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

    /**
     * Writes the one frame of a batch ({@link #maxFramesInFlight()} is 1: the container takes one
     * send at a time) and calls it back when the container reports it done.
     */
    @Override
    protected void write(List<OutboundFrame> batch) {
        for (OutboundFrame frame : batch) {
            switch (frame.kind()) {
                case TEXT -> session.getAsyncRemote().sendText(frame.text(), handler(frame));
                case BINARY -> session.getAsyncRemote().sendBinary(frame.data(), handler(frame));
                case CLOSE -> writeClose(frame);
                default -> throw new AssertionError(frame.kind());
            }
        }
    }

    /**
     * The close frame. On Undertow's container a close for a violation is sent on the channel and
     * the read side lingers (as on the native adapter); otherwise through the session, and a peer
     * that never answers is dropped after the close timeout.
     */
    private void writeClose(OutboundFrame close) {
        CloseStatus status = close.status();
        WebSocketChannel channel = webSocketChannel();
        if (close.lingers() && channel != null) {
            if (!channel.isCloseFrameSent() && channel.isOpen()) {
                WebSockets.sendClose(status.code(), status.reason(), channel, null);
            }
            close.done(null);
            if (channel.isOpen()) {
                FrameGuard.stopReading(channel);
            }
            return;
        }
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(status.code()), status.reason()));
            close.done(null);
        } catch (IOException | RuntimeException e) {
            close.done(e);
        }
        if (channel != null && channel.isOpen()) {
            // A peer that never answers our close frame is dropped after the close timeout.
            closeTimer = channel.getIoThread()
                    .executeAfter(() -> IoUtils.safeClose(channel), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    protected void slowConsumer() {
        if (session instanceof UndertowSession undertow) {
            var channel = undertow.getWebSocketChannel();
            channel.getIoThread()
                    .executeAfter(() -> IoUtils.safeClose(channel), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The container reported the session closed. */
    void sessionClosed(CloseReason reason) {
        closedWith(toStatus(reason));
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

    @Override
    protected void dropSocket() {
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

    private static SendHandler handler(OutboundFrame callback) {
        return result -> callback.done(result.isOK() ? null : result.getException());
    }
}
