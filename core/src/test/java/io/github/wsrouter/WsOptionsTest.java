package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WsOptionsTest {

    @Test
    void theDefaultsSetEveryLimit() {
        WsOptions d = WsOptions.defaults();
        assertThat(d.maxMessageSize()).isEqualTo(64 * 1024);
        assertThat(d.maxFragments()).isEqualTo(1024);
        assertThat(d.maxPingsPerMinute()).isEqualTo(300);
        assertThat(d.sendBufferBytes()).isEqualTo(1024 * 1024);
        assertThat(d.sendOverflow()).isEqualTo(SendOverflow.CLOSE);
        assertThat(d.hasRateLimit()).isTrue();
        assertThat(d.rateLimit()).isNull();
        assertThat(d.pingInterval()).isEqualTo(Duration.ofSeconds(25));
        assertThat(d.idleTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(d.closeTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(d.lingerTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(d.lingerBytes()).isEqualTo(16L * 1024 * 1024);
        assertThat(d.maxConnections()).isEqualTo(Integer.MAX_VALUE);
        assertThat(d.relay()).isSameAs(Relay.local());
        assertThat(d.allowedOrigins()).isEmpty();
        assertThat(d.requireOrigin()).isFalse();
        assertThat(d.handshakeHook()).isNull();
        assertThat(d.executor()).isNull();
    }

    @Test
    void aBuilderSetsNothingItIsNotToldTo() {
        WsOptions none = WsOptions.builder().build();
        assertThat(none.maxMessageSize()).isNull();
        assertThat(none.hasRateLimit()).isFalse();
        assertThat(none.allowedOrigins()).isNull();
        assertThat(none).hasToString("WsOptions[]");
    }

    @Test
    void overTakesWhatIsNotSetFromTheBase() {
        WsOptions base = WsOptions.builder()
                .maxMessageSize(10)
                .rateLimit(new RateLimit(1, 1, RateLimit.Exceeded.CLOSE))
                .allowedOrigins(Set.of("https://a.example"), true)
                .build();
        WsOptions merged =
                WsOptions.builder().maxFragments(3).rateLimit(null).build().over(base);
        assertThat(merged.maxMessageSize()).isEqualTo(10);
        assertThat(merged.maxFragments()).isEqualTo(3);
        assertThat(merged.hasRateLimit()).isTrue();
        assertThat(merged.rateLimit()).isNull();
        assertThat(merged.allowedOrigins()).containsExactly("https://a.example");
        assertThat(merged.requireOrigin()).isTrue();
        assertThat(merged.pingInterval()).isNull();
    }

    @Test
    void toBuilderKeepsWhatWasSetAndARelayAndItsUriExcludeEachOther() {
        WsOptions uri = WsOptions.builder()
                .maxMessageSize(5)
                .relay(URI.create("redis://h:1"))
                .build();
        WsOptions local = uri.toBuilder().relay(Relay.local()).build();
        assertThat(local.maxMessageSize()).isEqualTo(5);
        assertThat(local.relayUri()).isNull();
        assertThat(local.relay()).isSameAs(Relay.local());
        assertThat(uri.relayUri()).isEqualTo(URI.create("redis://h:1"));
    }

    @Test
    void badValuesAreRefusedInTheLibrarysWording() {
        assertThatThrownBy(() -> WsOptions.builder().maxMessageSize(0))
                .hasMessage("maxMessageSize must be at least 1: 0");
        assertThatThrownBy(() -> WsOptions.builder().sendBuffer(0, SendOverflow.DROP))
                .hasMessage("send buffer limit must be at least 1: 0");
        assertThatThrownBy(() -> WsOptions.builder().linger(Duration.ofSeconds(-1), 0))
                .hasMessage("linger timeout must not be negative: PT-1S");
        assertThatThrownBy(() -> WsOptions.builder().keepalive(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageContaining("idle timeout must be longer than the ping interval");
    }
}
