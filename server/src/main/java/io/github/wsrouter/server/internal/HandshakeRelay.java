package io.github.wsrouter.server.internal;

import io.github.wsrouter.spi.Handshake;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Carries a decided handshake from the HTTP handler that decided it to the Jakarta endpoint
 * configurator of the same request, across the servlet container, under a random one-time key in
 * a request header that the handler sets (after removing any the client sent).
 */
public final class HandshakeRelay {

    /** The request header that carries the key. */
    public static final String HEADER = "X-Wsrouter-Handshake";

    private static final long TTL_NANOS = 60_000_000_000L;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Map<String, Entry> PENDING = new ConcurrentHashMap<>();

    private record Entry(Handshake handshake, long created) {}

    private HandshakeRelay() {}

    /** Keeps a handshake for a moment and returns the key to find it by. */
    public static String put(Handshake handshake) {
        long now = System.nanoTime();
        for (Iterator<Entry> it = PENDING.values().iterator(); it.hasNext(); ) {
            if (now - it.next().created > TTL_NANOS) {
                it.remove(); // an upgrade that never reached the endpoint
            }
        }
        byte[] bytes = new byte[18];
        RANDOM.nextBytes(bytes);
        String key = Base64.getUrlEncoder().encodeToString(bytes);
        PENDING.put(key, new Entry(handshake, now));
        return key;
    }

    /** Takes the handshake kept under a key, once; {@code null} if there is none. */
    public static Handshake take(String key) {
        Entry entry = key == null ? null : PENDING.remove(key);
        return entry == null ? null : entry.handshake;
    }
}
