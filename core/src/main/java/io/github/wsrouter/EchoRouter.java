package io.github.wsrouter;

import java.nio.ByteBuffer;

/**
 * Sends every message back to its sender only: text as text, binary as binary.
 *
 * <pre>
 * → hello          ← hello
 * → [0x01 0x02]    ← [0x01 0x02]
 * </pre>
 */
public final class EchoRouter implements MessageRouter {

    private EchoRouter() {}

    /** An echo router; it keeps no state, so one instance may serve any number of routes. */
    public static EchoRouter create() {
        return new EchoRouter();
    }

    @Override
    public void onText(Connection connection, String text) {
        connection.sendText(text);
    }

    @Override
    public void onBinary(Connection connection, ByteBuffer data) {
        connection.sendBinary(data);
    }
}
