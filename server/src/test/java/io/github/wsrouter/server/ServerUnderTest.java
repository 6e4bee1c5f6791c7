package io.github.wsrouter.server;

/** A running server, of whichever transport, as the contract suite sees it. */
interface ServerUnderTest extends AutoCloseable {

    /** Opens a connection at a path; the server's onOpen may still be under way. */
    Peer connect(String path);

    /** Stops the server: every open connection is closed with 1001. */
    void stop();

    @Override
    default void close() {
        stop();
    }
}
