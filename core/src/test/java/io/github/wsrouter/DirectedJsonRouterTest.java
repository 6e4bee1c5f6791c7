package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class DirectedJsonRouterTest {

    private final DirectedJsonRouter router = DirectedJsonRouter.create();
    private final TestServer server = TestServer.create().route("/ws/{username}/", router);

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    /** Takes the client's next message, checks it is the given error with the given keys in order, returns it. */
    private static JsonObject nextError(TestClient client, String code, String... keys) {
        JsonObject error = json(client.nextText());
        assertThat(error.get("error").getAsString()).isEqualTo(code);
        assertThat(error.keySet()).containsExactly(keys);
        assertThat(error.get("detail").getAsString()).isNotBlank();
        return error;
    }

    private static JsonObject nextInvalidJson(TestClient client) {
        return nextError(client, "invalid_json", "error", "detail");
    }

    // ---- delivery ----

    @Test
    void recipientGetsTheObjectAsSentWithFromAppended() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");

        String received = bob.nextText();
        assertThat(received).isEqualTo("{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}");
        JsonObject object = json(received);
        assertThat(object.keySet()).containsExactly("to_user", "message", "from");
        assertThat(object.get("from").getAsString()).isEqualTo("alice");
        assertThat(object.get("message").getAsString()).isEqualTo("hi");
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages();
    }

    @Test
    void fieldOrderAndExtraFieldsAreKeptWithFromLast() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText(
                "{ \"message\" : {\"text\":\"hi\"}, \"id\": 42, \"to_user\": \"bob\", \"meta\": {\"z\":1,\"a\":2} }");

        JsonObject object = json(bob.nextText());
        assertThat(object.keySet()).containsExactly("message", "id", "to_user", "meta", "from");
        assertThat(object.getAsJsonObject("meta").keySet()).containsExactly("z", "a");
        assertThat(object.get("id").getAsInt()).isEqualTo(42);
        assertThat(object.get("from").getAsString()).isEqualTo("alice");
    }

    @Test
    void clientSuppliedFromIsOverwrittenAndMovedLast() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"from\":\"mallory\",\"to_user\":\"bob\",\"message\":\"trust me\"}");

        String received = bob.nextText();
        assertThat(received).isEqualTo("{\"to_user\":\"bob\",\"message\":\"trust me\",\"from\":\"alice\"}");
        assertThat(received).doesNotContain("mallory");
    }

    @Test
    void nonStringFromIsOverwrittenToo() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":1,\"from\":{\"name\":\"mallory\"}}");

        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("alice");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}",
                "[1,\"two\",null,true]",
                "42",
                "-1.50e3",
                "123456789012345678901234567890",
                "null",
                "true",
                "\"text\"",
                "{}",
                "[]",
                "\"\""
            })
    void messageMayBeAnyJsonValue(String message) {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":" + message + "}");

        String received = bob.nextText();
        assertThat(received).isEqualTo("{\"to_user\":\"bob\",\"message\":" + message + ",\"from\":\"alice\"}");
        assertThat(json(received).get("message")).isEqualTo(JsonParser.parseString(message));
    }

    @Test
    void htmlAndUnicodeAreNotEscaped() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"<b>caf\u00e9 & 'tea' = \uD83D\uDE00</b>\"}");

        assertThat(bob.nextText())
                .isEqualTo(
                        "{\"to_user\":\"bob\",\"message\":\"<b>caf\u00e9 & 'tea' = \uD83D\uDE00</b>\",\"from\":\"alice\"}");
    }

    @Test
    void everyConnectionOfTheRecipientGetsItAndNobodyElse() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient aliceOtherTab = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        TestClient bobOtherTab = server.connect("/ws/bob/");
        TestClient carol = server.connect("/ws/carol/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");

        String expected = "{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}";
        assertThat(bob.texts()).containsExactly(expected);
        assertThat(bobOtherTab.texts()).containsExactly(expected);
        alice.assertNoMoreMessages();
        aliceOtherTab.assertNoMoreMessages();
        carol.assertNoMoreMessages();
        assertThat(router.connectionCount()).isEqualTo(5);
        assertThat(router.onlineUsers()).containsExactlyInAnyOrder("alice", "bob", "carol");
    }

    @Test
    void sendingToYourselfReachesAllYourTabs() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient aliceOtherTab = server.connect("/ws/alice/");

        alice.sendText("{\"to_user\":\"alice\",\"message\":\"note\"}");

        assertThat(json(alice.nextText()).get("from").getAsString()).isEqualTo("alice");
        assertThat(json(aliceOtherTab.nextText()).get("message").getAsString()).isEqualTo("note");
    }

    @Test
    void percentEncodedUserNamesAreDecodedWhenThePatternAllowsThem() {
        TestServer server = TestServer.create()
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder()
                                .userNamePattern(java.util.regex.Pattern.compile("[\\p{L}]{1,64}"))
                                .build());
        TestClient renee = server.connect("/ws/ren%C3%A9e/");
        TestClient bob = server.connect("/ws/bob/");

        assertThat(renee.connection().identity()).isEqualTo("ren\u00e9e");
        bob.sendText("{\"to_user\":\"ren\u00e9e\",\"message\":\"salut\"}");

        assertThat(json(renee.nextText()).get("from").getAsString()).isEqualTo("bob");
        renee.sendText("{\"to_user\":\"bob\",\"message\":\"merci\"}");
        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("ren\u00e9e");
    }

    @Test
    void messagesFromOneSenderArriveInOrder() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        for (int i = 0; i < 100; i++) {
            alice.sendText("{\"to_user\":\"bob\",\"message\":" + i + "}");
        }

        var texts = bob.texts();
        assertThat(texts).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(json(texts.get(i)).get("message").getAsInt()).isEqualTo(i);
        }
    }

    // ---- errors ----

    @Test
    void unknownRecipientGetsErrorAndStaysOpen() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient carol = server.connect("/ws/carol/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");

        JsonObject error = nextError(alice, "unknown_recipient", "error", "to_user", "detail");
        assertThat(error.get("to_user").getAsString()).isEqualTo("bob");
        assertThat(error.get("detail").getAsString()).contains("bob");
        alice.assertNoMoreMessages();
        carol.assertNoMoreMessages();
        assertThat(alice.isOpen()).isTrue();
        assertThat(alice.connection().isOpen()).isTrue();

        TestClient bob = server.connect("/ws/bob/");
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"now?\"}");
        assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo("now?");
        alice.assertNoMoreMessages();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "not json",
                "{\"to_user\":",
                "{} x",
                "{to_user:'bob'}",
                "{'to_user':'bob','message':'hi'}",
                "{\"to_user\":\"bob\",\"message\":hi}",
                "{\"to_user\":\"bob\",\"message\":1,}",
                "{\"to_user\":\"bob\",\"message\":NaN}",
                "{\"to_user\":\"bob\" \"message\":1}",
                "{\"to_user\":\"bob\",\"message\":1}{}",
                "{\"to_user\":\"bob\",\"message\":1} // hi",
                ")]}'\n{\"to_user\":\"bob\",\"message\":1}",
                "{\"to_user\"=\"bob\",\"message\":1}",
                "[\"to_user\",\"bob\"]",
                "[]",
                "\"bob\"",
                "42",
                "true",
                "null",
                "",
                "   ",
                "}"
            })
    void textThatIsNotAStrictJsonObjectIsInvalidJson(String text) {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText(text);

        nextInvalidJson(alice);
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages();
        assertThat(alice.isOpen()).isTrue();
    }

    @Test
    void invalidJsonDetailHasNoGsonBoilerplate() {
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{\"to_user\":");

        String detail = nextInvalidJson(alice).get("detail").getAsString();
        assertThat(detail).doesNotContain("com.google").doesNotContain("See https");
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(
            delimiter = '|',
            value = {
                "{to_user: 'bob'}            | message is not valid JSON: not strict JSON",
                "{\"to_user\": \"bob        | message is not valid JSON: a string is not closed at line 1, column",
                "{\"to_user\":              | message is not valid JSON: the text ends before the JSON value does",
                "{\"a\" 1}                   | message is not valid JSON: expected ':' after a member name at line 1, column",
                "{\"a\":1,\"a\":2}            | message is not valid JSON: duplicate member 'a'",
                "{\"a\":1} x                 | message is not valid JSON: not strict JSON (unquoted names or text, single quotes, comments and trailing commas are not allowed) at line 1, column 10",
            })
    void invalidJsonIsDescribedInOurOwnWordsWithItsPosition(String text, String expected) {
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText(text.strip());

        String detail = nextInvalidJson(alice).get("detail").getAsString();
        assertThat(detail)
                .startsWith(expected)
                .doesNotContainIgnoringCase("JsonReader")
                .doesNotContainIgnoringCase("strictness")
                .doesNotContainIgnoringCase("lenient")
                .doesNotContain("path $");
    }

    @Test
    void deeplyNestedJsonIsInvalidJsonNotACrash() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("[".repeat(10_000));
        nextInvalidJson(alice);

        String deepButClosed = "{\"to_user\":\"bob\",\"message\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}";
        alice.sendText(deepButClosed);
        nextInvalidJson(alice);

        alice.sendText("{\"to_user\":\"bob\",\"message\":" + "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000) + "}");
        nextInvalidJson(alice);

        bob.assertNoMoreMessages();
        assertThat(alice.isOpen()).isTrue();
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"still here\"}");
        assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo("still here");
    }

    @Test
    void moderatelyNestedMessageIsDelivered() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        String nested = "[".repeat(30) + "1" + "]".repeat(30);

        alice.sendText("{\"to_user\":\"bob\",\"message\":" + nested + "}");

        assertThat(json(bob.nextText()).get("message")).isEqualTo(JsonParser.parseString(nested));
    }

    @Test
    void missingRecipientIsMissingFieldToUser() {
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{\"message\":\"hi\"}");

        JsonObject error = nextError(alice, "missing_field", "error", "field", "detail");
        assertThat(error.get("field").getAsString()).isEqualTo("to_user");
        assertThat(alice.isOpen()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "5", "true", "[\"bob\"]", "{\"name\":\"bob\"}"})
    void nonStringRecipientIsMissingFieldToUser(String to) {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":" + to + ",\"message\":\"hi\"}");

        assertThat(nextError(alice, "missing_field", "error", "field", "detail")
                        .get("field")
                        .getAsString())
                .isEqualTo("to_user");
        bob.assertNoMoreMessages();
    }

    @Test
    void missingMessageIsMissingFieldMessage() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"bob\"}");

        assertThat(nextError(alice, "missing_field", "error", "field", "detail")
                        .get("field")
                        .getAsString())
                .isEqualTo("message");
        bob.assertNoMoreMessages();
        assertThat(alice.isOpen()).isTrue();
    }

    @Test
    void recipientIsCheckedBeforeMessage() {
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{}");

        assertThat(nextError(alice, "missing_field", "error", "field", "detail")
                        .get("field")
                        .getAsString())
                .isEqualTo("to_user");
    }

    @Test
    void binaryIsUnsupportedAndTheConnectionStaysOpen() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendBinary("{\"to_user\":\"bob\",\"message\":\"hi\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));

        nextError(alice, "unsupported_binary", "error", "detail");
        bob.assertNoMoreMessages();
        assertThat(alice.isOpen()).isTrue();
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"as text\"}");
        assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo("as text");
    }

    // ---- identity ----

    @Test
    void aRouteWithoutTheUserParameterIsRefusedAtMount() {
        assertThatThrownBy(() -> TestServer.create().route("/chat/{user}/", DirectedJsonRouter.create()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DirectedJsonRouter")
                .hasMessageContaining("{username}")
                .hasMessageContaining("/chat/{user}/")
                .hasMessageContaining("userParameter(\"user\")")
                .hasMessageContaining("identity(");
        assertThatThrownBy(() -> TestServer.create().route("/anonymous/", router))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/anonymous/");
    }

    @Test
    void theFixSuggestedByTheMountErrorWorks() {
        DirectedJsonRouter byUser =
                DirectedJsonRouter.builder().userParameter("user").build();
        TestServer chat = TestServer.create().route("/chat/{user}/", byUser);
        TestClient alice = chat.connect("/chat/alice/");
        TestClient bob = chat.connect("/chat/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");

        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("alice");
    }

    @Test
    void aHandshakeWithoutAUserIsRefusedWith401() {
        DirectedJsonRouter blank =
                DirectedJsonRouter.builder().identity(r -> r.header("X-User")).build();
        TestServer headerServer = TestServer.create().route("/ws/", blank);

        assertThat(headerServer.handshake("/ws/", Map.of("X-User", "  ")).status())
                .isEqualTo(401);
        assertThat(headerServer.handshake("/ws/", Map.of()).status()).isEqualTo(401);
        assertThatThrownBy(() -> headerServer.connect("/ws/"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("401");
        assertThat(blank.connectionCount()).isZero();
    }

    @Test
    void theUserAHookAuthenticatedServesARouteWithoutPathUser() {
        DirectedJsonRouter hooked = DirectedJsonRouter.builder()
                .identity(HandshakeRequest::identity)
                .build();
        TestServer secured = TestServer.create()
                .handshakeHook(request -> HandshakeDecision.acceptAs(request.header("X-Token")))
                .route("/ws/", hooked);
        TestClient alice = secured.connect("/ws/", Map.of("X-Token", "alice"));
        TestClient bob = secured.connect("/ws/", Map.of("X-Token", "bob"));

        bob.sendText("{\"to_user\":\"alice\",\"message\":\"hi\"}");

        assertThat(json(alice.nextText()).get("from").getAsString()).isEqualTo("bob");
        assertThat(alice.connection().identity()).isEqualTo("alice");
    }

    @Test
    void customIdentityFunctionNamesTheUser() {
        DirectedJsonRouter byHeader =
                DirectedJsonRouter.builder().identity(r -> r.header("X-User")).build();
        TestServer headerServer = TestServer.create().route("/ws/{username}/", byHeader);
        // The path says "mallory"; the identity function ignores it.
        TestClient alice = headerServer.connect("/ws/mallory/", Map.of("x-user", "alice"));
        TestClient bob = headerServer.connect("/ws/bob/", Map.of("X-USER", "bob"));

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");

        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("alice");
        assertThat(byHeader.onlineUsers()).containsExactlyInAnyOrder("alice", "bob");
        assertThat(byHeader.isOnline("mallory")).isFalse();
    }

    @Test
    void customUserParameterNamesTheUser() {
        DirectedJsonRouter byName =
                DirectedJsonRouter.builder().userParameter("name").build();
        TestServer custom = TestServer.create().route("/chat/{name}/", byName);
        TestClient alice = custom.connect("/chat/alice/");
        TestClient bob = custom.connect("/chat/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");

        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("alice");
    }

    @Test
    void customFieldNamesAreUsedForAddressingStampingAndErrors() {
        DirectedJsonRouter custom = DirectedJsonRouter.builder()
                .toField("to")
                .messageField("body")
                .fromField("sender")
                .build();
        TestServer customServer = TestServer.create().route("/ws/{username}/", custom);
        TestClient alice = customServer.connect("/ws/alice/");
        TestClient bob = customServer.connect("/ws/bob/");

        alice.sendText("{\"to\":\"bob\",\"body\":\"hi\",\"from\":\"x\"}");
        assertThat(bob.nextText()).isEqualTo("{\"to\":\"bob\",\"body\":\"hi\",\"from\":\"x\",\"sender\":\"alice\"}");

        alice.sendText("{\"to\":\"carol\",\"body\":\"hi\"}");
        JsonObject unknown = nextError(alice, "unknown_recipient", "error", "to", "detail");
        assertThat(unknown.get("to").getAsString()).isEqualTo("carol");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(nextError(alice, "missing_field", "error", "field", "detail")
                        .get("field")
                        .getAsString())
                .isEqualTo("to");

        alice.sendText("{\"to\":\"bob\",\"message\":\"hi\"}");
        assertThat(nextError(alice, "missing_field", "error", "field", "detail")
                        .get("field")
                        .getAsString())
                .isEqualTo("body");
        bob.assertNoMoreMessages();
    }

    @Test
    void blankBuilderNamesAreRefused() {
        assertThatThrownBy(() -> DirectedJsonRouter.builder().toField("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirectedJsonRouter.builder().messageField(" "))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirectedJsonRouter.builder().fromField(null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirectedJsonRouter.builder().userParameter(""))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirectedJsonRouter.builder().everyone(""))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirectedJsonRouter.builder().identity(null)).isInstanceOf(NullPointerException.class);
    }

    // ---- everyone ----

    @Test
    void aUserNamedLikeTheEveryoneAddressIsRefusedAtTheHandshake() {
        TestServer everyoneServer = TestServer.create()
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder()
                                .everyone("*")
                                .userNamePattern(java.util.regex.Pattern.compile(".+"))
                                .build());
        HandshakeDecision refused = everyoneServer.handshake("/ws/*/", Map.of());
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.reason()).isEqualTo("reserved user name");
    }

    @Test
    void everyoneAddressReachesEveryConnectionIncludingTheSender() {
        DirectedJsonRouter withEveryone =
                DirectedJsonRouter.builder().everyone("*").build();
        TestServer everyoneServer = TestServer.create().route("/ws/{username}/", withEveryone);
        TestClient alice = everyoneServer.connect("/ws/alice/");
        TestClient aliceOtherTab = everyoneServer.connect("/ws/alice/");
        TestClient bob = everyoneServer.connect("/ws/bob/");
        TestClient carol = everyoneServer.connect("/ws/carol/");

        alice.sendText("{\"to_user\":\"*\",\"message\":\"hello all\"}");

        String expected = "{\"to_user\":\"*\",\"message\":\"hello all\",\"from\":\"alice\"}";
        for (TestClient client : new TestClient[] {alice, aliceOtherTab, bob, carol}) {
            assertThat(client.texts()).containsExactly(expected);
        }

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"just bob\"}");
        assertThat(bob.texts()).hasSize(1);
        alice.assertNoMoreMessages();
        carol.assertNoMoreMessages();
    }

    @Test
    void starIsAnUnknownRecipientWhenEveryoneIsNotConfigured() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"*\",\"message\":\"hello all\"}");

        assertThat(nextError(alice, "unknown_recipient", "error", "to_user", "detail")
                        .get("to_user")
                        .getAsString())
                .isEqualTo("*");
        bob.assertNoMoreMessages();
    }

    // ---- presence ----

    @Test
    void afterTheRecipientClosesItIsOfflineAndUnknown() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        assertThat(router.isOnline("bob")).isTrue();

        bob.close();

        assertThat(router.isOnline("bob")).isFalse();
        assertThat(router.onlineUsers()).containsExactly("alice");
        assertThat(router.connectionCount()).isEqualTo(1);
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(nextError(alice, "unknown_recipient", "error", "to_user", "detail")
                        .get("to_user")
                        .getAsString())
                .isEqualTo("bob");
        bob.assertNoMoreMessages();
    }

    @Test
    void userStaysOnlineWhileAnyTabIsOpen() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        TestClient bobOtherTab = server.connect("/ws/bob/");

        bob.disconnect();

        assertThat(router.isOnline("bob")).isTrue();
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(bobOtherTab.texts()).hasSize(1);
        bob.assertNoMoreMessages();

        bobOtherTab.close();
        assertThat(router.isOnline("bob")).isFalse();
        alice.close();
        assertThat(router.connectionCount()).isZero();
        assertThat(router.onlineUsers()).isEmpty();
    }

    @Test
    void theUserIsTheConnectionsIdentityAndNotAnAttribute() {
        TestClient alice = server.connect("/ws/alice/");

        assertThat(alice.connection().identity()).isEqualTo("alice");
        assertThat(alice.connection().attributes()).isEmpty();
    }

    @Test
    void aRouterCannotChangeTheIdentityThatStampsFrom() {
        // A hostile or buggy router that runs first on the same connection tries to become bob.
        MessageRouter impersonator = new MessageRouter() {
            @Override
            public HandshakeDecision onHandshake(HandshakeRequest request) {
                return router.onHandshake(request);
            }

            @Override
            public void onOpen(Connection connection) {
                connection.attributes().put("wsrouter.identity", "bob");
                connection.attributes().put("wsrouter.user", "bob");
                router.onOpen(connection);
            }

            @Override
            public void onText(Connection connection, String text) {
                connection.attributes().put("wsrouter.identity", "bob");
                router.onText(connection, text);
            }
        };
        TestServer mixed =
                TestServer.create().route("/ws/{username}/", router).route("/sneaky/{username}/", impersonator);
        TestClient bob = mixed.connect("/ws/bob/");
        TestClient carol = mixed.connect("/ws/carol/");
        TestClient mallory = mixed.connect("/sneaky/mallory/");

        mallory.sendText("{\"to_user\":\"carol\",\"message\":\"trust me\"}");

        assertThat(json(carol.nextText()).get("from").getAsString()).isEqualTo("mallory");
        assertThat(mallory.connection().identity()).isEqualTo("mallory");
        assertThat(router.isOnline("mallory")).isTrue();
        bob.assertNoMoreMessages();
    }

    @Test
    void sameJsonElementTypesSurviveTheRoundTrip() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        String sent = "{\"to_user\":\"bob\",\"message\":{\"n\":1.0,\"big\":12345678901234567890,\"s\":\"\\u00e9\\n\"}}";

        alice.sendText(sent);

        JsonObject received = json(bob.nextText());
        JsonElement message = received.get("message");
        assertThat(message).isEqualTo(json(sent).get("message"));
        assertThat(message.getAsJsonObject().get("s").getAsString()).isEqualTo("\u00e9\n");
        assertThat(message.getAsJsonObject().get("big").getAsBigInteger()).hasToString("12345678901234567890");
    }

    // ---- presence ----

    @Test
    void presenceTellsWhoIsOnlineAndWhoJoinsAndLeavesOnce() {
        TestServer presenceServer = TestServer.create()
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder().presence(true).build());
        TestClient bob = presenceServer.connect("/ws/bob/");
        assertThat(bob.nextText()).isEqualTo("{\"presence\":\"online\",\"users\":[\"bob\"]}");

        TestClient alice = presenceServer.connect("/ws/alice/");
        assertThat(alice.nextText()).isEqualTo("{\"presence\":\"online\",\"users\":[\"alice\",\"bob\"]}");
        assertThat(bob.nextText()).isEqualTo("{\"presence\":\"join\",\"user\":\"alice\"}");

        TestClient aliceTab2 = presenceServer.connect("/ws/alice/");
        assertThat(aliceTab2.nextText()).isEqualTo("{\"presence\":\"online\",\"users\":[\"alice\",\"bob\"]}");
        bob.assertNoMoreMessages(); // alice was online already
        alice.assertNoMoreMessages();

        alice.close();
        bob.assertNoMoreMessages(); // alice still has a tab
        aliceTab2.close();
        assertThat(bob.nextText()).isEqualTo("{\"presence\":\"leave\",\"user\":\"alice\"}");
        bob.assertNoMoreMessages();
    }

    @Test
    void noPresenceObjectsByDefault() {
        TestClient bob = server.connect("/ws/bob/");
        server.connect("/ws/alice/").close();
        bob.assertNoMoreMessages();
    }

    // ---- handshake: user names, authenticated identity, same-user policy ----

    @org.junit.jupiter.params.ParameterizedTest
    @ValueSource(strings = {"/ws/*/", "/ws/a%20b/", "/ws/%3Cscript%3E/", "/ws/ren%C3%A9e/"})
    void userNamesOutsideThePatternAreRefusedWith400(String path) {
        HandshakeDecision decision = server.handshake(path, Map.of());
        assertThat(decision.isRejected()).isTrue();
        assertThat(decision.status()).isEqualTo(400);
        assertThatThrownBy(() -> server.connect(path))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("400");
    }

    @Test
    void userNamesUpTo64AllowedCharactersAreAccepted() {
        assertThat(server.handshake("/ws/" + "a".repeat(64) + "/", Map.of()).isRejected())
                .isFalse();
        assertThat(server.handshake("/ws/" + "a".repeat(65) + "/", Map.of()).status())
                .isEqualTo(400);
        assertThat(server.handshake("/ws/Al.ice_B-0/", Map.of()).isRejected()).isFalse();
    }

    /** A hook that authenticates "token-of-NAME" tokens from the query: a stand-in for signed tokens. */
    private static final HandshakeHook TOKENS = request -> {
        String token = request.queryParameter("token");
        return token != null && token.startsWith("token-of-")
                ? HandshakeDecision.acceptAs(token.substring("token-of-".length()))
                : HandshakeDecision.reject(401, "a valid token is required");
    };

    @Test
    void withAnAuthenticatingHookNobodyConnectsAsSomebodyElse() {
        TestServer secured =
                TestServer.create().handshakeHook(TOKENS).route("/ws/{username}/", DirectedJsonRouter.create());
        assertThat(secured.handshake("/ws/alice/", Map.of()).status()).isEqualTo(401);
        assertThat(secured.handshake("/ws/alice/?token=token-of-bob", Map.of()).status())
                .isEqualTo(403);

        TestClient alice = secured.connect("/ws/alice/?token=token-of-alice");
        TestClient bob = secured.connect("/ws/bob/?token=token-of-bob");
        assertThat(alice.connection().identity()).isEqualTo("alice");
        bob.sendText("{\"to_user\":\"alice\",\"message\":\"hi\"}");
        assertThat(json(alice.nextText()).get("from").getAsString()).isEqualTo("bob");
    }

    @Test
    void anAuthenticatedIdentityNamesTheUserOnARouteWithoutAUserParameter() {
        TestServer secured = TestServer.create()
                .handshakeHook(TOKENS)
                .route(
                        "/chat/",
                        DirectedJsonRouter.builder()
                                .identity(HandshakeRequest::identity)
                                .build());
        TestClient alice = secured.connect("/chat/?token=token-of-alice");
        TestClient bob = secured.connect("/chat/?token=token-of-bob");
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("alice");
    }

    @Test
    void replaceOlderClosesTheOlderConnectionWith4002AndLeavesNoStaleEntry() {
        DirectedJsonRouter replacing = DirectedJsonRouter.builder()
                .sameUser(DirectedJsonRouter.SameUser.REPLACE_OLDER)
                .build();
        TestServer server = TestServer.create().route("/ws/{username}/", replacing);
        TestClient first = server.connect("/ws/bob/");
        TestClient second = server.connect("/ws/bob/");
        assertThat(first.assertClosed(4002).reason()).isEqualTo("replaced by a newer connection");
        assertThat(second.isOpen()).isTrue();
        assertThat(replacing.connectionCount()).isEqualTo(1);

        TestClient alice = server.connect("/ws/alice/");
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(json(second.nextText()).get("message").getAsString()).isEqualTo("hi");
        second.close();
        assertThat(replacing.isOnline("bob")).isFalse();
    }

    @Test
    void refuseNewerRefusesASecondConnectionWith409() {
        DirectedJsonRouter refusing = DirectedJsonRouter.builder()
                .sameUser(DirectedJsonRouter.SameUser.REFUSE_NEWER)
                .build();
        TestServer server = TestServer.create().route("/ws/{username}/", refusing);
        TestClient first = server.connect("/ws/bob/");
        assertThat(server.handshake("/ws/bob/", Map.of()).status()).isEqualTo(409);
        assertThat(first.isOpen()).isTrue();
        first.close();
        assertThat(server.handshake("/ws/bob/", Map.of()).isRejected()).isFalse();
        assertThat(refusing.connectionCount()).isZero();
    }

    // ---- hostile JSON: a clear reply every time, the connection stays open ----

    @Test
    void hostileJsonOfEveryShapeGetsAClearReplyAndTheConnectionStaysOpen() {
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        String deep64 = "[".repeat(63) + "]".repeat(63);
        String[][] cases = {
            {"[1,2,3]", "invalid_json"},
            {"\"just a string\"", "invalid_json"},
            {"{\"to_user\":\"bob\",\"message\":" + "[".repeat(200) + "]".repeat(200) + "}", "invalid_json"},
            {"{\"to_user\":\"bob\",\"message\":\"" + "x".repeat(60 * 1024) + "\"}", null},
            {"{\"to_user\":\"bob\",\"message\":" + deep64 + "}", null},
            {"{\"to_user\":42,\"message\":\"hi\"}", "missing_field"},
            {"{\"to_user\":[\"bob\"],\"message\":\"hi\"}", "missing_field"},
            {"{\"to_user\":null,\"message\":\"hi\"}", "missing_field"},
            {"{\"to_user\":\"\\u0062ob\",\"message\":\"\\u00e9\\ud83d\\ude00\"}", null},
            {"{\"to_user\":\"bob\",\"message\":\"\\ud800\"}", "invalid_json"}, // an unpaired surrogate
            {"{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"mallory\"}", null},
            {"{\"to_user\":\"\",\"message\":\"hi\"}", "unknown_recipient"},
            {"{\"to_user\":\"bob\",\"message\":\"hi\"} trailing", "invalid_json"},
            {"{\"to_user\":\"bob\" \"message\":\"hi\"}", "invalid_json"},
            {"\u0000", "invalid_json"},
        };
        for (String[] c : cases) {
            alice.sendText(c[0]);
            if (c[1] == null) {
                JsonObject delivered = json(bob.nextText());
                assertThat(delivered.get("from").getAsString()).as(c[0]).isEqualTo("alice");
            } else {
                assertThat(json(alice.nextText()).get("error").getAsString())
                        .as(abbreviate(c[0]))
                        .isEqualTo(c[1]);
            }
            assertThat(alice.isOpen()).isTrue();
        }
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages();
    }

    @Test
    void duplicateKeysAreRefusedAsInvalidJson() {
        TestClient alice = server.connect("/ws/alice/");
        server.connect("/ws/bob/");
        server.connect("/ws/eve/");
        alice.sendText("{\"to_user\":\"bob\",\"to_user\":\"eve\",\"message\":\"hi\"}");
        String reply = alice.nextText();
        // Gson refuses a duplicate member name: no guessing which recipient was meant
        assertThat(json(reply).get("error").getAsString()).isEqualTo("invalid_json");
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }
}
