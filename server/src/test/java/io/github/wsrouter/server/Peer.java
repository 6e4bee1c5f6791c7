package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import java.nio.ByteBuffer;

/**
 * A client of a server under test, whatever the transport: the contract suite talks to servers
 * only through this. Every await fails with an AssertionError after a bounded timeout.
 */
interface Peer {

    void sendText(String text);

    void sendBinary(byte[] data);

    /** The next message, which must be text. */
    String awaitText();

    /** The next message, which must be binary. */
    ByteBuffer awaitBinary();

    /** Waits for the server to close the connection; fails if a message comes first. */
    CloseStatus awaitClose();

    /** Starts a clean close from the client side and waits for it to complete. */
    void close(CloseStatus status);

    /** Drops the connection without a close frame. */
    void abort();
}
