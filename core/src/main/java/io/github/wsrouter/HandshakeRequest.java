package io.github.wsrouter;

import java.util.List;
import java.util.Map;

/**
 * The HTTP request that asks to open a WebSocket, as a {@link HandshakeHook} and {@link
 * MessageRouter#onHandshake} see it, before any upgrade.
 */
public interface HandshakeRequest {

    /** The request path, without the query string. */
    String path();

    /** The route's path parameters, percent-decoded. */
    Map<String, String> pathParameters();

    /** The query parameters, percent-decoded. */
    Map<String, List<String>> queryParameters();

    /** The request headers, names case-insensitive. */
    Map<String, List<String>> headers();

    /** The identity an earlier hook attached, or {@code null}. */
    String identity();

    /** The first value of a header, or {@code null}. */
    default String header(String name) {
        List<String> values = headers().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The first value of a query parameter, or {@code null}. */
    default String queryParameter(String name) {
        List<String> values = queryParameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /**
     * The subprotocols the client offered in {@code Sec-WebSocket-Protocol}, in its order; empty if
     * none. Browsers cannot set other headers on a WebSocket handshake, so this is where a page
     * can put a bearer token: {@code new WebSocket(url, ["chat", "token." + token])}.
     */
    default List<String> subprotocols() {
        List<String> headers = headers().get("Sec-WebSocket-Protocol");
        if (headers == null) {
            return List.of();
        }
        List<String> offered = new java.util.ArrayList<>();
        for (String header : headers) {
            for (String token : header.split(",")) {
                String trimmed = token.trim();
                if (!trimmed.isEmpty()) {
                    offered.add(trimmed);
                }
            }
        }
        return List.copyOf(offered);
    }

    /** The value of a cookie from the {@code Cookie} headers, or {@code null}. */
    default String cookie(String name) {
        List<String> headers = headers().get("Cookie");
        if (headers == null) {
            return null;
        }
        for (String header : headers) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                    return pair.substring(eq + 1).trim();
                }
            }
        }
        return null;
    }
}
