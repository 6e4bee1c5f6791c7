/** wsrouter's counters as Micrometer meters: {@link io.github.wsrouter.micrometer.WsRouterMetrics}. */
module io.github.wsrouter.micrometer {
    requires transitive io.github.wsrouter.server;
    requires transitive micrometer.core;

    exports io.github.wsrouter.micrometer;
}
