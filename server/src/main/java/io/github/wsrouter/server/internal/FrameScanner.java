package io.github.wsrouter.server.internal;

import java.nio.ByteBuffer;

/**
 * Follows the frame headers in a stream of WebSocket frames, masked or not, to know where each
 * frame ends and what it was: the {@link FrameWriter} follows Undertow's outgoing frames with one,
 * the {@link FrameReader} the incoming bytes it hands to Undertow.
 */
final class FrameScanner {
    private static final int FIRST = 0;
    private static final int SECOND = 1;
    private static final int LENGTH = 2;
    private static final int MASK = 3;
    private static final int PAYLOAD = 4;
    private static final int OPCODE_CLOSE = 0x8;

    private int state = FIRST;
    private int lengthBytes;
    private long remaining;
    private boolean masked;
    /** A close frame has begun. */
    boolean closeBegun;
    /** The opcode of the frame under way, or of the last one once it has ended. */
    int opcode;
    /** Whether the frame under way, or the last one, is final. */
    boolean fin;

    /** Whether the stream is between two frames: a frame may begin here. */
    boolean betweenFrames() {
        return state == FIRST;
    }

    FrameScanner copy() {
        FrameScanner c = new FrameScanner();
        c.state = state;
        c.lengthBytes = lengthBytes;
        c.remaining = remaining;
        c.masked = masked;
        c.closeBegun = closeBegun;
        c.opcode = opcode;
        c.fin = fin;
        return c;
    }

    /**
     * Follows the bytes {@code from} to {@code to} of the buffer; with {@code stop}, only to the
     * end of the frame under way. Returns the index it stopped at.
     */
    int scan(ByteBuffer buffer, int from, int to, boolean stop) {
        int i = from;
        while (i < to) {
            switch (state) {
                case FIRST -> {
                    int b = buffer.get(i++);
                    fin = (b & 0x80) != 0;
                    opcode = b & 0x0F;
                    closeBegun |= opcode == OPCODE_CLOSE;
                    state = SECOND;
                }
                case SECOND -> {
                    int b = buffer.get(i++);
                    masked = (b & 0x80) != 0;
                    int len = b & 0x7F;
                    remaining = len < 126 ? len : 0;
                    lengthBytes = len == 126 ? 2 : len == 127 ? 8 : 0;
                    state = lengthBytes > 0 ? LENGTH : afterLength();
                }
                case LENGTH -> {
                    remaining = (remaining << 8) | (buffer.get(i++) & 0xFF);
                    state = --lengthBytes > 0 ? LENGTH : afterLength();
                }
                case MASK -> {
                    i++;
                    state = --lengthBytes > 0 ? MASK : afterMask();
                }
                default -> { // PAYLOAD
                    int skip = (int) Math.min(remaining, to - i);
                    i += skip;
                    remaining -= skip;
                    if (remaining == 0) {
                        state = FIRST;
                    }
                }
            }
            if (stop && state == FIRST) {
                return i;
            }
        }
        return i;
    }

    private int afterLength() {
        if (masked) {
            lengthBytes = 4;
            return MASK;
        }
        return afterMask();
    }

    private int afterMask() {
        return remaining == 0 ? FIRST : PAYLOAD;
    }
}
