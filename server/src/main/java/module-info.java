/**
 * wsrouter on Undertow: {@link io.github.wsrouter.server.WsServer}, the native adapter and the
 * Jakarta WebSocket adapter.
 *
 * <p>Undertow and XNIO publish no module names: the names required here are the ones the JDK
 * derives from their jar names ({@code undertow-core-*.jar} is {@code undertow.core}), the same in
 * every 2.3 release. The Jakarta adapter's dependencies are optional ({@code requires static}): an
 * application that uses only the native adapter does not need them at all.
 */
module io.github.wsrouter.server {
    requires transitive io.github.wsrouter.core;
    requires transitive undertow.core;
    requires xnio.api;
    requires static undertow.servlet;
    requires static undertow.websockets.jsr;
    requires static jakarta.servlet;
    requires static jakarta.websocket;

    exports io.github.wsrouter.server;
    exports io.github.wsrouter.server.undertow;
    exports io.github.wsrouter.server.jakarta;

    // the Jakarta container creates and inspects the endpoint classes reflectively
    opens io.github.wsrouter.server.jakarta to
            undertow.websockets.jsr;
}
