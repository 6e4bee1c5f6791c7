package io.github.wsrouter.benchmarks;

/** A server under test: the plain Undertow baseline or wsrouter, serving the benchmark's routes. */
public interface BenchServer {

    BenchServer start();

    int port();

    /** Open WebSocket connections now. */
    int connectionCount();

    void stop();

    /** Which server, and the paths of its echo, broadcast and directed routes. */
    enum Kind {
        BASELINE("plain Undertow", "/echo", "/broadcast", "/ws/%s/"),
        WSROUTER("wsrouter", "/echo/", "/ws/", "/ws/%s/");

        final String label;
        final String echoPath;
        final String broadcastPath;
        final String directedPath;

        Kind(String label, String echoPath, String broadcastPath, String directedPath) {
            this.label = label;
            this.echoPath = echoPath;
            this.broadcastPath = broadcastPath;
            this.directedPath = directedPath;
        }

        BenchServer create(String host, int port) {
            return this == BASELINE ? new BaselineServer(host, port) : new WsrouterServer(host, port);
        }
    }
}
