package io.github.wsrouter;

import java.nio.charset.StandardCharsets;

/**
 * The status of a WebSocket close: a code and an optional reason (RFC 6455, section 7.4).
 *
 * <p>An immutable, validated value. The constructor accepts every code a peer may legitimately
 * report: the codes RFC 6455 and its registry define in 1000–1015, and the application ranges
 * 3000–3999 (registered) and 4000–4999 (private use). Codes 1005, 1006 and 1015 are reported
 * locally (no status, abnormal closure, TLS failure) and never appear on the wire; {@link
 * #isSendable()} tells them apart. The reason is at most 123 bytes of UTF-8, so that a close
 * frame fits in a control frame.
 *
 * <p>Codes wsrouter itself sends are listed as constants here; codes in 4000–4999 are free for
 * applications.
 *
 * @param code the close code
 * @param reason the reason, never {@code null}; empty when none was given
 */
public record CloseStatus(int code, String reason) {

    /** 1000: the purpose for which the connection was established has been fulfilled. */
    public static final CloseStatus NORMAL = new CloseStatus(1000, "");
    /** 1001: an endpoint is going away, such as a server shutting down. */
    public static final CloseStatus GOING_AWAY = new CloseStatus(1001, "");
    /** 1002: the peer broke the protocol. */
    public static final CloseStatus PROTOCOL_ERROR = new CloseStatus(1002, "");
    /** 1003: a data type the endpoint cannot accept (for example binary on a text-only route). */
    public static final CloseStatus UNSUPPORTED_DATA = new CloseStatus(1003, "");
    /** 1005: reported locally when a close frame carried no status code; never sent. */
    public static final CloseStatus NO_STATUS = new CloseStatus(1005, "");
    /** 1006: reported locally when the connection dropped without a close frame; never sent. */
    public static final CloseStatus ABNORMAL_CLOSURE = new CloseStatus(1006, "");
    /** 1007: a message's data was not consistent with its type (for example invalid UTF-8). */
    public static final CloseStatus INVALID_PAYLOAD = new CloseStatus(1007, "");
    /** 1008: a message violated the endpoint's policy (for example no user identity). */
    public static final CloseStatus POLICY_VIOLATION = new CloseStatus(1008, "");
    /** 1009: a message was too big to process. */
    public static final CloseStatus MESSAGE_TOO_BIG = new CloseStatus(1009, "");
    /** 1010: the client expected the server to negotiate an extension. */
    public static final CloseStatus MANDATORY_EXTENSION = new CloseStatus(1010, "");
    /** 1011: the server met an unexpected condition, such as a router that threw. */
    public static final CloseStatus INTERNAL_ERROR = new CloseStatus(1011, "");
    /** 1012: the service is restarting. */
    public static final CloseStatus SERVICE_RESTART = new CloseStatus(1012, "");
    /** 1013: the service is overloaded; try again later. */
    public static final CloseStatus TRY_AGAIN_LATER = new CloseStatus(1013, "");

    /**
     * 4000 (wsrouter): the peer read too slowly and its send buffer overflowed; see {@link
     * SendOverflow#CLOSE}.
     */
    public static final CloseStatus SLOW_CONSUMER = new CloseStatus(4000, "slow consumer");

    /**
     * 4010 (wsrouter): messages from other servers may not have reached this connection (the
     * server lost its link to them, or fell behind); reconnect, and resume where the route keeps
     * history. Sent by {@link ConnectionGroups} on a {@linkplain Relay.Receiver#onGap gap}.
     */
    public static final CloseStatus MISSED_MESSAGES = new CloseStatus(4010, "missed messages");

    private static final int MAX_REASON_BYTES = 123;

    /**
     * @throws IllegalArgumentException if the code is outside the ranges above, or the reason
     *     is longer than 123 bytes of UTF-8
     */
    public CloseStatus {
        if (!isValidCode(code)) {
            throw new IllegalArgumentException(
                    "invalid WebSocket close code " + code + ": expected 1000-1003, 1005-1015 or 3000-4999");
        }
        reason = reason == null ? "" : reason;
        int bytes = reason.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_REASON_BYTES) {
            throw new IllegalArgumentException("close reason is " + bytes + " bytes of UTF-8; at most "
                    + MAX_REASON_BYTES + " fit in a close frame");
        }
    }

    /** A status with the given code and no reason. */
    public static CloseStatus of(int code) {
        return new CloseStatus(code, "");
    }

    /** A status with the given code and reason. */
    public static CloseStatus of(int code, String reason) {
        return new CloseStatus(code, reason);
    }

    /** This code with another reason. */
    public CloseStatus withReason(String newReason) {
        return new CloseStatus(code, newReason);
    }

    /** Whether this status may be sent in a close frame (false for 1005, 1006 and 1015). */
    public boolean isSendable() {
        return code != 1005 && code != 1006 && code != 1015;
    }

    private static boolean isValidCode(int code) {
        return (code >= 1000 && code <= 1015 && code != 1004) || (code >= 3000 && code <= 4999);
    }

    @Override
    public String toString() {
        return reason.isEmpty() ? Integer.toString(code) : code + " " + reason;
    }
}
