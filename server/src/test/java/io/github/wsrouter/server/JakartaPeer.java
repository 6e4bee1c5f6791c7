package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.undertow.websockets.jsr.UndertowSession;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import java.net.URI;
import java.nio.ByteBuffer;

/** A {@link Peer} over the Jakarta WebSocket client ({@code ContainerProvider}, Undertow's implementation). */
final class JakartaPeer extends RecordingPeer {

    private static final WebSocketContainer CONTAINER = clientContainer();

    /**
     * The client container of {@code ContainerProvider}. Undertow answers by context class loader,
     * and a servlet deployment registers its server container under its own loader; asking with a
     * loader no deployment uses gives the standalone client container, which outlives every server.
     */
    private static WebSocketContainer clientContainer() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(new ClassLoader(JakartaPeer.class.getClassLoader()) {});
        try {
            return ContainerProvider.getWebSocketContainer();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** The container's callbacks, recorded; the peer itself is the recording. */
    private final Endpoint endpoint = new Endpoint() {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            session.setMaxTextMessageBufferSize(1 << 20);
            session.setMaxBinaryMessageBufferSize(1 << 20);
            session.addMessageHandler(String.class, (MessageHandler.Whole<String>) JakartaPeer.this::receivedText);
            session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) data -> {
                ByteBuffer copy = ByteBuffer.allocate(data.remaining());
                copy.put(data).flip();
                receivedBinary(copy);
            });
        }

        @Override
        public void onClose(Session session, CloseReason reason) {
            receivedClose(CloseStatus.of(reason.getCloseCode().getCode(), reason.getReasonPhrase()));
        }

        @Override
        public void onError(Session session, Throwable error) {
            failed(error);
        }
    };

    private final Session session;

    private JakartaPeer(URI uri) {
        try {
            this.session = CONTAINER.connectToServer(
                    endpoint, ClientEndpointConfig.Builder.create().build(), uri);
        } catch (Exception e) {
            throw new AssertionError("could not connect to " + uri + ": " + e, e);
        }
    }

    static JakartaPeer connect(URI uri) {
        return new JakartaPeer(uri);
    }

    @Override
    public synchronized void sendText(String text) {
        try {
            session.getBasicRemote().sendText(text);
        } catch (Exception e) {
            throw new AssertionError("could not send text: " + e, e);
        }
    }

    @Override
    public synchronized void sendBinary(byte[] data) {
        try {
            session.getBasicRemote().sendBinary(ByteBuffer.wrap(data));
        } catch (Exception e) {
            throw new AssertionError("could not send binary: " + e, e);
        }
    }

    @Override
    public void close(CloseStatus status) {
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(status.code()), status.reason()));
        } catch (Exception e) {
            throw new AssertionError("could not close: " + e, e);
        }
    }

    @Override
    public void abort() {
        ((UndertowSession) session).forceClose();
    }
}
