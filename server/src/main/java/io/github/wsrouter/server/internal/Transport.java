package io.github.wsrouter.server.internal;

import io.github.wsrouter.server.ServerStats;
import io.undertow.server.HttpHandler;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.xnio.XnioWorker;

/**
 * What {@code WsServer} needs of an adapter: its HTTP handler, its counts, and a graceful stop.
 * Each adapter has one implementation, package-private in its own package, which registers its
 * {@link Factory} when its class is initialised: {@link #create} loads it by name, so the Jakarta
 * adapter's classes load only when it is used.
 */
public interface Transport {

    /** The native adapter's transport class. */
    String UNDERTOW = "io.github.wsrouter.server.undertow.UndertowTransport";

    /** The Jakarta adapter's transport class. */
    String JAKARTA = "io.github.wsrouter.server.jakarta.JakartaTransport";

    /** Answers every request: upgrades on a route, other requests on a route, and the fallback. */
    HttpHandler handler();

    int connectionCount();

    ServerStats stats();

    /** Closes every connection with 1001, waits up to the timeout, and releases what it holds. */
    void stop(Duration timeout);

    /** Makes an adapter's transport. */
    interface Factory {
        /**
         * @param fallback the handler of requests no route matches
         * @param worker Undertow's worker once started, for adapters that need one
         */
        Transport create(Settings settings, HttpHandler fallback, Supplier<XnioWorker> worker);
    }

    /** Called by each adapter's transport class when it is initialised. */
    static void register(String transportClass, Factory factory) {
        Factories.BY_CLASS.put(transportClass, factory);
    }

    /** A transport of the adapter whose transport class is named ({@link #UNDERTOW}, {@link #JAKARTA}). */
    static Transport create(
            String transportClass, Settings settings, HttpHandler fallback, Supplier<XnioWorker> worker) {
        Factory factory = Factories.BY_CLASS.get(transportClass);
        if (factory == null) {
            try {
                Class.forName(transportClass, true, Transport.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(transportClass + " is not on the class path", e);
            }
            factory = Factories.BY_CLASS.get(transportClass);
        }
        return factory.create(settings, fallback, worker);
    }

    /** The registered factories. */
    final class Factories {
        private static final Map<String, Factory> BY_CLASS = new ConcurrentHashMap<>();

        private Factories() {}
    }
}
