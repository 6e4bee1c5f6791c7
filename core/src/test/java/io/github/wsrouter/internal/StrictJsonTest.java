package io.github.wsrouter.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The quick path of {@link StrictJson#parseObject} builds the tree Gson's strict reader builds,
 * and leaves to Gson every text it does not take (so that errors read as before).
 */
class StrictJsonTest {

    private static final List<String> CORPUS = List.of(
            "{}",
            " { } ",
            "{\"to\":\"bob\",\"message\":\"hi\"}",
            "{\"to\" : \"bob\" ,\n\t\"message\" :\r\n {\"a\": [true, false, null, \"x\", [], {}]}}",
            "{\"id\":42,\"to\":\"bob\",\"message\":1.5e3}",
            "{\"to\":\"b\\\"ob\",\"message\":\"\\u00e9\\n\"}",
            "{\"to\":\"bob\",\"to\":\"eve\"}",
            "{\"to\":\"bob\",}",
            "{\"to\":\"bob\"} x",
            "{\"to\":\"bob\"}{}",
            "{'to':'bob'}",
            "{to:\"bob\"}",
            "{\"to\":\"bob\" /* c */}",
            "[1,2]",
            "\"just a string\"",
            "42",
            "null",
            "",
            "   ",
            "{",
            "{\"to\":",
            "{\"to\":\"bob",
            "{\"a\":[1,]}",
            "{\"a\":tru}",
            "{\"a\":nul}",
            "{\"a\":True}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":\"é ü 日本 😀\"}",
            "\uFEFF{\"a\":\"b\"}",
            "{\"a\":\"b\"}\u00a0",
            "{\"\":\"empty name\"}",
            "{\"a\":{\"a\":{\"a\":\"nested same names\"}}}",
            "{\"a\":[{\"b\":[{\"c\":[]}]}]}",
            "{\"a\":-0}",
            "{\"a\":01}",
            "{\"a\":\"\\/\"}",
            "{\"a\":\"\ud83d\"}",
            "{\"a\":\"\ude00\"}",
            "{\"a\":\"\ud83d\ude00\"}");

    /** The tree, or the exception's message: what a client is told either way. */
    private static Object outcome(boolean quick, String text) {
        try {
            JsonObject object = quick ? StrictJson.parseObject(text) : StrictJson.parseWithGson(text);
            return object == null ? "not an object" : object;
        } catch (Exception e) {
            return e.getClass().getSimpleName() + ": " + StrictJson.describe(e);
        }
    }

    private static void assertSame(String text) {
        assertThat(outcome(true, text)).as("%s", escaped(text)).isEqualTo(outcome(false, text));
    }

    private static String escaped(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return out.toString();
    }

    @Test
    void everyTextOfTheCorpusGivesTheSameTreeOrTheSameError() {
        CORPUS.forEach(StrictJsonTest::assertSame);
    }

    @Test
    void nestingUpToTheLimitParsesAndOneMoreLevelIsRefusedAsBefore() {
        for (int levels : new int[] {StrictJson.MAX_NESTING - 1, StrictJson.MAX_NESTING, StrictJson.MAX_NESTING + 1}) {
            StringBuilder text = new StringBuilder("{\"a\":");
            text.append("[".repeat(levels - 1))
                    .append("\"deep\"")
                    .append("]".repeat(levels - 1))
                    .append('}');
            assertSame(text.toString());
            StringBuilder objects = new StringBuilder();
            objects.append("{\"a\":".repeat(levels)).append("true").append("}".repeat(levels));
            assertSame(objects.toString());
        }
        String limit = "{\"a\":".repeat(StrictJson.MAX_NESTING) + "1" + "}".repeat(StrictJson.MAX_NESTING);
        assertThat(outcome(true, limit)).isInstanceOf(JsonObject.class);
        String over = "{\"a\":".repeat(StrictJson.MAX_NESTING + 1) + "1" + "}".repeat(StrictJson.MAX_NESTING + 1);
        assertThat(outcome(true, over).toString()).contains("nested deeper than 64 levels");
    }

    @Test
    void tenThousandMutatedMessagesGiveTheSameTreeOrTheSameError() {
        Random random = new Random(14);
        String alphabet = "{}[]:,\"\\ \t\n\r0123456789.-+eEtrufalsn\u0001\u00e9x";
        List<String> seeds = new ArrayList<>(CORPUS);
        seeds.add("{\"to\":\"bob\",\"message\":{\"text\":\"hi\",\"tags\":[\"a\",\"b\"],\"ok\":true,\"none\":null}}");
        int quickParsed = 0;
        for (int i = 0; i < 10_000; i++) {
            StringBuilder text = new StringBuilder(seeds.get(random.nextInt(seeds.size())));
            int edits = 1 + random.nextInt(3);
            for (int e = 0; e < edits; e++) {
                int at = text.isEmpty() ? 0 : random.nextInt(text.length() + 1);
                char c = alphabet.charAt(random.nextInt(alphabet.length()));
                switch (random.nextInt(3)) {
                    case 0 -> text.insert(at, c);
                    case 1 -> {
                        if (at < text.length()) {
                            text.deleteCharAt(at);
                        }
                    }
                    default -> {
                        if (at < text.length()) {
                            text.setCharAt(at, c);
                        }
                    }
                }
            }
            assertSame(text.toString());
            if (outcome(true, text.toString()) instanceof JsonObject) {
                quickParsed++;
            }
        }
        assertThat(quickParsed).as("mutations that still parse").isGreaterThan(100);
    }
}
