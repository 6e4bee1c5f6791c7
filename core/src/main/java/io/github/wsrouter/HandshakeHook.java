package io.github.wsrouter;

/**
 * Sees every WebSocket handshake before the upgrade: the place for authentication. Runs on the
 * server's IO thread (keep it fast: verify a signed token, do not call a remote service), before
 * the route's {@link MessageRouter#onHandshake}.
 *
 * <pre>{@code
 * HandshakeHook tokens = request -> {
 *     String token = request.subprotocols().stream()           // offered as "token.<token>"
 *             .filter(p -> p.startsWith("token.")).findFirst().orElse(null);
 *     String user = token == null ? null : verifier.userOf(token.substring(6)); // null if forged
 *     return user == null ? HandshakeDecision.reject(401, "a valid token is required")
 *                         : HandshakeDecision.acceptAs(user).withSubprotocol(token);
 * };
 * }</pre>
 *
 * Browsers cannot set headers on a WebSocket handshake. Pass a token as an offered subprotocol
 * ({@code new WebSocket(url, ["chat", "token." + token])}; see {@link
 * HandshakeRequest#subprotocols()}), not in a query parameter: URLs end up in access logs, browser
 * history and proxies. A cookie works for same-site pages, but then check the {@code Origin}
 * (the server's origin policy does) against cross-site WebSocket hijacking. Other clients can
 * send {@code Authorization}, which {@link HandshakeRequest#header} reads.
 */
@FunctionalInterface
public interface HandshakeHook {

    /** Accepts (with an identity and attributes, if any) or refuses the handshake. */
    HandshakeDecision onHandshake(HandshakeRequest request);
}
