package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class CloseStatusTest {

    @ParameterizedTest
    @ValueSource(ints = {1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1011, 1014, 1015, 3000, 3999, 4000, 4999})
    void acceptsRegisteredAndApplicationCodes(int code) {
        CloseStatus status = CloseStatus.of(code);

        assertThat(status.code()).isEqualTo(code);
        assertThat(status.reason()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 999, 1004, 1016, 1100, 2000, 2999, 5000, 65535})
    void refusesCodesOutsideTheRanges(int code) {
        assertThatThrownBy(() -> CloseStatus.of(code, "bye"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Integer.toString(code))
                .hasMessageContaining("1000-1003");
    }

    @Test
    void reasonOfExactly123AsciiBytesIsAccepted() {
        String reason = "r".repeat(123);

        assertThat(CloseStatus.of(1000, reason).reason()).isEqualTo(reason);
    }

    @Test
    void reasonOf124AsciiBytesIsRefused() {
        assertThatThrownBy(() -> CloseStatus.of(1000, "r".repeat(124)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("124 bytes")
                .hasMessageContaining("123");
    }

    @Test
    void reasonLimitCountsUtf8BytesNotCharacters() {
        // "é" is 2 bytes of UTF-8: 61 of them are 122 bytes, 62 are 124 bytes though only 62 chars.
        String fits = "é".repeat(61) + "x";
        String tooLong = "é".repeat(62);
        assertThat(fits.getBytes(StandardCharsets.UTF_8)).hasSize(123);

        assertThat(CloseStatus.of(4000, fits).reason()).isEqualTo(fits);
        assertThatThrownBy(() -> CloseStatus.of(4000, tooLong))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("124 bytes");
    }

    @Test
    void fourByteCharactersCountAsFourBytes() {
        String emoji = "\uD83D\uDE00"; // U+1F600, 4 bytes of UTF-8, 2 chars
        assertThat(CloseStatus.of(1000, emoji.repeat(30) + "abc").reason()).hasSize(63);
        assertThatThrownBy(() -> CloseStatus.of(1000, emoji.repeat(31))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nullReasonBecomesEmpty() {
        CloseStatus status = new CloseStatus(1001, null);

        assertThat(status.reason()).isEqualTo("");
        assertThat(status).isEqualTo(CloseStatus.GOING_AWAY);
        assertThat(CloseStatus.of(1001, null)).isEqualTo(CloseStatus.of(1001));
    }

    @ParameterizedTest
    @ValueSource(ints = {1005, 1006, 1015})
    void locallyReportedCodesAreNotSendable(int code) {
        assertThat(CloseStatus.of(code).isSendable()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999})
    void otherValidCodesAreSendable(int code) {
        assertThat(CloseStatus.of(code).isSendable()).isTrue();
    }

    @Test
    void constantsCarryTheirRfcCodes() {
        assertThat(CloseStatus.NORMAL.code()).isEqualTo(1000);
        assertThat(CloseStatus.GOING_AWAY.code()).isEqualTo(1001);
        assertThat(CloseStatus.UNSUPPORTED_DATA.code()).isEqualTo(1003);
        assertThat(CloseStatus.NO_STATUS.code()).isEqualTo(1005);
        assertThat(CloseStatus.ABNORMAL_CLOSURE.code()).isEqualTo(1006);
        assertThat(CloseStatus.POLICY_VIOLATION.code()).isEqualTo(1008);
        assertThat(CloseStatus.MESSAGE_TOO_BIG.code()).isEqualTo(1009);
        assertThat(CloseStatus.INTERNAL_ERROR.code()).isEqualTo(1011);
        assertThat(CloseStatus.TRY_AGAIN_LATER.code()).isEqualTo(1013);
    }

    @Test
    void withReasonKeepsTheCodeAndValidatesTheNewReason() {
        CloseStatus status = CloseStatus.POLICY_VIOLATION.withReason("no user identity");

        assertThat(status.code()).isEqualTo(1008);
        assertThat(status.reason()).isEqualTo("no user identity");
        assertThat(CloseStatus.POLICY_VIOLATION.reason()).isEmpty();
        assertThatThrownBy(() -> CloseStatus.NORMAL.withReason("x".repeat(200)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void toStringShowsCodeAndReason() {
        assertThat(CloseStatus.NORMAL).hasToString("1000");
        assertThat(CloseStatus.of(4001, "kicked")).hasToString("4001 kicked");
    }
}
