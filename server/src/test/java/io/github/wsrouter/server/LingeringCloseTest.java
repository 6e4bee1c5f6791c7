package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.EchoRouter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A client that is still writing when the server closes it for a violation reads the close code,
 * not a reset: the server keeps reading and discarding for a while after its close frame
 * (a lingering close), so that the kernel has no unread bytes to answer with a TCP reset, which
 * would discard the close frame on the client's side before it is read.
 *
 * <p>Each round is the naive client of the issue: one blocking write of everything, on the test's
 * thread, without reading; then it reads. A reset while writing is a failure too.
 */
@Timeout(120)
class LingeringCloseTest {

    private static final int ROUNDS = Integer.getInteger("rounds", 200);
    private static final int SIXTEEN_MIB = 16 * 1024 * 1024;
    private static final byte[] MASK = {0x37, (byte) 0xFA, 0x21, 0x3D};

    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void aSixteenMegabyteTextWrittenWithoutReadingGetsItsCloseCode1009EveryTime() throws Exception {
        server = WsServer.builder()
                .port(0)
                .route("/echo/", EchoRouter.create())
                .build()
                .start(); // 64 KiB
        byte[] text = new byte[SIXTEEN_MIB];
        java.util.Arrays.fill(text, (byte) 'a');
        byte[] wholeFrame = frame(0x1, text);
        rounds("16 MiB text, default 64 KiB limit", wholeFrame, 1009);
    }

    @Test
    void aProtocolViolationFollowedByMoreDataGetsItsCloseCode1002EveryTime() throws Exception {
        server = WsServer.builder()
                .port(0)
                .route("/echo/", EchoRouter.create())
                .build()
                .start();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(new byte[] {(byte) 0x83, (byte) 0x82, 0, 0, 0, 0, 0x68, 0x69}); // a reserved opcode: 1002
        byte[] chunk = new byte[60 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'b');
        byte[] next = frame(0x2, chunk);
        for (int written = 0; written < 4 * 1024 * 1024; written += next.length) {
            all.write(next); // 4 MiB of well-formed frames behind it
        }
        rounds("reserved opcode and 4 MiB behind it", all.toByteArray(), 1002);
    }

    /**
     * A client that writes byte by byte (Autobahn's fuzzing client does, in case 4.1.5): a header
     * RFC 6455 forbids is judged at its second byte, where Undertow's parser judges it, so it is
     * answered on the lingering path. Judged by Undertow, it was answered with a close frame and
     * the socket dropped at once: the client's next bytes met a reset.
     */
    @ParameterizedTest(name = "jakarta={0}: {1}")
    @CsvSource({
        "false, reserved opcode 7,          87 8D 11223344 00000000000000000000000000",
        "true,  reserved opcode 7,          87 8D 11223344 00000000000000000000000000",
        "false, unmasked text,              81 05 6869212121",
        "true,  unmasked text,              81 05 6869212121",
        "false, fragmented ping,            09 80 11223344",
        "true,  fragmented ping,            09 80 11223344",
        "false, ping over 125 bytes,        89 FE 007E 11223344",
        "true,  ping over 125 bytes,        89 FE 007E 11223344",
        "false, RSV bit and no extension,   C1 82 11223344 6869",
        "true,  RSV bit and no extension,   C1 82 11223344 6869",
        "false, continuation of no message, 80 82 11223344 6869",
        "true,  continuation of no message, 80 82 11223344 6869",
    })
    void aForbiddenHeaderWrittenByteByByteGetsItsCloseCodeAndTheServerLingers(boolean jakarta, String what, String hex)
            throws Exception {
        WsServer.Builder builder = WsServer.builder().port(0).route("/echo/", EchoRouter.create());
        server = (jakarta ? builder.jakarta() : builder).build().start();
        byte[] forbidden = RawWebSocket.hex(hex);
        byte[] ping = RawWebSocket.maskedFrame(0x9, new byte[0]);
        byte[] close = RawWebSocket.maskedFrame(0x8, new byte[] {0x03, (byte) 0xE8});
        Map<String, Integer> failures = new TreeMap<>();
        int rounds = ROUNDS / 4;
        for (int round = 0; round < rounds; round++) {
            String failure = dribbledRound(forbidden, ping, close);
            if (failure != null) {
                failures.merge(failure, 1, Integer::sum);
            }
        }
        assertThat(failures)
                .as(what + ": failed rounds of " + rounds + " by cause")
                .isEmpty();
    }

