package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.Relay.Topic;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EnvelopeTest {

    @Test
    void textSurvivesTheTripWithItsOriginRouteAndTopic() {
        String json = Envelope.encode(
                "node1", "/ws/{username}/", Topic.user("bob"), "{\"message\":\"hé \\\"ok\\\" 😀\"}", null);

        Envelope envelope = Envelope.decode(json);

        assertThat(envelope).isNotNull();
        assertThat(envelope.origin()).isEqualTo("node1");
        assertThat(envelope.route()).isEqualTo("/ws/{username}/");
        assertThat(envelope.topic()).isEqualTo(Topic.user("bob"));
        assertThat(envelope.text()).isEqualTo("{\"message\":\"hé \\\"ok\\\" 😀\"}");
        assertThat(envelope.binary()).isNull();
        assertThat(json).startsWith("{\"v\":1,");
    }

    @Test
    void binarySurvivesTheTripAndTheBufferIsNotMoved() {
        ByteBuffer data = ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 255});
        Envelope envelope = Envelope.decode(Envelope.encode("n", "/rooms/{room}/", Topic.room("blue"), null, data));

        assertThat(data.position()).isZero();
        assertThat(envelope.topic()).isEqualTo(Topic.room("blue"));
        assertThat(envelope.text()).isNull();
        byte[] bytes = new byte[envelope.binary().remaining()];
        envelope.binary().get(bytes);
        assertThat(bytes).containsExactly(0, 1, 2, 255);
    }

    @Test
    void theWholeRouteHasAnEmptyKey() {
        Envelope envelope = Envelope.decode(Envelope.encode("n", "/ws/", Topic.route(), "x", null));
        assertThat(envelope.topic()).isEqualTo(Topic.route());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "not json",
                "[1,2]",
                "{\"v\":2,\"origin\":\"n\",\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\",\"text\":\"x\"}",
                "{\"origin\":\"n\",\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\",\"text\":\"x\"}",
                "{\"v\":\"1\",\"origin\":\"n\",\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\",\"text\":\"x\"}",
                "{\"v\":1,\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\",\"text\":\"x\"}",
                "{\"v\":1,\"origin\":\"n\",\"route\":\"/ws/\",\"kind\":\"planet\",\"key\":\"\",\"text\":\"x\"}",
                "{\"v\":1,\"origin\":\"n\",\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\"}",
                "{\"v\":1,\"origin\":\"n\",\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\",\"text\":\"x\",\"binary\":\"AA==\"}",
                "{\"v\":1,\"origin\":\"n\",\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\",\"binary\":\"not base64!\"}",
                "{\"v\":1,\"origin\":5,\"route\":\"/ws/\",\"kind\":\"route\",\"key\":\"\",\"text\":\"x\"}"
            })
    void whatThisVersionCannotReadIsNull(String json) {
        assertThat(Envelope.decode(json)).isNull();
    }
}
