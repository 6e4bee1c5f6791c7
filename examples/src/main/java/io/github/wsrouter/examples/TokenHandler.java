package io.github.wsrouter.examples;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import io.undertow.util.StatusCodes;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * {@code POST /token} with {@code user=NAME} answers {@code {"token":"..."}}: the chat page asks for
 * one before it connects. When the runner was not started with {@code --require-token} it answers
 * {@code {"token":null}}, and the page connects without.
 */
final class TokenHandler implements HttpHandler {

    private final Tokens tokens;

    TokenHandler(Tokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (tokens == null) {
            answer(exchange, StatusCodes.OK, "{\"token\":null}");
            return;
        }
        if (!exchange.getRequestMethod().equals(Methods.POST)) {
            exchange.getResponseHeaders().put(Headers.ALLOW, "POST");
            answer(exchange, StatusCodes.METHOD_NOT_ALLOWED, "{\"error\":\"post_only\"}");
            return;
        }
        exchange.getRequestReceiver()
                .receiveFullString(
                        (ex, body) -> {
                            String user = null;
                            for (String pair : body.split("&")) {
                                if (pair.startsWith("user=")) {
                                    user = URLDecoder.decode(pair.substring(5), StandardCharsets.UTF_8);
                                }
                            }
                            if (!Tokens.isValidUser(user)) {
                                answer(ex, StatusCodes.BAD_REQUEST, "{\"error\":\"invalid_user\"}");
                                return;
                            }
                            answer(ex, StatusCodes.OK, "{\"token\":\"" + tokens.issue(user) + "\"}");
                        },
                        StandardCharsets.UTF_8);
    }

    private static void answer(HttpServerExchange exchange, int status, String json) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json; charset=utf-8");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseSender().send(json);
    }
}
