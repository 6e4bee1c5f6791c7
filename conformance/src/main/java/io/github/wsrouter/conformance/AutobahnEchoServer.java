package io.github.wsrouter.conformance;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.WsServer;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The server the Autobahn fuzzing client tests: an {@link EchoRouter} on {@code /} with a
 * 16 MiB message limit, served through Undertow's native WebSocket API; {@link #start} serves
 * the same route through either adapter (AutobahnJakartaIT fuzzes the Jakarta one).
 *
 * <p>The autobahntestsuite-maven-plugin calls {@code main} on a thread of its own inside the
 * Maven JVM, with the port as the only argument, and connects to
 * {@code ws://<InetAddress.getLocalHost() address>:<port>/}; so the server binds that same
 * address. {@code main} blocks until the plugin interrupts its thread at the end of the run,
 * then stops the server (every open connection is closed with 1001).
 */
public final class AutobahnEchoServer {

    private AutobahnEchoServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: AutobahnEchoServer PORT");
        }
        WsServer server = start(Integer.parseInt(args[0]), false);
        try {
            // the plugin interrupts this thread once the fuzzing client has finished
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException done) {
            // end of the run: stop below (the interrupt flag is now clear, so stop can wait
            // for the closing handshakes)
        } finally {
            server.stop();
        }
    }

    /**
     * Starts the echo route on the address the fuzzing client connects to; port 0 picks a free one.
     *
     * @param jakarta whether through the Jakarta adapter rather than Undertow's native API
     */
    public static WsServer start(int port, boolean jakarta) {
        WsServer.Builder builder = WsServer.builder()
                .host(fuzzerHost())
                .port(port)
                .options(WsOptions.builder()
                        .maxMessageSize(16 * 1024 * 1024)
                        .maxFragments(1 << 20)
                        .sendBuffer(64L * 1024 * 1024, SendOverflow.CLOSE)
                        .allowedOrigins(java.util.Set.of("*"), false)
                        .build())
                .route("/", EchoRouter.create());
        return (jakarta ? builder.jakarta() : builder).build().start();
    }

    /**
     * The address the plugin's fuzzing client connects to (it falls back to 127.0.0.1 too). The
     * fuzzing is load: it must stay on loopback, so a host name that resolves elsewhere stops the
     * run before any traffic.
     */
    public static String fuzzerHost() {
        InetAddress address;
        try {
            address = InetAddress.getLocalHost();
        } catch (UnknownHostException e) {
            return "127.0.0.1";
        }
        if (!address.isLoopbackAddress()) {
            throw new IllegalStateException("the Autobahn client would connect to " + address
                    + ", not a loopback address: map this host's name to 127.0.0.1 (.ci/run does)");
        }
        return address.getHostAddress();
    }
}
