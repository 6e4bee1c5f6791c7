package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class PathTemplateTest {

    // ---- parsing ----

    @Test
    void parsesLiteralsAndParametersInOrder() {
        PathTemplate template = PathTemplate.parse("/rooms/{room}/users/{user_1}/");

        assertThat(template.parameterNames()).containsExactly("room", "user_1");
        assertThat(template).hasToString("/rooms/{room}/users/{user_1}/");
    }

    @Test
    void rootTemplateHasNoParametersAndMatchesOnlyTheRoot() {
        PathTemplate root = PathTemplate.parse("/");

        assertThat(root.parameterNames()).isEmpty();
        assertThat(root.match("/")).isEmpty();
        assertThat(root.match("")).isEmpty();
        assertThat(root.match("/ws")).isNull();
        assertThat(root.match("//")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ws/{username}/", "", " /ws/", "{username}"})
    void templateWithoutLeadingSlashIsRefused(String template) {
        assertThatThrownBy(() -> PathTemplate.parse(template))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must start with '/'")
                .hasMessageContaining(template);
    }

    @Test
    void nullTemplateIsRefused() {
        assertThatThrownBy(() -> PathTemplate.parse(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must start with '/'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a//b/", "//", "/a//", "//a"})
    void emptySegmentIsRefused(String template) {
        assertThatThrownBy(() -> PathTemplate.parse(template))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty segment")
                .hasMessageContaining(template);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a{b}/", "/{a}b/", "/a/{b", "/a/b}/", "/x{y}z/"})
    void braceThatIsNotAWholeSegmentIsRefused(String template) {
        assertThatThrownBy(() -> PathTemplate.parse(template))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("whole segment")
                .hasMessageContaining(template);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/{1x}/", "/{}/", "/{a-b}/", "/{a b}/", "/{{a}}/"})
    void parameterNameThatIsNotAnIdentifierIsRefused(String template) {
        assertThatThrownBy(() -> PathTemplate.parse(template))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a name")
                .hasMessageContaining(template);
    }

    @Test
    void badNameMessageQuotesTheName() {
        assertThatThrownBy(() -> PathTemplate.parse("/ws/{1x}/")).hasMessageContaining("'1x'");
    }

    @Test
    void parameterUsedTwiceIsRefused() {
        assertThatThrownBy(() -> PathTemplate.parse("/{room}/x/{room}/"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'room' twice")
                .hasMessageContaining("/{room}/x/{room}/");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a b/", "/a%20b/", "/a?b/", "/a#b/", "/caf\u00e9/"})
    void segmentWithCharactersNotAllowedInAPathIsRefused(String template) {
        assertThatThrownBy(() -> PathTemplate.parse(template))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not allowed")
                .hasMessageContaining(template);
    }

    // ---- matching ----

    @Test
    void trailingSlashIsOptionalOnThePath() {
        PathTemplate template = PathTemplate.parse("/ws/{username}/");

        assertThat(template.match("/ws/alice/")).containsExactly(Map.entry("username", "alice"));
        assertThat(template.match("/ws/alice")).containsExactly(Map.entry("username", "alice"));
    }

    @Test
    void trailingSlashIsOptionalOnTheTemplate() {
        PathTemplate template = PathTemplate.parse("/ws/{username}");

        assertThat(template.match("/ws/alice/")).containsExactly(Map.entry("username", "alice"));
        assertThat(template.match("/ws/alice")).containsExactly(Map.entry("username", "alice"));
    }

    @Test
    void onlyOneTrailingSlashIsOptional() {
        assertThat(PathTemplate.parse("/ws/{username}/").match("/ws/alice//")).isNull();
    }

    @Test
    void literalSegmentsMustMatchExactly() {
        PathTemplate template = PathTemplate.parse("/ws/chat/");

        assertThat(template.match("/ws/chat/")).isEmpty();
        assertThat(template.match("/ws/Chat/")).isNull();
        assertThat(template.match("/ws/chats/")).isNull();
        assertThat(template.match("/ws/cha/")).isNull();
        assertThat(template.match("/wss/chat/")).isNull();
    }

    @Test
    void literalSegmentsAreComparedAfterPercentDecoding() {
        assertThat(PathTemplate.parse("/ws/chat/").match("/ws/ch%61t/")).isEmpty();
    }

    @Test
    void segmentCountMustBeEqual() {
        PathTemplate template = PathTemplate.parse("/ws/{username}/");

        assertThat(template.match("/ws/")).isNull();
        assertThat(template.match("/ws")).isNull();
        assertThat(template.match("/ws/alice/extra/")).isNull();
        assertThat(template.match("/")).isNull();
    }

    @Test
    void emptyParameterSegmentDoesNotMatch() {
        PathTemplate template = PathTemplate.parse("/ws/{username}/x/");

        assertThat(template.match("/ws//x/")).isNull();
        assertThat(PathTemplate.parse("/rooms/{room}/").match("/rooms//")).isNull();
    }

    @Test
    void pathWithoutLeadingSlashOrNullDoesNotMatch() {
        PathTemplate template = PathTemplate.parse("/ws/{username}/");

        assertThat(template.match("ws/alice/")).isNull();
        assertThat(template.match(null)).isNull();
    }

    @Test
    void parametersArePercentDecodedAsUtf8() {
        assertThat(PathTemplate.parse("/ws/{username}/").match("/ws/ren%C3%A9e/"))
                .containsExactly(Map.entry("username", "ren\u00e9e"));
    }

    @Test
    void lowerCaseHexEscapesDecodeToo() {
        assertThat(PathTemplate.parse("/ws/{username}/").match("/ws/%c3%a9/"))
                .containsExactly(Map.entry("username", "\u00e9"));
    }

    @Test
    void encodedSlashStaysInsideTheValue() {
        assertThat(PathTemplate.parse("/files/{name}/").match("/files/a%2Fb/"))
                .containsExactly(Map.entry("name", "a/b"));
    }

    @Test
    void plusStaysPlus() {
        assertThat(PathTemplate.parse("/ws/{username}/").match("/ws/a+b/"))
                .containsExactly(Map.entry("username", "a+b"));
    }

    @Test
    void encodedSpaceDecodes() {
        assertThat(PathTemplate.parse("/ws/{username}/").match("/ws/a%20b/"))
                .containsExactly(Map.entry("username", "a b"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/ws/%zz/",
                "/ws/a%zz/",
                "/ws/%4/",
                "/ws/abc%4/",
                "/ws/%/",
                "/ws/%g1/",
                "/ws/%1g/",
                "/ws/%C3/",
                "/ws/%C3%28/",
                "/ws/%FF/",
                "/ws/%ED%A0%80/",
                "/ws/%E2%82/",
                // hex digits must be ASCII: Arabic-Indic "41" and full-width "A1" are not escapes
                "/ws/%\u0664\u0661/",
                "/ws/%\uFF14\uFF11/"
            })
    void malformedEscapeOrInvalidUtf8MatchesNothing(String path) {
        assertThat(PathTemplate.parse("/ws/{username}/").match(path)).isNull();
    }

    @Test
    void malformedEscapeInALiteralSegmentMatchesNothing() {
        assertThat(PathTemplate.parse("/ws/chat/").match("/ws/chat%zz/")).isNull();
    }

    @Test
    void parametersComeInTemplateOrder() {
        Map<String, String> parameters = PathTemplate.parse("/{z}/{a}/{m}/").match("/1/2/3/");

        assertThat(parameters).containsExactly(Map.entry("z", "1"), Map.entry("a", "2"), Map.entry("m", "3"));
    }

    @Test
    void matchedParametersAreUnmodifiable() {
        Map<String, String> parameters = PathTemplate.parse("/ws/{username}/").match("/ws/alice/");

        assertThatThrownBy(() -> parameters.put("username", "mallory"))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    // ---- collisions and specificity ----

    @Test
    void templatesDifferingOnlyInParameterNamesCollide() {
        PathTemplate a = PathTemplate.parse("/rooms/{room}/");
        PathTemplate b = PathTemplate.parse("/rooms/{name}/");

        assertThat(a.collidesWith(b)).isTrue();
        assertThat(b.collidesWith(a)).isTrue();
    }

    @Test
    void templatesDifferingOnlyInTrailingSlashCollide() {
        assertThat(PathTemplate.parse("/ws/chat").collidesWith(PathTemplate.parse("/ws/chat/")))
                .isTrue();
    }

    @Test
    void literalAndParameterDoNotCollide() {
        PathTemplate literal = PathTemplate.parse("/rooms/lobby/");
        PathTemplate parameter = PathTemplate.parse("/rooms/{room}/");

        assertThat(literal.collidesWith(parameter)).isFalse();
        assertThat(parameter.collidesWith(literal)).isFalse();
    }

    @Test
    void differentLiteralsOrLengthsDoNotCollide() {
        assertThat(PathTemplate.parse("/a/").collidesWith(PathTemplate.parse("/b/")))
                .isFalse();
        assertThat(PathTemplate.parse("/a/{x}/").collidesWith(PathTemplate.parse("/a/")))
                .isFalse();
        assertThat(PathTemplate.parse("/a/{x}/").collidesWith(PathTemplate.parse("/a/{x}/{y}/")))
                .isFalse();
    }

    @Test
    void literalIsMoreSpecificThanParameterAtTheFirstDifference() {
        PathTemplate literal = PathTemplate.parse("/rooms/lobby/");
        PathTemplate parameter = PathTemplate.parse("/rooms/{room}/");

        assertThat(literal.compareSpecificity(parameter)).isNegative();
        assertThat(parameter.compareSpecificity(literal)).isPositive();
        assertThat(literal.compareSpecificity(PathTemplate.parse("/rooms/other/")))
                .isZero();
    }

    @Test
    void equalityIsByTemplateText() {
        assertThat(PathTemplate.parse("/ws/{username}/"))
                .isEqualTo(PathTemplate.parse("/ws/{username}/"))
                .hasSameHashCodeAs(PathTemplate.parse("/ws/{username}/"))
                .isNotEqualTo(PathTemplate.parse("/ws/{user}/"));
    }
}
