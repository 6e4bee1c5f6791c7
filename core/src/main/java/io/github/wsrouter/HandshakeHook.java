package io.github.wsrouter;

/**
 * Sees every WebSocket handshake before the upgrade: the place for authentication. Runs on the
 * server's IO thread (keep it fast: verify a signed token, do not call a remote service), before
 * the route's {@link MessageRouter#onHandshake}.
 *
 * <pre>{@code
 * HandshakeHook tokens = request -> {
 *     String user = verifier.userOf(request.queryParameter("token"));   // null if forged or missing
 *     return user == null ? HandshakeDecision.reject(401, "a valid token is required")
 *                         : HandshakeDecision.acceptAs(user);
 * };
 * }</pre>
 *
 * Browsers cannot set headers on a WebSocket handshake: pass a token in a query parameter (or a
 * cookie for same-site pages).
 */
@FunctionalInterface
public interface HandshakeHook {

    /** Accepts (with an identity and attributes, if any) or refuses the handshake. */
    HandshakeDecision onHandshake(HandshakeRequest request);
}
