package io.github.wsrouter.bomconsumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BomConsumerTest {

    @Test
    void runsAServerWithItsMetersFromTheBomsVersions() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BomConsumer.run(new PrintStream(out, true, StandardCharsets.UTF_8));
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("echo at ws://127.0.0.1:")
                .contains("wsrouter.connections[tag(route=/echo/)] = 0.0");
    }
}
