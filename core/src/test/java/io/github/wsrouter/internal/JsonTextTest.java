package io.github.wsrouter.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The quick writer and Gson's give the same text, for every character and for random trees. */
class JsonTextTest {

    private static final Gson ROUTERS =
            new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    @Test
    void everyCharacterIsEscapedAsGsonEscapesIt() {
        for (int c = 0; c <= 0xFFFF; c++) {
            JsonObject object = new JsonObject();
            object.addProperty("k" + (char) c, "a" + (char) c + "b");
            assertThat(JsonText.write(ROUTERS, object)).as("U+%04X", c).isEqualTo(ROUTERS.toJson(object));
        }
    }

    @Test
    void randomTreesAreWrittenAsGsonWritesThem() {
        Random random = new Random(14);
        for (int i = 0; i < 10_000; i++) {
            JsonElement tree = tree(random, 0);
            assertThat(JsonText.write(ROUTERS, tree)).as("tree %d", i).isEqualTo(ROUTERS.toJson(tree));
        }
    }

    @Test
    void otherGsonSettingsAndNumbersAreGsonsToWrite() {
        JsonObject object = new JsonObject();
        object.addProperty("html", "<a href='x'>&</a>");
        object.add("nothing", JsonNull.INSTANCE);
        object.addProperty("n", 1.50);
        Gson defaults = new Gson();
        assertThat(JsonText.write(defaults, object))
                .isEqualTo(defaults.toJson(object))
                .contains("\\u003c");
        assertThat(JsonText.write(ROUTERS, object))
                .isEqualTo("{\"html\":\"<a href='x'>&</a>\",\"nothing\":null,\"n\":1.5}");
        JsonArray deep = new JsonArray();
        JsonArray at = deep;
        for (int i = 0; i < JsonText.MAX_DEPTH + 10; i++) {
            JsonArray inner = new JsonArray();
            at.add(inner);
            at = inner;
        }
        assertThat(JsonText.write(ROUTERS, deep)).isEqualTo(ROUTERS.toJson(deep));
    }

    private static JsonElement tree(Random random, int depth) {
        int kind = depth > 4 ? 2 + random.nextInt(4) : random.nextInt(6);
        switch (kind) {
            case 0 -> {
                JsonObject object = new JsonObject();
                int n = random.nextInt(5);
                for (int i = 0; i < n; i++) {
                    object.add(string(random), tree(random, depth + 1));
                }
                return object;
            }
            case 1 -> {
                JsonArray array = new JsonArray();
                int n = random.nextInt(5);
                for (int i = 0; i < n; i++) {
                    array.add(tree(random, depth + 1));
                }
                return array;
            }
            case 2 -> {
                return new JsonPrimitive(string(random));
            }
            case 3 -> {
                return new JsonPrimitive(random.nextBoolean());
            }
            case 4 -> {
                return JsonNull.INSTANCE;
            }
            default -> {
                return random.nextBoolean()
                        ? new JsonPrimitive(random.nextInt())
                        : new JsonPrimitive(random.nextDouble() * 1e6);
            }
        }
    }

    private static String string(Random random) {
        StringBuilder s = new StringBuilder();
        int n = random.nextInt(12);
        for (int i = 0; i < n; i++) {
            s.append(
                    switch (random.nextInt(4)) {
                        case 0 -> (char) random.nextInt(0x80);
                        case 1 -> (char) random.nextInt(0x10000);
                        case 2 -> "\"\\\u2028\u2029\n\t<>&='".charAt(random.nextInt(11));
                        default -> (char) ('a' + random.nextInt(26));
                    });
        }
        return s.toString();
    }
}
