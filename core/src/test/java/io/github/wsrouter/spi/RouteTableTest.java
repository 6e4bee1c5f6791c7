package io.github.wsrouter.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.PathTemplate;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class RouteTableTest {

    private final RouteTable<String> routes = new RouteTable<>();

    @Test
    void literalRouteBeatsParameterRouteWhenAddedFirst() {
        routes.add(PathTemplate.parse("/rooms/lobby/"), "lobby");
        routes.add(PathTemplate.parse("/rooms/{room}/"), "room");

        assertLobbyWinsAndOthersFallThrough();
    }

    @Test
    void literalRouteBeatsParameterRouteWhenAddedLast() {
        routes.add(PathTemplate.parse("/rooms/{room}/"), "room");
        routes.add(PathTemplate.parse("/rooms/lobby/"), "lobby");

        assertLobbyWinsAndOthersFallThrough();
    }

    private void assertLobbyWinsAndOthersFallThrough() {
        RouteTable.Match<String> lobby = routes.match("/rooms/lobby/");
        assertThat(lobby.value()).isEqualTo("lobby");
        assertThat(lobby.parameters()).isEmpty();
        assertThat(lobby.template()).hasToString("/rooms/lobby/");

        RouteTable.Match<String> blue = routes.match("/rooms/blue");
        assertThat(blue.value()).isEqualTo("room");
        assertThat(blue.parameters()).containsExactly(Map.entry("room", "blue"));

        assertThat(routes.templates())
                .extracting(PathTemplate::toString)
                .containsExactly("/rooms/lobby/", "/rooms/{room}/");
    }

    @Test
    void earlierLiteralWinsOverLaterLiteral() {
        routes.add(PathTemplate.parse("/{a}/b/"), "param-first");
        routes.add(PathTemplate.parse("/a/{b}/"), "literal-first");

        assertThat(routes.match("/a/b/").value()).isEqualTo("literal-first");
        assertThat(routes.match("/x/b/").value()).isEqualTo("param-first");
        assertThat(routes.match("/a/x/").value()).isEqualTo("literal-first");
    }

    @Test
    void collidingTemplateIsRefusedWithBothNamed() {
        routes.add(PathTemplate.parse("/ws/{username}/"), "first");

        assertThatThrownBy(() -> routes.add(PathTemplate.parse("/ws/{user}"), "second"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/ws/{username}/")
                .hasMessageContaining("/ws/{user}")
                .hasMessageContaining("collides");
        assertThat(routes.match("/ws/alice/").value()).isEqualTo("first");
        assertThat(routes.templates()).hasSize(1);
    }

    @Test
    void sameTemplateTwiceIsRefused() {
        routes.add(PathTemplate.parse("/echo/"), "one");

        assertThatThrownBy(() -> routes.add(PathTemplate.parse("/echo/"), "two"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unmatchedPathGivesNull() {
        assertThat(routes.isEmpty()).isTrue();
        assertThat(routes.match("/anything/")).isNull();

        routes.add(PathTemplate.parse("/ws/{username}/"), "chat");

        assertThat(routes.isEmpty()).isFalse();
        assertThat(routes.match("/other/alice/")).isNull();
        assertThat(routes.match("/ws/%zz/")).isNull();
    }
}
