package io.github.wsrouter;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link HandshakeHook} or {@link MessageRouter#onHandshake} decides about a handshake:
 * accept it, optionally attaching an identity and attributes to the connection, or refuse it with
 * an HTTP status before any upgrade. Immutable.
 */
public final class HandshakeDecision {

    private static final HandshakeDecision ACCEPT = new HandshakeDecision(0, null, null, Map.of(), null);

    private final int status;
    private final String reason;
    private final String identity;
    private final Map<String, Object> attributes;
    private final String subprotocol;

    private HandshakeDecision(
            int status, String reason, String identity, Map<String, Object> attributes, String subprotocol) {
        this.status = status;
        this.reason = reason;
        this.identity = identity;
        this.attributes = attributes;
        this.subprotocol = subprotocol;
    }

    /** Accept, changing nothing. */
    public static HandshakeDecision accept() {
        return ACCEPT;
    }

    /** Accept, as this authenticated user: {@link Connection#identity()}. */
    public static HandshakeDecision acceptAs(String identity) {
        if (identity == null || identity.isBlank()) {
            throw new IllegalArgumentException("identity must not be blank");
        }
        return new HandshakeDecision(0, null, identity, Map.of(), null);
    }

    /**
     * Refuse with an HTTP status (4xx or 5xx) and a short reason sent as the response body.
     */
    public static HandshakeDecision reject(int status, String reason) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("a refused handshake needs a 4xx or 5xx status: " + status);
        }
        return new HandshakeDecision(status, Objects.requireNonNullElse(reason, ""), null, Map.of(), null);
    }

    /** This decision with an attribute the connection will start with. */
    public HandshakeDecision withAttribute(String name, Object value) {
        if (isRejected()) {
            throw new IllegalStateException("a refused handshake has no connection to carry attributes");
        }
        Map<String, Object> copy = new LinkedHashMap<>(attributes);
        copy.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
        return new HandshakeDecision(0, null, identity, Map.copyOf(copy), subprotocol);
    }

    /**
     * This decision, choosing one of the subprotocols the client offered ({@link
     * HandshakeRequest#subprotocols()}); the server echoes it in {@code Sec-WebSocket-Protocol}, as
     * RFC 6455 requires when a client offered any (a browser fails a handshake that offered
     * subprotocols and got none back). A choice the client did not offer refuses the handshake
     * with 500: it is a bug in the hook.
     */
    public HandshakeDecision withSubprotocol(String subprotocol) {
        if (isRejected()) {
            throw new IllegalStateException("a refused handshake has no subprotocol");
        }
        if (subprotocol == null || subprotocol.isBlank()) {
            throw new IllegalArgumentException("subprotocol must not be blank");
        }
        return new HandshakeDecision(0, null, identity, attributes, subprotocol);
    }

    /** The chosen subprotocol, or {@code null}. */
    public String subprotocol() {
        return subprotocol;
    }

    public boolean isRejected() {
        return status != 0;
    }

    /** The HTTP status of a refusal; 0 when accepted. */
    public int status() {
        return status;
    }

    /** The reason of a refusal, or {@code null}. */
    public String reason() {
        return reason;
    }

    /** The identity attached, or {@code null}. */
    public String identity() {
        return identity;
    }

    /** The attributes attached. */
    public Map<String, Object> attributes() {
        return attributes;
    }

    @Override
    public String toString() {
        return isRejected()
                ? "reject " + status + " " + reason
                : "accept" + (identity == null ? "" : " as " + identity);
    }
}
