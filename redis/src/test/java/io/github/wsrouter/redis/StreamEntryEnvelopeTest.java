package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The envelope of a history entry: made here without its end, finished by the append script. */
class StreamEntryEnvelopeTest {

    @Test
    void theScriptsEndingMakesAnEntryThatReadsBack() {
        String text = "{\"to_user\":\"bob\",\"message\":\"hé \\\"ok\\\" 😀\",\"from\":\"alice\"}";
        String head = Envelope.encodeEntryHead("node1", "/ws/{username}/", "user:bob", text);
        String published = head + ",\"epoch\":\"5f0c1a2b3c4d\",\"offset\":42}"; // as APPEND ends it

        Envelope.StreamEntry entry = Envelope.decodeEntry(published);

        assertThat(entry)
                .isEqualTo(new Envelope.StreamEntry("node1", "/ws/{username}/", "user:bob", "5f0c1a2b3c4d", 42, text));
        assertThat(published).startsWith("{\"v\":1,");
        assertThat(Envelope.decode(published)).as("not a topic's envelope").isNull();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"v\":2,\"origin\":\"n\",\"route\":\"r\",\"stream\":\"s\",\"text\":\"t\",\"epoch\":\"e\",\"offset\":1}",
                "{\"v\":1,\"origin\":\"n\",\"route\":\"r\",\"stream\":\"s\",\"text\":\"t\",\"epoch\":\"e\"}",
                "{\"v\":1,\"origin\":\"n\",\"route\":\"r\",\"stream\":\"s\",\"epoch\":\"e\",\"offset\":1}",
                "{\"v\":1,\"origin\":\"n\",\"route\":\"r\",\"kind\":\"user\",\"key\":\"bob\",\"text\":\"t\"}",
                "not json",
                "[1]"
            })
    void whatIsNotAnEntryOfThisVersionIsNull(String json) {
        assertThat(Envelope.decodeEntry(json)).isNull();
    }
}
