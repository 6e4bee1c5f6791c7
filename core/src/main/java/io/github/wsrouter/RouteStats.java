package io.github.wsrouter;

/**
 * The counters of one route at one moment. Text is counted in characters, binary in bytes.
 *
 * @param open connections open now
 * @param opened connections opened since start
 * @param closed connections closed since start
 * @param messagesIn messages received
 * @param messagesOut messages written
 * @param bytesIn payload bytes received (text counted in UTF-8)
 * @param bytesOut payload bytes written (text counted in UTF-8)
 * @param slowConsumerCloses connections closed because their send buffer overflowed
 * @param droppedMessages messages dropped because a send buffer was full
 * @param errorReplies error replies sent ({@link Connection#sendError}): bad JSON, unknown
 *     recipients, rate limiting
 */
public record RouteStats(
        long open,
        long opened,
        long closed,
        long messagesIn,
        long messagesOut,
        long bytesIn,
        long bytesOut,
        long slowConsumerCloses,
        long droppedMessages,
        long errorReplies) {

    /** All zero. */
    public static final RouteStats ZERO = new RouteStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** The sum of two snapshots. */
    public RouteStats plus(RouteStats other) {
        return new RouteStats(
                open + other.open,
                opened + other.opened,
                closed + other.closed,
                messagesIn + other.messagesIn,
                messagesOut + other.messagesOut,
                bytesIn + other.bytesIn,
                bytesOut + other.bytesOut,
                slowConsumerCloses + other.slowConsumerCloses,
                droppedMessages + other.droppedMessages,
                errorReplies + other.errorReplies);
    }
}
