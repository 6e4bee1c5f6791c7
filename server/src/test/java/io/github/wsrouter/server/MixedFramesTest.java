package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.WsOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native adapter reads whole single-frame messages itself and leaves every other frame to
 * Undertow (fragments, pings, large frames, a text not whole yet with a byte over 127). Seen from
 * a raw socket that sends a seeded mix of all of them, cut at random points: every message comes
 * back once, whole and in the order sent, every ping is answered in order, and a text that is not
 * UTF-8 (read either way) closes the connection with 1007 after the echoes of what came before it
 * and none of what came after. Held to both adapters.
 */
class MixedFramesTest {

    private static final int ROUNDS = 150;
    private static final int MAX_MESSAGE = 128 * 1024;

    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    /** What the server sends back for one item: an echo or a pong. */
    private record Reply(int opcode, byte[] payload) {
        @Override
        public String toString() {
            return opcode + ":" + payload.length + ":"
                    + new String(payload, 0, Math.min(payload.length, 24), StandardCharsets.ISO_8859_1);
        }

        boolean sameAs(RawWebSocket.Frame frame) {
            return frame.opcode() == opcode && Arrays.equals(frame.payload(), payload);
        }
    }

    private static final String[] WIDE = {"é", "中", "ß", "😀", "€", "ж"};
    private static final byte[][] NOT_UTF8 = {
        {(byte) 0xC3, 0x28}, // a lead byte without its continuation
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // a surrogate
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // over U+10FFFF
        {(byte) 0xC0, (byte) 0xAF}, // overlong
        {(byte) 0x80}, // a continuation byte alone
        {(byte) 0xFF},
        {(byte) 0xE2, (byte) 0x82}, // cut off at the end
    };

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void everyMessageComesBackOnceAndInOrderWhoeverReadIt(boolean jakarta) throws Exception {
        WsOptions options = WsOptions.builder()
                .maxMessageSize(MAX_MESSAGE)
                .maxPingsPerMinute(100_000)
                .build();
        WsServer.Builder builder = WsServer.builder().port(0).options(options).route("/echo", EchoRouter.create());
        server = (jakarta ? builder.jakarta() : builder).build().start();
        for (int round = 0; round < ROUNDS; round++) {
            Random random = new Random(9_000L + round);
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            List<Reply> expected = new ArrayList<>();
            int items = 1 + random.nextInt(30);
            for (int i = 0; i < items; i++) {
                item(random, round, i, stream, expected);
            }
            boolean invalid = random.nextInt(5) == 0;
            if (invalid) {
                byte[] bad = notUtf8(random);
                stream.writeBytes(frame(random, true, 0x1, bad));
                for (int i = 0; i < 3; i++) { // never echoed
                    stream.writeBytes(frame(random, true, 0x1, ("after " + i).getBytes(StandardCharsets.UTF_8)));
                }
            } else {
                stream.writeBytes(frame(random, true, 0x8, new byte[] {0x03, (byte) 0xE8}));
            }
            byte[] bytes = stream.toByteArray();
            try (RawWebSocket ws = RawWebSocket.connect(server.port(), "/echo", 256 * 1024)) {
                List<Reply> got = new ArrayList<>();
                CompletableFuture<RawWebSocket.Frame> reading = CompletableFuture.supplyAsync(() -> {
                    try {
                        for (; ; ) {
                            RawWebSocket.Frame frame = ws.read();
                            if (frame.opcode() == 0x8) {
                                return frame;
                            }
                            got.add(new Reply(frame.opcode(), frame.payload()));
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                sendInPieces(ws, random, bytes);
                RawWebSocket.Frame close = reading.get(30, TimeUnit.SECONDS);
                String where = "round " + round + (jakarta ? " (jakarta)" : " (native)");
                assertThat(got.size()).as(where).isEqualTo(expected.size());
                for (int i = 0; i < expected.size(); i++) {
                    assertThat(expected.get(i).sameAs(toFrame(got.get(i))))
                            .as(where + ", reply " + i + ": " + got.get(i) + " for " + expected.get(i))
                            .isTrue();
                }
                assertThat(close.closeCode()).as(where).isEqualTo(invalid ? 1007 : 1000);
                assertThat(ws.awaitEndOfStream()).as(where).isTrue();
            }
        }
    }

    private static RawWebSocket.Frame toFrame(Reply reply) {
        return new RawWebSocket.Frame(reply.opcode(), reply.payload());
    }

    /** One message (whole, or in fragments with pings between them) or a ping, and what it brings back. */
    private static void item(Random random, int round, int index, ByteArrayOutputStream stream, List<Reply> expected) {
        int kind = random.nextInt(10);
        if (kind == 0) {
            byte[] ping = ("ping " + round + "/" + index).getBytes(StandardCharsets.US_ASCII);
            stream.writeBytes(frame(random, true, 0x9, ping));
            expected.add(new Reply(0xA, ping));
            return;
        }
        boolean text = kind < 7;
        byte[] payload = text ? text(random, round, index) : binary(random, index);
        int fragments = random.nextInt(5) == 0 ? 2 + random.nextInt(3) : 1;
        List<Reply> pongs = new ArrayList<>();
        int at = 0;
        for (int f = 0; f < fragments; f++) {
            int end = f == fragments - 1 ? payload.length : at + random.nextInt(payload.length - at + 1);
            int opcode = f == 0 ? (text ? 0x1 : 0x2) : 0x0;
            stream.writeBytes(frame(random, f == fragments - 1, opcode, Arrays.copyOfRange(payload, at, end)));
            at = end;
            if (f < fragments - 1 && random.nextBoolean()) {
                byte[] ping = ("inside " + index + "/" + f).getBytes(StandardCharsets.US_ASCII);
                stream.writeBytes(frame(random, true, 0x9, ping));
                pongs.add(new Reply(0xA, ping));
            }
        }
        expected.addAll(pongs); // answered before the message ends
        expected.add(new Reply(text ? 0x1 : 0x2, payload));
    }

    private static int size(Random random) {
        int pick = random.nextInt(100);
        if (pick < 70) {
            return random.nextInt(200);
        } else if (pick < 90) {
            return 200 + random.nextInt(5_000);
        } else if (pick < 97) {
            return 5_000 + random.nextInt(62_000);
        }
        return 66_000 + random.nextInt(MAX_MESSAGE - 66_000); // larger than the native reader's array
    }

    private static byte[] text(Random random, int round, int index) {
        StringBuilder text = new StringBuilder(round + ":" + index + ":");
        int size = size(random) - 4; // in bytes: the widest character is 4
        boolean wide = random.nextInt(3) == 0;
        int bytes = text.length();
        while (bytes < size) {
            String next = wide && random.nextInt(8) == 0
                    ? WIDE[random.nextInt(WIDE.length)]
                    : String.valueOf((char) ('a' + random.nextInt(26)));
            text.append(next);
            bytes += next.getBytes(StandardCharsets.UTF_8).length;
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] binary(Random random, int index) {
        byte[] bytes = new byte[Math.max(4, size(random))];
        random.nextBytes(bytes);
        bytes[0] = (byte) (index >>> 8);
        bytes[1] = (byte) index;
        return bytes;
    }

    /** A text whose bytes are not UTF-8: valid text around one invalid sequence, or ending in one. */
    private static byte[] notUtf8(Random random) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] before = text(random, 0, 0);
        bytes.writeBytes(Arrays.copyOf(before, Math.min(before.length, random.nextInt(300))));
        byte[] bad = NOT_UTF8[random.nextInt(NOT_UTF8.length)];
        bytes.writeBytes(bad);
        if (bad.length != 2 || bad[0] != (byte) 0xE2) {
            bytes.writeBytes("tail".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    /** One client frame, masked with a seeded mask, any length. */
    static byte[] frame(Random random, boolean fin, int opcode, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write((fin ? 0x80 : 0) | opcode);
        int length = payload.length;
        if (length < 126) {
            frame.write(0x80 | length);
        } else if (length < 65_536) {
            frame.write(0x80 | 126);
            frame.write(length >>> 8);
            frame.write(length & 0xFF);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) length >>> shift) & 0xFF);
            }
        }
        byte[] mask = new byte[4];
        random.nextBytes(mask);
        frame.write(mask, 0, 4);
        for (int i = 0; i < length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }

    /** Writes the bytes in pieces cut at random points: one byte, a few, a few thousand, or the rest. */
    private static void sendInPieces(RawWebSocket ws, Random random, byte[] bytes) throws Exception {
        int at = 0;
        while (at < bytes.length) {
            int pick = random.nextInt(4);
            int piece = pick == 0
                    ? 1
                    : pick == 1 ? 1 + random.nextInt(16) : pick == 2 ? 1 + random.nextInt(4_000) : bytes.length;
            int n = Math.min(piece, bytes.length - at);
            ws.sendRaw(bytes, at, n);
            at += n;
        }
    }
}
