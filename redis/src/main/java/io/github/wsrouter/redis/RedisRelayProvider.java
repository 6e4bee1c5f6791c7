package io.github.wsrouter.redis;

import io.github.wsrouter.Relay;
import java.net.URI;

/**
 * Makes {@code redis://} and {@code rediss://} URIs known to {@link Relay#create(URI)} (and so to
 * {@code WsOptions.Builder.relay(URI)} given to a {@code WsServer}), through {@link java.util.ServiceLoader}. Not for direct use.
 */
public final class RedisRelayProvider implements Relay.Provider {

    @Override
    public boolean supports(URI uri) {
        String scheme = uri.getScheme();
        return "redis".equalsIgnoreCase(scheme) || "rediss".equalsIgnoreCase(scheme);
    }

    @Override
    public Relay create(URI uri) {
        return RedisRelay.create(uri);
    }
}
