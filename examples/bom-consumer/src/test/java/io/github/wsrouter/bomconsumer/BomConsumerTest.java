package io.github.wsrouter.bomconsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.server.WsServer;
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
                .contains("echo: hello")
                .contains("wsrouter.connections[tag(route=/echo/)] = 0.0");
    }

    @Test
    void runsOnTheModulePathWhereOnlyTheApiIsExported() {
        Module application = BomConsumer.class.getModule();
        Module server = WsServer.class.getModule();
        Module core = io.github.wsrouter.MessageRouter.class.getModule();
        assertThat(application.getName()).isEqualTo("io.github.wsrouter.bomconsumer");
        assertThat(server.getName()).isEqualTo("io.github.wsrouter.server");
        assertThat(core.getName()).isEqualTo("io.github.wsrouter.core");
        assertThat(core.isExported("io.github.wsrouter", application)).isTrue();
        assertThat(core.isExported("io.github.wsrouter.testkit", application)).isTrue();
        assertThat(server.isExported("io.github.wsrouter.server", application)).isTrue();
        // the transport SPI and the internals reach the server, and no application
        assertThat(core.isExported("io.github.wsrouter.spi", server)).isTrue();
        assertThat(core.isExported("io.github.wsrouter.spi", application)).isFalse();
        assertThat(core.isExported("io.github.wsrouter.internal", application)).isFalse();
        assertThat(server.isExported("io.github.wsrouter.server.internal", application))
                .isFalse();
    }

    @Test
    void aNativeOnlyApplicationHasNoServletOrJsrJars() {
        ClassLoader loader = BomConsumerTest.class.getClassLoader();
        for (String absent : new String[] {
            "jakarta.servlet.Servlet",
            "jakarta.websocket.Endpoint",
            "io.undertow.servlet.Servlets",
            "io.undertow.websockets.jsr.WebSocketDeploymentInfo"
        }) {
            assertThatThrownBy(() -> Class.forName(absent, false, loader))
                    .as(absent + " must not be on a native-only application's class path")
                    .isInstanceOf(ClassNotFoundException.class);
        }
    }

    @Test
    void askingForJakartaWithoutItsDependencySaysWhatToAdd() {
        assertThatThrownBy(() -> WsServer.builder().jakarta())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("io.undertow:undertow-websockets-jsr");
    }
}
