package io.github.wsrouter.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.CloseStatus;
import io.undertow.websockets.core.WebSocketChannel;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xnio.ChannelListener;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.ReadReadyHandler;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The frame reader between a socket whose bytes arrive in random pieces and a framed channel above
 * it that reads like Undertow's: as much as its buffer holds, and hands on what it parsed either at
 * once or later, from tasks of the IO thread. Over 2,000 seeded rounds of whole frames, fragmented
 * messages with pings between their fragments, frames larger than the reader takes, frames with a
 * reserved bit and texts with bytes over 127, every message and ping reaches the connection once,
 * in the order sent, whoever parsed it.
 */
class FrameReaderTest {

    private static final int MAX_PAYLOAD = 300;

    @Test
    void messagesReachTheConnectionInOrderWhoeverParsedThem() {
        int[] messages = new int[2]; // all, and those the reader parsed itself
        for (int seed = 0; seed < 2_000; seed++) {
            runRound(new Random(seed), seed, messages);
        }
        assertThat(messages[1])
                .as("messages the reader parsed itself, of %d", messages[0])
                .isGreaterThan(messages[0] / 6);
    }

    /**
     * Unmasking eight bytes at a time and the ASCII test: a text of every length up to 40 bytes,
     * with a two-byte character at every place in it (or none), read whole by the reader.
     */
    @Test
    void aWideCharacterAnywhereInATextOfAnyLength() {
        Random random = new Random(1);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        List<String> expected = new ArrayList<>();
        for (int length = 0; length <= 40; length++) {
            for (int wide = -1; wide < length - 1; wide++) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < length; i += i == wide ? 2 : 1) {
                    text.append(i == wide ? 'é' : (char) ('a' + i % 26));
                }
                stream.writeBytes(frame(random, 0x81, text.toString().getBytes(StandardCharsets.UTF_8)));
                expected.add("T:" + text);
            }
        }
        byte[] bytes = stream.toByteArray();
        Socket socket = new Socket(random);
        Connection connection = new Connection();
        Undertow undertow = new Undertow(random, connection);
        FrameReader reader = new FrameReader(socket, connection, undertow, MAX_PAYLOAD);
        undertow.reader = reader;
        socket.arrive(bytes, 0, bytes.length);
        for (int events = 0; socket.readable() && events < 10_000; events++) {
            reader.handleEvent(null);
        }
        assertThat(connection.log).containsExactlyElementsOf(expected);
        assertThat(connection.readHere).isEqualTo(expected.size());
    }

    /**
     * The IO thread's read array is in use while a message is delivered. A read of another
     * connection on the same thread inside that delivery (a router that makes one happen) goes to
     * Undertow, and both connections still get every message once and in order.
     */
    @Test
    void aReadInsideADeliveryGoesToUndertowAndKeepsOrder() {
        int nested = 0;
        for (int seed = 0; seed < 500; seed++) {
            Random random = new Random(seed);
            Side a = new Side(random, 30);
            Side b = new Side(random, 30);
            int[] inside = new int[1];
            a.connection.onDelivery = () -> {
                if (random.nextBoolean() && b.socket.readable()) {
                    inside[0] += a.connection.fromUndertow ? 0 : 1; // a's reader has the array
                    b.reader.handleEvent(null); // inside a's delivery, on the same thread
                }
            };
            int idle = 0;
            while (!a.done() || !b.done()) {
                assertThat(idle).as("seed %d: stalled", seed).isLessThan(1_000);
                int before = a.connection.log.size() + b.connection.log.size();
                Side side = random.nextBoolean() ? a : b;
                side.step(random);
                boolean allSent = a.sent == a.bytes.length && b.sent == b.bytes.length;
                idle = allSent && a.connection.log.size() + b.connection.log.size() == before ? idle + 1 : 0;
            }
            assertThat(a.connection.log).as("seed %d, a", seed).containsExactlyElementsOf(a.expected);
            assertThat(b.connection.log).as("seed %d, b", seed).containsExactlyElementsOf(b.expected);
            nested += inside[0];
        }
        assertThat(nested).as("reads inside a delivery that the reader made").isGreaterThan(100);
    }

    /** One connection of a round: its stream, socket, Undertow and reader, and one random step of them. */
    private static final class Side {
        final List<String> expected = new ArrayList<>();
        final byte[] bytes;
        final Socket socket;
        final Connection connection = new Connection();
        final FrameReader reader;
        final Undertow undertow;
        int sent;

        Side(Random random, int maxItems) {
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            int items = 1 + random.nextInt(maxItems);
            for (int i = 0; i < items; i++) {
                item(random, i, stream, expected);
            }
            bytes = stream.toByteArray();
            socket = new Socket(random);
            undertow = new Undertow(random, connection);
            reader = new FrameReader(socket, connection, undertow, MAX_PAYLOAD);
            undertow.reader = reader;
        }

        boolean done() {
            return connection.log.size() >= expected.size();
        }

        void step(Random random) {
            int step = random.nextInt(6);
            if (step < 2 && sent < bytes.length) {
                int n = Math.min(bytes.length - sent, 1 + random.nextInt(random.nextBoolean() ? 16 : 2_000));
                socket.arrive(bytes, sent, n);
                sent += n;
            } else if (step < 4) {
                if (socket.readable()) {
                    reader.handleEvent(null);
                }
            } else {
                undertow.runTask();
            }
        }
    }

    /** Adds the messages of the round, and those the reader delivered itself, to the counts. */
    private static void runRound(Random random, int seed, int[] messages) {
        Side side = new Side(random, 40);
        Connection connection = side.connection;
        int idle = 0;
        while (!side.done()) {
            assertThat(idle)
                    .as("seed %d: stalled after %s", seed, connection.log)
                    .isLessThan(1_000);
            int before = connection.log.size();
            side.step(random);
            idle = connection.log.size() == before && side.sent == side.bytes.length ? idle + 1 : 0;
        }
        assertThat(connection.log).as("seed %d", seed).containsExactlyElementsOf(side.expected);
        messages[0] += connection.messages;
        messages[1] += connection.readHere;
    }

    private static void item(Random random, int index, ByteArrayOutputStream stream, List<String> expected) {
        int kind = random.nextInt(10);
        if (kind == 0) {
            byte[] ping = ("ping " + index).getBytes(StandardCharsets.US_ASCII);
            stream.writeBytes(frame(random, 0x80 | 0x9, ping));
            expected.add("P:" + new String(ping, StandardCharsets.US_ASCII));
            return;
        }
        boolean text = kind < 7;
        byte[] payload = text ? text(random, index) : binary(random, index);
        int fragments = random.nextInt(5) == 0 ? 2 + random.nextInt(3) : 1;
        int at = 0;
        for (int f = 0; f < fragments; f++) {
            boolean last = f == fragments - 1;
            int end = last ? payload.length : at + random.nextInt(payload.length - at + 1);
            int first = (last ? 0x80 : 0) | (f == 0 ? (text ? 0x1 : 0x2) : 0x0);
            if (fragments == 1 && random.nextInt(20) == 0) {
                first |= 0x40; // a reserved bit (an extension's): never the reader's
            }
            stream.writeBytes(frame(random, first, Arrays.copyOfRange(payload, at, end)));
            at = end;
            if (!last && random.nextBoolean()) {
                byte[] ping = ("inside " + index + "/" + f).getBytes(StandardCharsets.US_ASCII);
                stream.writeBytes(frame(random, 0x80 | 0x9, ping));
                expected.add("P:" + new String(ping, StandardCharsets.US_ASCII));
            }
        }
        expected.add(
                text
                        ? "T:" + new String(payload, StandardCharsets.UTF_8)
                        : "B:" + HexFormat.of().formatHex(payload));
    }

    private static int size(Random random) {
        int pick = random.nextInt(10);
        return pick < 7
                ? random.nextInt(130)
                : pick < 9 ? 130 + random.nextInt(MAX_PAYLOAD - 130) : 300 + random.nextInt(700);
    }

    private static byte[] text(Random random, int index) {
        StringBuilder text = new StringBuilder(index + ":");
        int size = size(random);
        boolean wide = random.nextInt(3) == 0;
        int bytes = text.length();
        while (bytes < size) {
            char next =
                    wide && random.nextInt(6) == 0 ? "é中".charAt(random.nextInt(2)) : (char) ('a' + random.nextInt(26));
            text.append(next);
            bytes += next < 0x80 ? 1 : next < 0x800 ? 2 : 3;
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] binary(Random random, int index) {
        byte[] bytes = new byte[Math.max(2, size(random))];
        random.nextBytes(bytes);
        bytes[0] = (byte) index;
        return bytes;
    }

    private static byte[] frame(Random random, int first, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(first);
        int length = payload.length;
        if (length < 126) {
            frame.write(0x80 | length);
        } else if (random.nextBoolean() || length > 65_535) {
            frame.write(0x80 | 127); // the 8-byte length, allowed for any size
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) length >>> shift) & 0xFF);
            }
        } else {
            frame.write(0x80 | 126);
            frame.write(length >>> 8);
            frame.write(length & 0xFF);
        }
        byte[] mask = new byte[4];
        random.nextBytes(mask);
        frame.write(mask, 0, 4);
        for (int i = 0; i < length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }

    /** The connection: what reaches it, in order, from either reader. */
    private static final class Connection implements FrameReader.Owner {
        final List<String> log = new ArrayList<>();
        int messages;
        int readHere;
        boolean fromUndertow;
        /** Runs after each message is logged, inside the delivery. */
        Runnable onDelivery = () -> {};

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void deliverText(String text) {
            messages++;
            readHere += fromUndertow ? 0 : 1;
            log.add("T:" + text);
            onDelivery.run();
        }

        @Override
        public void deliverBinary(ByteBuffer data) {
            messages++;
            readHere += fromUndertow ? 0 : 1;
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            log.add("B:" + HexFormat.of().formatHex(bytes));
            onDelivery.run();
        }

        @Override
        public void deliverError(Throwable error) {
            throw new AssertionError("no error expected", error);
        }

        @Override
        public WebSocketChannel webSocketChannel() {
            return null;
        }

        @Override
        public Settings.Limits limits() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void closeForViolation(CloseStatus status) {
            throw new AssertionError("no violation expected: " + status);
        }

        @Override
        public void drop(CloseStatus status) {
            throw new AssertionError("no drop expected: " + status);
        }
    }

    /**
     * A framed channel that reads like Undertow's: into a buffer of its own, as much as it holds;
     * what it parsed goes to the connection at once or from a later task, in order either way.
     */
    private static final class Undertow implements ChannelListener<ConduitStreamSourceChannel> {
        private final Random random;
        private final Connection connection;
        private final ByteBuffer buffer;
        FrameReader reader;
        private final ArrayDeque<String> later = new ArrayDeque<>();
        private final ByteArrayOutputStream message = new ByteArrayOutputStream();
        private int messageOpcode;

        Undertow(Random random, Connection connection) {
            this.random = random;
            this.connection = connection;
            this.buffer = ByteBuffer.allocate(1_100 + random.nextInt(2_000)); // holds the largest frame whole
        }

        @Override
        public void handleEvent(ConduitStreamSourceChannel channel) {
            receive();
        }

        /**
         * A task of the IO thread, there while something parsed waits or the buffer holds bytes: one
         * thing parsed earlier goes on, and the buffer is read again.
         */
        void runTask() {
            if (later.isEmpty() && buffer.position() == 0) {
                return; // no task: Undertow reads again at the next readiness
            }
            String next = later.poll();
            if (next != null) {
                handOn(next);
            }
            receive();
        }

        private void receive() {
            try {
                reader.read(buffer);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            buffer.flip();
            while (parseFrame()) {
                // each whole frame in the buffer
            }
            buffer.compact();
        }

        private boolean parseFrame() {
            if (buffer.remaining() < 2) {
                return false;
            }
            int at = buffer.position();
            int b0 = buffer.get(at) & 0xFF;
            int b1 = buffer.get(at + 1) & 0x7F;
            int header = b1 < 126 ? 6 : b1 == 126 ? 8 : 14;
            if (buffer.remaining() < header) {
                return false;
            }
            long length = b1 < 126 ? b1 : b1 == 126 ? buffer.getShort(at + 2) & 0xFFFF : buffer.getLong(at + 2);
            if (buffer.remaining() < header + length) {
                assertThat(header + length)
                        .as("a frame Undertow's buffer cannot hold")
                        .isLessThanOrEqualTo(buffer.capacity());
                return false;
            }
            byte[] payload = new byte[(int) length];
            for (int i = 0; i < length; i++) {
                payload[i] = (byte) (buffer.get(at + header + i) ^ buffer.get(at + header - 4 + (i & 3)));
            }
            buffer.position(at + header + (int) length);
            int opcode = b0 & 0x0F;
            if (opcode == 0x9) {
                parsed("P:" + new String(payload, StandardCharsets.US_ASCII));
                return true;
            }
            if (opcode != 0) {
                messageOpcode = opcode;
                message.reset();
            }
            message.writeBytes(payload);
            if ((b0 & 0x80) != 0) {
                byte[] whole = message.toByteArray();
                parsed(
                        messageOpcode == 1
                                ? "T:" + new String(whole, StandardCharsets.UTF_8)
                                : "B:" + HexFormat.of().formatHex(whole));
            }
            return true;
        }

        private void parsed(String event) {
            if (later.isEmpty() && random.nextInt(8) > 0) {
                handOn(event);
            } else {
                later.add(event);
            }
        }

        private void handOn(String event) {
            connection.fromUndertow = true;
            if (event.startsWith("P:")) {
                connection.log.add(event);
            } else if (event.startsWith("T:")) {
                connection.deliverText(event.substring(2));
            } else {
                connection.deliverBinary(ByteBuffer.wrap(HexFormat.of().parseHex(event.substring(2))));
            }
            connection.fromUndertow = false;
            reader.handledByUndertow();
        }
    }

    /** A socket whose bytes arrive in pieces, and are read a random part at a time. */
    private static final class Socket implements StreamSourceConduit {
        private final Random random;
        private final ByteArrayOutputStream arrived = new ByteArrayOutputStream();
        private byte[] bytes = new byte[0];
        private int readTo;
        private boolean woken;
        private boolean resumed = true;

        Socket(Random random) {
            this.random = random;
        }

        void arrive(byte[] from, int offset, int length) {
            arrived.write(from, offset, length);
            bytes = arrived.toByteArray();
        }

        /** Whether the reader would hear of readiness now: bytes unread, or a wakeup. */
        boolean readable() {
            boolean ready = resumed && (readTo < bytes.length || woken);
            woken = false;
            return ready;
        }

        @Override
        public int read(ByteBuffer dst) {
            int available = bytes.length - readTo;
            int n = Math.min(dst.remaining(), random.nextInt(4) == 0 ? random.nextInt(available + 1) : available);
            dst.put(bytes, readTo, n);
            readTo += n;
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) {
            return read(dsts[offs]);
        }

        @Override
        public long transferTo(long position, long count, java.nio.channels.FileChannel target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, org.xnio.channels.StreamSinkChannel target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void terminateReads() {}

        @Override
        public boolean isReadShutdown() {
            return false;
        }

        @Override
        public void resumeReads() {
            resumed = true;
        }

        @Override
        public void suspendReads() {
            resumed = false;
        }

        @Override
        public void wakeupReads() {
            resumed = true;
            woken = true;
        }

        @Override
        public boolean isReadResumed() {
            return resumed;
        }

        @Override
        public void awaitReadable() {}

        @Override
        public void awaitReadable(long time, TimeUnit timeUnit) {}

        @Override
        public XnioIoThread getReadThread() {
            return null;
        }

        @Override
        public void setReadReadyHandler(ReadReadyHandler handler) {}

        @Override
        public XnioWorker getWorker() {
            return null;
        }
    }
}
