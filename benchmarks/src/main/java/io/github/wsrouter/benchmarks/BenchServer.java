package io.github.wsrouter.benchmarks;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * A server under test: a baseline (plain Undertow or Netty) or wsrouter (with or without its
 * metrics), serving the benchmark's routes.
 */
public interface BenchServer {

    BenchServer start();

    int port();

    /** Open WebSocket connections now. */
    int connectionCount();

    /** Anything the server measured about itself, on one line (the metrics target: its scrapes); empty if nothing. */
    default String info() {
        return "";
    }

    void stop();

    /** Which server, its name on the command line ({@code --targets}), and the paths of its echo, broadcast and directed routes. */
    enum Kind {
        BASELINE("baseline", "plain Undertow", "/echo", "/broadcast", "/ws/%s/"),
        /** The second baseline: the same routes in Netty 4.2, as its examples write them. */
        NETTY("netty", "Netty", "/echo", "/broadcast", "/ws/%s/"),
        WSROUTER("wsrouter", "wsrouter", "/echo/", "/ws/", "/ws/%s/"),
        /** wsrouter with {@code WsRouterMetrics} bound to a Prometheus registry that is scraped periodically. */
        WSROUTER_METRICS("metrics", "wsrouter + metrics", "/echo/", "/ws/", "/ws/%s/"),
        /** wsrouter with history on its directed route ({@code history(1000, 5 min)}, in memory). */
        WSROUTER_HISTORY("history", "wsrouter + history", "/echo/", "/ws/", "/ws/%s/"),
        /**
         * wsrouter with history on its directed route kept in Redis Streams, through the Redis relay
         * at the URI of the system property {@value #REDIS_PROPERTY} (the driver's {@code --redis}).
         */
        WSROUTER_HISTORY_REDIS("history-redis", "wsrouter + Redis history", "/echo/", "/ws/", "/ws/%s/"),
        /**
         * wsrouter as an earlier build of this module serves it: the child JVM runs {@code ServerMain
         * wsrouter} from the jar given with {@code --previous-jar}, so that a change is measured
         * against the code before it in the same run.
         */
        PREVIOUS("previous", "wsrouter, previous build", "/echo/", "/ws/", "/ws/%s/");

        final String id;
        final String label;
        final String echoPath;
        final String broadcastPath;
        final String directedPath;

        Kind(String id, String label, String echoPath, String broadcastPath, String directedPath) {
            this.id = id;
            this.label = label;
            this.echoPath = echoPath;
            this.broadcastPath = broadcastPath;
            this.directedPath = directedPath;
        }

        /** The server; {@code scrapeInterval} is how often the metrics target scrapes its registry. */
        BenchServer create(String host, int port, Duration scrapeInterval) {
            return switch (this) {
                case BASELINE -> new BaselineServer(host, port);
                case NETTY -> new NettyServer(host, port);
                case WSROUTER -> new WsrouterServer(host, port);
                case WSROUTER_METRICS -> new WsrouterServer(host, port, scrapeInterval);
                case WSROUTER_HISTORY -> new WsrouterServer(host, port, null, true);
                case WSROUTER_HISTORY_REDIS -> new WsrouterServer(host, port, null, true, redisUri());
                case PREVIOUS ->
                    throw new IllegalArgumentException(
                            "the previous build runs only as a child JVM, from --previous-jar (not --in-process)");
            };
        }

        /** Whether this is one of the baselines wsrouter is compared with (plain Undertow, Netty). */
        boolean isBaseline() {
            return this == BASELINE || this == NETTY;
        }

        /** The system property that names what the previous build runs as ({@code --previous-as}). */
        static final String PREVIOUS_AS_PROPERTY = "wsrouter.bench.previousAs";

        /** What the previous build runs as, to be compared with the same kind of this build: wsrouter by default. */
        static Kind previousAs() {
            return of(System.getProperty(PREVIOUS_AS_PROPERTY, WSROUTER.id));
        }

        /** The system property that names the Redis of the history-redis target. */
        static final String REDIS_PROPERTY = "wsrouter.bench.redis";

        private static java.net.URI redisUri() {
            String uri = System.getProperty(REDIS_PROPERTY);
            if (uri == null) {
                throw new IllegalArgumentException("the history-redis target needs --redis redis://host:port");
            }
            return java.net.URI.create(uri);
        }

        /** The kind by its command-line name ({@code baseline}, {@code netty}, {@code wsrouter}, {@code metrics}, {@code previous}). */
        static Kind of(String id) {
            String wanted = id.trim().toLowerCase(Locale.ROOT);
            return Arrays.stream(values())
                    .filter(k -> k.id.equals(wanted))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown target " + id + "; known: "
                            + Arrays.stream(values()).map(k -> k.id).toList()));
        }
    }
}
