package io.github.wsrouter.benchmarks;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.micrometer.WsRouterMetrics;
import io.github.wsrouter.server.WsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * wsrouter serving the example runner's routes ({@code /echo/}, {@code /ws/} broadcast,
 * {@code /ws/{username}/} directed JSON with presence and {@code "*"}, {@code /rooms/{room}/}),
 * with the recipient field named {@code to} as the baseline's.
 *
 * <p>With a scrape interval, also {@code WsRouterMetrics.of(server).bindTo(registry)} on a
 * {@link PrometheusMeterRegistry}, and a thread that calls {@code registry.scrape()} (the whole
 * text a Prometheus server would fetch) at that interval while any connection is open: the cost
 * of the binding, reads included. It does not scrape while the server has no connections, so that
 * it does not take CPU from another server measured meanwhile on the same core.
 */
public final class WsrouterServer implements BenchServer {

    private final WsServer server;
    private final Duration scrapeInterval;
    private PrometheusMeterRegistry registry;
    private ScheduledExecutorService scraper;
    // written by the scraper thread only
    private volatile long scrapes;
    private volatile long scrapeNanos;
    private volatile long scrapeCpuNanos;
    private volatile long maxScrapeNanos;
    private volatile int lastScrapeChars;
    private volatile long scrapeErrors;

    public WsrouterServer(String host, int port) {
        this(host, port, null);
    }

    /** With the Micrometer binding, scraped every {@code scrapeInterval}; none if {@code null}. */
    public WsrouterServer(String host, int port, Duration scrapeInterval) {
        this(host, port, scrapeInterval, false);
    }

    /**
     * @param history whether the directed route keeps history ({@code history(1000, 5 min)} in
     *     memory), so that every message is appended to its stream and carries its offset
     */
    public WsrouterServer(String host, int port, Duration scrapeInterval, boolean history) {
        this(host, port, scrapeInterval, history, null);
    }

    /** @param redis the Redis of the relay that keeps the history; {@code null} for none (in memory) */
    public WsrouterServer(String host, int port, Duration scrapeInterval, boolean history, java.net.URI redis) {
        this.scrapeInterval = scrapeInterval;
        WsOptions.Builder options = WsOptions.builder().maxMessageSize(1 << 20);
        if (redis != null) {
            options.relay(redis);
        }
        server = WsServer.builder()
                .host(host)
                .port(port)
                .options(options.build())
                .route("/echo/", EchoRouter.create())
                .route("/ws/", BroadcastRouter.create())
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder()
                                .toField("to")
                                .everyone("*")
                                .presence(true)
                                .history(history ? 1000 : 0, Duration.ofMinutes(5))
                                .build())
                .route(
                        "/rooms/{room}/",
                        BroadcastRouter.builder().roomParameter("room").build())
                .stopTimeout(Duration.ofSeconds(1))
                .build();
    }

    @Override
    public BenchServer start() {
        server.start();
        if (scrapeInterval != null) {
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            WsRouterMetrics.of(server).bindTo(registry);
            scraper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "metrics-scraper");
                thread.setDaemon(true);
                return thread;
            });
            long every = scrapeInterval.toNanos();
            scraper.scheduleAtFixedRate(this::scrape, every, every, TimeUnit.NANOSECONDS);
        }
        return this;
    }

    private void scrape() {
        if (server.connectionCount() == 0) {
            return;
        }
        try {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long cpu = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            String text = registry.scrape();
            long took = System.nanoTime() - start;
            scrapeCpuNanos += threads.getCurrentThreadCpuTime() - cpu;
            if (!text.contains("wsrouter_messages_received_total")) {
                scrapeErrors++;
            }
            scrapes++;
            scrapeNanos += took;
            maxScrapeNanos = Math.max(maxScrapeNanos, took);
            lastScrapeChars = text.length();
        } catch (RuntimeException e) {
            scrapeErrors++;
        }
    }

    @Override
    public int port() {
        return server.port();
    }

    @Override
    public int connectionCount() {
        return server.connectionCount();
    }

    /**
     * For the metrics target: {@code "<n> scrapes, mean <µs> µs (CPU <µs> µs), max <µs> µs, <chars>
     * chars, <e> errors"}: the wall time of a scrape, and the CPU time the scraping thread used for it.
     */
    @Override
    public String info() {
        if (scrapeInterval == null) {
            return "";
        }
        long n = scrapes;
        return String.format(
                Locale.ROOT,
                "%d scrapes, mean %.0f µs (CPU %.0f µs), max %.0f µs, %d chars, %d errors",
                n,
                n == 0 ? 0.0 : scrapeNanos / 1e3 / n,
                n == 0 ? 0.0 : scrapeCpuNanos / 1e3 / n,
                maxScrapeNanos / 1e3,
                lastScrapeChars,
                scrapeErrors);
    }

    @Override
    public void stop() {
        if (scraper != null) {
            scraper.shutdownNow();
        }
        server.stop();
    }
}
