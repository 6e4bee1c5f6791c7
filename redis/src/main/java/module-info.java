/**
 * A {@link io.github.wsrouter.Relay} over Redis pub/sub, with Lettuce: {@link
 * io.github.wsrouter.redis.RedisRelay}, and the provider that makes {@code redis://} URIs known to
 * {@link io.github.wsrouter.Relay#create(java.net.URI)}.
 */
module io.github.wsrouter.redis {
    requires transitive io.github.wsrouter.core;
    requires com.google.gson;
    requires lettuce.core;
    requires reactor.core;
    requires org.reactivestreams;

    exports io.github.wsrouter.redis;

    provides io.github.wsrouter.Relay.Provider with
            io.github.wsrouter.redis.RedisRelayProvider;
}
