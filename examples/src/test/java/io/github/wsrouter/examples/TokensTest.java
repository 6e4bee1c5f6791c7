package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class TokensTest {

    private final Instant now = Instant.parse("2026-11-25T12:00:00Z");
    private final Tokens tokens = new Tokens("secret", Clock.fixed(now, ZoneOffset.UTC));

    @Test
    void aTokenNamesItsUserUntilItExpires() {
        String token = tokens.issue("alice");
        assertThat(tokens.userOf(token)).isEqualTo("alice");
        Tokens later = new Tokens("secret", Clock.fixed(now.plus(Tokens.LIFETIME), ZoneOffset.UTC));
        assertThat(later.userOf(token)).isNull();
    }

    @Test
    void forgedAlteredOrMalformedTokensNameNobody() {
        String token = tokens.issue("alice");
        String[] parts = token.split("\\.");
        String bob = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("bob".getBytes());
        assertThat(tokens.userOf(bob + "." + parts[1] + "." + parts[2]))
                .as("another user")
                .isNull();
        assertThat(tokens.userOf(parts[0] + "." + (Long.parseLong(parts[1]) + 3600) + "." + parts[2]))
                .as("a longer life")
                .isNull();
        assertThat(new Tokens("other secret", Clock.fixed(now, ZoneOffset.UTC)).userOf(token))
                .as("another server's secret")
                .isNull();
        assertThat(tokens.userOf(null)).isNull();
        assertThat(tokens.userOf("")).isNull();
        assertThat(tokens.userOf("a.b")).isNull();
        assertThat(tokens.userOf("!!!.1.x")).isNull();
        assertThat(tokens.userOf(parts[0] + ".notanumber." + parts[2])).isNull();
    }

    @Test
    void theHookAdmitsOnlyValidTokensAndTheRouteOnlyTheTokensUser() {
        TestServer server =
                TestServer.create().handshakeHook(tokens).route("/ws/{username}/", DirectedJsonRouter.create());
        assertThat(server.handshake("/ws/alice/", Map.of()).status()).isEqualTo(401);
        assertThat(server.handshake("/ws/alice/?token=forged", Map.of()).status())
                .isEqualTo(401);
        assertThat(server.handshake("/ws/alice/?token=" + tokens.issue("bob"), Map.of())
                        .status())
                .isEqualTo(403);

        TestClient alice = server.connect("/ws/alice/?token=" + tokens.issue("alice"));
        assertThat(alice.connection().identity()).isEqualTo("alice");
    }
}
