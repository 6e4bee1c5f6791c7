package io.github.wsrouter.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.RateLimit;
import io.github.wsrouter.Relay;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** How the server-wide options and a route's own are resolved into one route's limits. */
class SettingsTest {

    @Test
    void aRoutesOptionsAreLaidFieldByFieldOverTheServersAndThoseOverTheDefaults() {
        Executor pool = Runnable::run;
        Settings.Collector collector = new Settings.Collector();
        collector.options(WsOptions.builder()
                .maxMessageSize(1000)
                .sendBuffer(2000, SendOverflow.DROP)
                .closeTimeout(Duration.ofSeconds(3))
                .build());
        collector.route("/plain/", EchoRouter.create(), WsOptions.builder().build());
        collector.route(
                "/own/",
                EchoRouter.create(),
                WsOptions.builder()
                        .maxFragments(7)
                        .rateLimit(new RateLimit(1, 2, RateLimit.Exceeded.CLOSE))
                        .keepalive(Duration.ofSeconds(1), Duration.ofSeconds(2))
                        .executor(pool)
                        .build());
        Settings settings = collector.build();

        Settings.Limits plain = settings.limits(settings.mounts().get(0));
        assertThat(plain.maxMessageSize()).isEqualTo(1000);
        assertThat(plain.maxFragments()).isEqualTo(1024);
        assertThat(plain.sendLimits().maxQueuedBytes()).isEqualTo(2000);
        assertThat(plain.sendLimits().overflow()).isEqualTo(SendOverflow.DROP);
        assertThat(plain.sendLimits().rateLimit()).isNull();
        assertThat(plain.pingMillis()).isEqualTo(25_000);
        assertThat(plain.closeTimeoutMillis()).isEqualTo(3000);
        assertThat(plain.lingerBytes()).isEqualTo(16L * 1024 * 1024);
        assertThat(settings.mounts().get(0).executor()).isNull();

        Settings.Limits own = settings.limits(settings.mounts().get(1));
        assertThat(own.maxMessageSize()).isEqualTo(1000);
        assertThat(own.maxFragments()).isEqualTo(7);
        assertThat(own.sendLimits().rateLimit()).isEqualTo(new RateLimit(1, 2, RateLimit.Exceeded.CLOSE));
        assertThat(own.pingMillis()).isEqualTo(1000);
        assertThat(own.idleMillis()).isEqualTo(2000);
        assertThat(own.closeTimeoutMillis()).isEqualTo(3000);
        assertThat(settings.mounts().get(1).executor()).isSameAs(pool);

        assertThat(settings.maxConnections()).isEqualTo(Integer.MAX_VALUE);
        assertThat(settings.relay()).isSameAs(Relay.local());
        assertThat(settings.hook()).isNull();
    }

    @Test
    void aRouteMayTurnOffARateLimitTheServerSets() {
        Settings.Collector collector = new Settings.Collector();
        collector.options(WsOptions.builder()
                .rateLimit(new RateLimit(1, 1, RateLimit.Exceeded.REPLY))
                .build());
        collector.route(
                "/free/",
                EchoRouter.create(),
                WsOptions.builder().rateLimit(null).build());
        Settings settings = collector.build();
        assertThat(settings.limits(settings.mounts().get(0)).sendLimits().rateLimit())
                .isNull();
    }

    @Test
    void aServerWideFieldInARoutesOptionsIsRefusedNamingTheFieldAndWhereItGoes() {
        List<UnaryOperator<WsOptions.Builder>> serverWide = List.of(
                b -> b.relay(Relay.local()),
                b -> b.relay(URI.create("redis://127.0.0.1:6379")),
                b -> b.maxConnections(10),
                b -> b.closeTimeout(Duration.ofSeconds(1)),
                b -> b.linger(Duration.ZERO, 0),
                b -> b.maxPingsPerMinute(10),
                b -> b.handshakeHook(request -> io.github.wsrouter.HandshakeDecision.accept()),
                b -> b.allowedOrigins(Set.of("*"), false));
        List<String> names = List.of(
                "relay",
                "relay",
                "maxConnections",
                "closeTimeout",
                "linger",
                "maxPingsPerMinute",
                "handshakeHook",
                "allowedOrigins");
        for (int i = 0; i < serverWide.size(); i++) {
            WsOptions options = serverWide.get(i).apply(WsOptions.builder()).build();
            assertThatThrownBy(() -> new Settings.Collector().route("/r/", EchoRouter.create(), options))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("route(\"/r/\"")
                    .hasMessageContaining(names.get(i) + " is server-wide")
                    .hasMessageContaining("options(WsOptions)");
        }
    }

    @Test
    void aRelayUriIsOnlyForWsServer() {
        Settings.Collector collector = new Settings.Collector();
        collector.options(
                WsOptions.builder().relay(URI.create("redis://127.0.0.1:6379")).build());
        collector.route("/r/", EchoRouter.create(), WsOptions.builder().build());
        assertThatThrownBy(collector::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only WsServer creates a relay from a URI");
    }
}
