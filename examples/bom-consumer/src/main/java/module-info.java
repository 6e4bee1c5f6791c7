/** An application as a wsrouter user writes one, as a named module on the module path. */
module io.github.wsrouter.bomconsumer {
    requires io.github.wsrouter.server;
    requires io.github.wsrouter.micrometer;
    requires java.net.http;
}
