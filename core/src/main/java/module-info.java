/**
 * wsrouter's routing model: {@link io.github.wsrouter.MessageRouter}, {@link
 * io.github.wsrouter.Connection}, the built-in routers, {@link io.github.wsrouter.ConnectionGroups}
 * and the in-memory test kit. Depends on Gson only.
 *
 * <p>The transport SPI ({@code io.github.wsrouter.spi}) and the shared helpers ({@code
 * io.github.wsrouter.internal}) are exported to wsrouter's own server module only: they are not API.
 */
module io.github.wsrouter.core {
    requires com.google.gson;

    exports io.github.wsrouter;
    exports io.github.wsrouter.testkit;
    exports io.github.wsrouter.spi to
            io.github.wsrouter.server;
    exports io.github.wsrouter.internal to
            io.github.wsrouter.server;

    uses io.github.wsrouter.Relay.Provider;
}
