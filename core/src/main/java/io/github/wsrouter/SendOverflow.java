package io.github.wsrouter;

/**
 * What happens to a send that would take a connection's send buffer (bytes queued but not yet
 * written, see {@link Connection#queuedBytes()}) over its bound: the peer is not reading fast
 * enough. Either way the sender never blocks and other connections are not slowed.
 */
public enum SendOverflow {

    /**
     * The slow connection is closed with {@link CloseStatus#SLOW_CONSUMER 4000}: its queued frames
     * are discarded (their stages fail with {@link SendBufferOverflowException}), the close frame is
     * sent, and the socket is dropped after the close timeout if the peer does not answer. The default.
     */
    CLOSE,

    /** The message is dropped for that connection alone (its stage fails, the drop is counted); it stays open. */
    DROP
}
