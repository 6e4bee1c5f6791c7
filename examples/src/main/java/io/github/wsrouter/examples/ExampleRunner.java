package io.github.wsrouter.examples;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.WsServer;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs every example router in one server, with the chat page at {@code /}.
 *
 * <pre>
 *   /echo/            echoes text and binary messages to the sender
 *   /ws/              broadcasts every text message to every open connection (seed step 3)
 *   /ws/{username}/   directed JSON: {"to_user":"bob","message":...}, "*" for everyone (seed step 4),
 *                     with presence objects ({"presence":"online"|"join"|"leave",...}),
 *                     a history of 1,000 messages / 5 minutes to resume from (in Redis with --redis),
 *                     and chat rooms: {"join":"lobby"}, {"to_room":"lobby","message":...} reaches
 *                     every member as {"room":"lobby","from":<the verified sender>,"message":...}
 *   /wsrouter.js      the JavaScript client the chat page is built on
 *   /rooms/{room}/    broadcasts raw text only among connections in the same room (the seed's)
 *   /                 the chat page (classpath folder "web")
 *   /token            POST: a signed token for the chat page, with --require-token
 *   /stats, /metrics  the counters as JSON, and as Prometheus text
 * </pre>
 *
 * <p>{@code --jakarta} serves the same routes through the Jakarta WebSocket adapter instead of
 * Undertow's native API; everything else is unchanged. {@code --redis redis://host:port} joins
 * the runners that use the same Redis into one service: broadcasts, rooms and directed messages
 * reach the people connected to any of them.
 *
 * <p>{@link #main} exits with status 2 on a bad command line or when the port cannot be bound, after
 * one line on standard error. Tests drive {@link #run} and {@link #launch}, which never exit the JVM.
 */
public final class ExampleRunner {

    /** The name used in messages and usage text. */
    static final String PROGRAM = "wsrouter-examples";

    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 8000;

    /** Exit status for a bad command line or a server that could not start. */
    static final int EXIT_USAGE = 2;

    static final String USAGE = String.join(
            System.lineSeparator(),
            "Usage: " + PROGRAM + " [--host HOST] [--port PORT] [--jakarta] [--require-token SECRET]"
                    + " [--allow-origin ORIGIN]... [--redis URI]",
            "",
            "Serves the wsrouter examples and a chat page.",
            "",
            "Options:",
            "  --host HOST   address to listen on (default " + DEFAULT_HOST + ")",
            "  --port PORT   port to listen on, 0 for any free port (default " + DEFAULT_PORT + ")",
            "  --jakarta     serve the routes through the Jakarta WebSocket adapter",
            "  --require-token SECRET",
            "                admit only handshakes with a token signed with SECRET (POST /token issues one)",
            "  --allow-origin ORIGIN",
            "                also accept browser pages from ORIGIN (repeatable; * for any)",
            "  --redis URI   join the runners that use this Redis (redis://127.0.0.1:6379) into one chat",
            "  -h, --help    print this help and exit",
            "",
            "Endpoints:",
            "  /                 chat page (directed JSON at /ws/{username}/)",
            "  /echo/            echo",
            "  /ws/              broadcast to every connection",
            "  /ws/{username}/   directed JSON: {\"to_user\":\"bob\",\"message\":...}, \"*\" = everyone;",
            "                    presence: {\"presence\":\"online\"|\"join\"|\"leave\",...};",
            "                    rooms: {\"join\":\"lobby\"}, {\"to_room\":\"lobby\",\"message\":...}",
            "  /rooms/{room}/    raw-text broadcast within one room",
            "  /stats            counters as JSON",
            "  /metrics          the same counters for Prometheus (text format)");

    /**
     * The directed route's history (for the chat page's resume after a reconnect): the last 1,000
     * messages of each stream, 5 minutes at most; in this server's memory, or with {@code --redis}
     * in Redis Streams, where every runner sees it, so a page resumes on any of them.
     */
    static final int HISTORY_MESSAGES = 1000;

    static final Duration HISTORY_AGE = Duration.ofMinutes(5);

    /** Loggers whose level this class set: JUL keeps only weak references to them. */
    private static final List<Logger> QUIETED_LOGGERS = new ArrayList<>();

    private ExampleRunner() {}

    /** What the command line asks for. */
    record Options(
            String host,
            int port,
            boolean help,
            boolean jakarta,
            List<String> allowedOrigins,
            String tokenSecret,
            URI redis) {
        Options(String host, int port, boolean help, boolean jakarta) {
            this(host, port, help, jakarta, List.of(), null, null);
        }

        static Options defaults() {
            return new Options(DEFAULT_HOST, DEFAULT_PORT, false, false);
        }
    }

    /** A command line that cannot be honoured; its message is shown to the user as is. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /**
     * The outcome of {@link #launch}: an exit status, and the started server when there is one
     * (only when the status is 0 and help was not asked for).
     */
    record Launch(int exitCode, WsServer server) {}

    public static void main(String[] args) {
        quietLibraryLogging();
        int code = run(args, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Parses {@code args}, starts the server and blocks until the JVM shuts down (Ctrl-C), which stops
     * the server. Returns at once with 0 after {@code --help}, or with {@link #EXIT_USAGE} after one
     * line on {@code err} when the command line is bad or the server cannot start.
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Launch launch = launch(args, out, err);
        WsServer server = launch.server();
        if (server == null) {
            return launch.exitCode();
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(
                () -> {
                    try {
                        server.stop();
                    } finally {
                        stopped.countDown();
                    }
                },
                PROGRAM + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("Press Ctrl-C to stop.");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.stop();
        }
        return 0;
    }

    /**
     * Parses {@code args} and, unless help was asked for, starts the server and prints the URLs it
     * serves. Never exits the JVM and never prints a stack trace: on failure it prints one line on
     * {@code err} and returns {@link #EXIT_USAGE} with no server. The caller stops the server.
     */
    static Launch launch(String[] args, PrintStream out, PrintStream err) {
        Options options;
        try {
            options = parse(args);
        } catch (UsageException e) {
            err.println(PROGRAM + ": " + e.getMessage() + " (try --help)");
            err.flush();
            return new Launch(EXIT_USAGE, null);
        }
        if (options.help()) {
            out.println(USAGE);
            out.flush();
            return new Launch(0, null);
        }
        WsServer server;
        try {
            server = start(options);
        } catch (RuntimeException e) {
            err.println(PROGRAM + ": " + describeStartFailure(options, e));
            err.flush();
            return new Launch(EXIT_USAGE, null);
        }
        printUrls(out, options.host(), server.port(), server.isJakarta());
        return new Launch(0, server);
    }

    /**
     * Parses the command line: {@code --host H}, {@code --port N}, {@code --jakarta}, {@code
     * --require-token SECRET}, {@code --allow-origin ORIGIN} (repeatable), {@code --redis URI} and
     * {@code -h}/{@code --help}; an option with a value may also be written {@code --name=value}.
     * A later occurrence of a single-valued option wins over an earlier one.
     */
    static Options parse(String[] args) throws UsageException {
        String host = DEFAULT_HOST;
        int port = DEFAULT_PORT;
        boolean help = false;
        boolean jakarta = false;
        List<String> origins = new java.util.ArrayList<>();
        String tokenSecret = null;
        URI redis = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            switch (name) {
                case "-h", "--help" -> {
                    if (value != null) {
                        throw new UsageException("option " + name + " takes no value");
                    }
                    help = true;
                }
                case "--jakarta" -> {
                    if (value != null) {
                        throw new UsageException("option " + name + " takes no value");
                    }
                    jakarta = true;
                }
                case "--host" -> {
                    if (value == null) {
                        value = requireValue(args, ++i, name);
                    }
                    host = parseHost(value);
                }
                case "--require-token" -> {
                    if (value == null) {
                        value = requireValue(args, ++i, name);
                    }
                    if (value.isBlank()) {
                        throw new UsageException("--require-token needs a secret");
                    }
                    tokenSecret = value;
                }
                case "--allow-origin" -> {
                    if (value == null) {
                        value = requireValue(args, ++i, name);
                    }
                    if (value.isBlank()) {
                        throw new UsageException("--allow-origin needs an origin such as https://app.example, or *");
                    }
                    origins.add(value.strip());
                }
                case "--redis" -> {
                    if (value == null) {
                        value = requireValue(args, ++i, name);
                    }
                    redis = parseRedis(value);
                }
                case "--port" -> {
                    if (value == null) {
                        value = requireValue(args, ++i, name);
                    }
                    port = parsePort(value);
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new UsageException("unknown option " + quote(arg));
                    }
                    throw new UsageException("unexpected argument " + quote(arg));
                }
            }
        }
        return new Options(host, port, help, jakarta, List.copyOf(origins), tokenSecret, redis);
    }

    /**
     * Builds and starts the example server. Throws {@link UncheckedIOException} (cause
     * {@link BindException}) when the port is taken.
     */
    static WsServer start(Options options) {
        WsServer.Builder builder = WsServer.builder()
                .host(options.host())
                .port(options.port())
                .route("/echo/", EchoRouter.create())
                .route("/ws/", BroadcastRouter.create())
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder()
                                .everyone("*")
                                .presence(true)
                                .history(HISTORY_MESSAGES, HISTORY_AGE)
                                .rooms(DirectedJsonRouter.RoomPolicy.OPEN)
                                .build())
                .route(
                        "/rooms/{room}/",
                        BroadcastRouter.builder()
                                .roomParameter("room")
                                .excludeSender(false)
                                .build())
                .staticResources("web");
        if (options.jakarta()) {
            builder.jakarta();
        }
        WsOptions.Builder limits = WsOptions.builder();
        if (!options.allowedOrigins().isEmpty()) {
            limits.allowedOrigins(options.allowedOrigins(), false);
        }
        Tokens tokens =
                options.tokenSecret() == null ? null : new Tokens(options.tokenSecret(), java.time.Clock.systemUTC());
        if (tokens != null) {
            limits.handshakeHook(tokens);
        }
        if (options.redis() != null) {
            limits.relay(options.redis());
        }
        builder.options(limits.build());
        builder.http("/token", new TokenHandler(tokens));
        StatsHandler stats = new StatsHandler();
        builder.http("/stats", stats);
        MetricsHandler metrics = new MetricsHandler();
        builder.http("/metrics", metrics);
        WsServer server;
        if (options.redis() != null) {
            try {
                server = builder.build();
            } catch (RuntimeException e) {
                throw new RedisUnreachable(options.redis(), e);
            }
        } else {
            server = builder.build();
        }
        stats.serve(server);
        metrics.serve(server);
        try {
            server.start();
        } catch (RuntimeException e) {
            try {
                server.stop();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return server;
    }

    /** Prints where each example is served. */
    static void printUrls(PrintStream out, String host, int port, boolean jakarta) {
        String authority = (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
        out.println(PROGRAM + " listening on " + authority
                + (jakarta ? " (Jakarta WebSocket adapter)" : " (Undertow native WebSocket adapter)"));
        out.println("  chat page        http://" + authority + "/");
        out.println("  echo             ws://" + authority + "/echo/");
        out.println("  broadcast        ws://" + authority + "/ws/");
        out.println("  directed JSON    ws://" + authority + "/ws/{username}/");
        out.println("  rooms            ws://" + authority + "/rooms/{room}/");
        out.println("  stats            http://" + authority + "/stats");
        out.println("  metrics          http://" + authority + "/metrics");
        out.flush();
    }

    /** The relay could not be created: Redis is not reachable at the URI. */
    static final class RedisUnreachable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RedisUnreachable(URI uri, RuntimeException cause) {
            super("cannot reach Redis at " + uri, cause);
        }
    }

    /** One line saying why the server did not start, without exception class names. */
    static String describeStartFailure(Options options, RuntimeException e) {
        if (e instanceof RedisUnreachable) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            return oneLine(e.getMessage() + (root != e && root.getMessage() != null ? ": " + root.getMessage() : ""));
        }
        String where = options.host() + ":" + options.port();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException
                    && t.getMessage() != null
                    && t.getMessage().toLowerCase(Locale.ROOT).contains("in use")) {
                return "port " + options.port() + " is already in use";
            }
        }
        // The most specific message that says something, e.g. "Cannot assign requested address".
        String detail = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && !message.isBlank()) {
                detail = message.strip();
            } else if (detail == null) {
                detail = t.getClass().getSimpleName();
            }
        }
        int prefix = detail.lastIndexOf(where + ": ");
        if (prefix >= 0) {
            detail = detail.substring(prefix + where.length() + 2);
        }
        return "cannot listen on " + where + ": " + oneLine(detail);
    }

    /**
     * Undertow and XNIO (and with {@code --redis}, Lettuce and Netty) log at INFO through
     * java.util.logging, which prints two lines on stderr each time; keep warnings and errors only,
     * unless logging is configured with {@code -Djava.util.logging.config.file} or {@code .class}.
     */
    static void quietLibraryLogging() {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        synchronized (QUIETED_LOGGERS) {
            for (String name : List.of("io.undertow", "org.xnio", "org.jboss", "io.lettuce", "io.netty")) {
                Logger logger = Logger.getLogger(name);
                logger.setLevel(Level.WARNING);
                QUIETED_LOGGERS.add(logger);
            }
        }
    }

    private static String requireValue(String[] args, int index, String name) throws UsageException {
        if (index >= args.length) {
            throw new UsageException("option " + name + " needs a value");
        }
        return args[index];
    }

    private static String parseHost(String value) throws UsageException {
        if (value.isBlank()) {
            throw new UsageException("--host needs a non-empty value");
        }
        return value.strip();
    }

    private static URI parseRedis(String value) throws UsageException {
        URI uri;
        try {
            uri = new URI(value.strip());
        } catch (java.net.URISyntaxException e) {
            throw new UsageException("bad --redis " + quote(value) + ": expected a URI such as redis://127.0.0.1:6379");
        }
        String scheme = uri.getScheme();
        if (!"redis".equalsIgnoreCase(scheme) && !"rediss".equalsIgnoreCase(scheme) || uri.getHost() == null) {
            throw new UsageException("bad --redis " + quote(value) + ": expected a URI such as redis://127.0.0.1:6379");
        }
        return uri;
    }

    private static int parsePort(String value) throws UsageException {
        int port;
        try {
            port = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("bad port " + quote(value) + ": expected a number from 0 to 65535");
        }
        if (port < 0 || port > 65535) {
            throw new UsageException("bad port " + port + ": expected a number from 0 to 65535");
        }
        return port;
    }

    private static String quote(String s) {
        return "'" + oneLine(s) + "'";
    }

    private static String oneLine(String s) {
        return s.replaceAll("[\\r\\n]+", " ");
    }
}