    /**
     * One client: a text and its echo; the forbidden frame's first two bytes, one write each, and
     * the close code; then the rest of the frame, a ping and a close frame, one byte a write, all
     * of which the server must read; then the end of the stream.
     */
    private String dribbledRound(byte[] forbidden, byte[] ping, byte[] close) throws IOException {
        try (RawWebSocket client = RawWebSocket.connect(server.port(), "/echo/")) {
            client.setNoDelay();
            client.sendText("before");
            RawWebSocket.Frame echo = client.read();
            if (echo.opcode() != 0x1) {
                return "no echo, opcode " + echo.opcode();
            }
            client.sendRaw(forbidden, 0, 1);
            client.sendRaw(forbidden, 1, 1);
            RawWebSocket.Frame reply = client.read();
            if (reply.opcode() != 0x8) {
                return "opcode " + reply.opcode();
            }
            if (reply.closeCode() != 1002) {
                return "close code " + reply.closeCode();
            }
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            rest.write(forbidden, 2, forbidden.length - 2);
            rest.writeBytes(ping);
            rest.writeBytes(close);
            try {
                client.sendByteByByte(rest.toByteArray());
            } catch (IOException e) {
                return "write after the close code: " + e.getMessage();
            }
            return client.awaitEndOfStream() ? null : "no end of stream";
        } catch (IOException e) {
            return "read: " + e.getClass().getSimpleName() + " " + e.getMessage();
        }
    }

    private void rounds(String what, byte[] bytes, int expectedCode) throws IOException {
        Map<String, Integer> failures = new TreeMap<>();
        List<Long> millis = new ArrayList<>(ROUNDS);
        for (int round = 0; round < ROUNDS; round++) {
            long start = System.nanoTime();
            String failure = round(bytes, expectedCode);
            millis.add((System.nanoTime() - start) / 1_000_000);
            if (failure != null) {
                failures.merge(failure, 1, Integer::sum);
            }
        }
        int failed = failures.values().stream().mapToInt(Integer::intValue).sum();
        millis.sort(null);
        System.out.printf(
                "%s: %d of %d rounds failed %s; ms per round median %d, max %d%n",
                what, failed, ROUNDS, failures, millis.get(ROUNDS / 2), millis.get(ROUNDS - 1));
        assertThat(failures)
                .as(what + ": failed rounds of " + ROUNDS + " by cause")
                .isEmpty();
    }

    /** One client: returns why it did not read the close code, or null if it did. */
    private String round(byte[] bytes, int expectedCode) throws IOException {
        try (RawWebSocket client = RawWebSocket.connect(server.port(), "/echo/", 64 * 1024)) {
            try {
                client.sendRaw(bytes); // one blocking write, nothing read meanwhile
            } catch (IOException e) {
                return "write: " + e.getMessage();
            }
            RawWebSocket.Frame reply;
            try {
                reply = client.read();
            } catch (IOException e) {
                return "read: " + e.getClass().getSimpleName() + " " + e.getMessage();
            }
            if (reply.opcode() != 0x8) {
                return "opcode " + reply.opcode();
            }
            return reply.closeCode() == expectedCode ? null : "close code " + reply.closeCode();
        }
    }

    /** One masked frame with FIN set and a 16- or 64-bit length. */
    private static byte[] frame(int opcode, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write(0x80 | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xFF);
        } else {
            frame.write(0x80 | 127);
            long length = payload.length;
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) (length >>> shift) & 0xFF);
            }
        }
        frame.writeBytes(MASK);
        byte[] masked = new byte[payload.length];
        for (int i = 0; i < payload.length; i++) {
            masked[i] = (byte) (payload[i] ^ MASK[i & 3]);
        }
        frame.writeBytes(masked);
        return frame.toByteArray();
    }
}
