package io.github.wsrouter.spi;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a connection keeps of its opening handshake, and its attributes: the part of {@link
 * AbstractConnection} that is plain data. A superclass rather than an object of its own, so that
 * each of the many idle connections a server holds pays for no second object.
 */
abstract class HandshakeData {

    private static final AtomicLong IDS = new AtomicLong();

    /** The id's number; its text is made on first use (most connections are never asked). */
    private final long number;

    private String id; // only through id()
    private final String path;
    private final Map<String, String> pathParameters;
    private final Map<String, List<String>> queryParameters;
    /**
     * The request headers as name, value, name, value...: a quarter of the memory of the map, which
     * every open connection would keep though few routers read it; the map is built on first use.
     */
    private final String[] headerPairs;

    private volatile Map<String, List<String>> headers;
    private volatile ConcurrentMap<String, Object> attributes;
    private final String identity;
    private final String subprotocol;

    HandshakeData(Handshake handshake) {
        this.number = IDS.incrementAndGet();
        this.path = handshake.path();
        this.pathParameters = handshake.pathParameters();
        this.queryParameters = handshake.queryParameters();
        this.headerPairs = Handshake.pairs(handshake.headers());
        this.identity = handshake.identity();
        this.subprotocol = handshake.chosenSubprotocol();
        for (Map.Entry<String, Object> attribute : handshake.attributes().entrySet()) {
            String key = attribute.getKey();
            if (!key.equals(Handshake.IDENTITY) && !key.equals(Handshake.SUBPROTOCOL)) {
                attributes().put(key, attribute.getValue());
            }
        }
    }

    public final String id() {
        String text = id;
        if (text == null) { // a race makes the same string twice: harmless
            text = Long.toString(number, 36);
            id = text;
        }
        return text;
    }

    public final String path() {
        return path;
    }

    public final Map<String, String> pathParameters() {
        return pathParameters;
    }

    public final Map<String, List<String>> queryParameters() {
        return queryParameters;
    }

    public final Map<String, List<String>> headers() {
        Map<String, List<String>> map = headers;
        if (map == null) {
            map = Handshake.headerMap(headerPairs);
            headers = map;
        }
        return map;
    }

    public final String identity() {
        return identity;
    }

    public final String subprotocol() {
        return subprotocol;
    }

    public final ConcurrentMap<String, Object> attributes() {
        ConcurrentMap<String, Object> map = attributes;
        if (map == null) {
            synchronized (this) {
                map = attributes;
                if (map == null) {
                    map = new ConcurrentHashMap<>(4);
                    attributes = map;
                }
            }
        }
        return map;
    }
}
