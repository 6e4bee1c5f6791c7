package io.github.wsrouter.benchmarks;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A load scenario: which connections it opens, what it sends, what it counts and how it checks
 * what comes back. Every message carries its sender and a sequence number, so each receiver checks
 * that it got every message once and in order (no loss, duplicates or reordering).
 */
abstract class Scenario implements ClientLoop.Handler {

    /** Once set, no new messages are sent; the runner waits for what is in flight. */
    boolean stopping;
    /** Set during the measured interval (latency samples are kept only then). */
    boolean measuring;
    /** Messages that came out of order, duplicated, malformed or unexpected. */
    long errors;

    /** Queues this scenario's connections on the loop. */
    abstract void open(ClientLoop loop, BenchServer.Kind kind);

    /** Sends the first messages, once every connection is open. */
    abstract void start(ClientLoop loop);

    /** The progress counter whose rate is the result (messages, deliveries, round trips). */
    abstract long count();

    /** Whether every message sent has arrived everywhere it should. */
    abstract boolean drained();

    /** The 99th percentile latency in microseconds, if this scenario measures latency. */
    double p99Micros() {
        return Double.NaN;
    }

    static void digits(byte[] buffer, int offset, int width, long value) {
        for (int i = offset + width - 1; i >= offset; i--) {
            buffer[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
    }

    static long parse(byte[] buffer, int offset, int width) {
        long value = 0;
        for (int i = offset; i < offset + width; i++) {
            int d = buffer[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            value = value * 10 + d;
        }
        return value;
    }

    static byte[] filled(String prefix, int size) {
        byte[] buffer = new byte[size];
        for (int i = 0; i < size; i++) {
            buffer[i] = (byte) ('a' + i % 26);
        }
        byte[] head = prefix.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, buffer, 0, head.length);
        return buffer;
    }

    /** Echo: each connection keeps {@code inFlight} messages of {@code size} bytes in flight. */
    static final class Echo extends Scenario {
        private final int connections;
        private final int inFlight;
        private final int size;
        private final byte[] buffer;
        private long[] sent;
        private long[] expected;
        private long received;

        Echo(int connections, int inFlight, int size) {
            this.connections = connections;
            this.inFlight = inFlight;
            this.size = size;
            this.buffer = filled("E", size);
        }

        @Override
        void open(ClientLoop loop, BenchServer.Kind kind) {
            sent = new long[connections];
            expected = new long[connections];
            for (int i = 0; i < connections; i++) {
                loop.connect(kind.echoPath);
            }
        }

        @Override
        void start(ClientLoop loop) {
            for (ClientLoop.Conn conn : loop.connections()) {
                for (int k = 0; k < inFlight; k++) {
                    send(conn);
                }
            }
        }

        private void send(ClientLoop.Conn conn) {
            digits(buffer, 1, 6, conn.index);
            digits(buffer, 7, 10, sent[conn.index]++);
            conn.sendText(buffer, size);
        }

        @Override
        public void onMessage(ClientLoop.Conn conn, byte[] data, int offset, int length) {
            long seq = parse(data, offset + 7, 10);
            if (length != size
                    || data[offset] != 'E'
                    || parse(data, offset + 1, 6) != conn.index
                    || seq != expected[conn.index]) {
                errors++;
            }
            expected[conn.index] = seq + 1;
            received++;
            if (!stopping) {
                send(conn);
            }
        }

        @Override
        long count() {
            return received;
        }

        @Override
        boolean drained() {
            return Arrays.equals(sent, expected);
        }
    }

    /** Broadcast: the first {@code senders} connections each keep {@code window} messages in flight. */
    static final class Broadcast extends Scenario {
        private final int connections;
        private final int senders;
        private final int window;
        private final int size;
        private final byte[] buffer;
        private long[] sent;
        private long[] expected; // [receiver * senders + sender]
        private long deliveries;
        private ClientLoop loop;

        Broadcast(int connections, int senders, int window, int size) {
            this.connections = connections;
            this.senders = senders;
            this.window = window;
            this.size = size;
            this.buffer = filled("B", size);
        }

        @Override
        void open(ClientLoop loop, BenchServer.Kind kind) {
            this.loop = loop;
            sent = new long[senders];
            expected = new long[connections * senders];
            for (int i = 0; i < connections; i++) {
                loop.connect(kind.broadcastPath);
            }
        }

        @Override
        void start(ClientLoop loop) {
            for (int s = 0; s < senders; s++) {
                for (int k = 0; k < window; k++) {
                    send(s);
                }
            }
        }

        private void send(int sender) {
            digits(buffer, 1, 6, sender);
            digits(buffer, 7, 10, sent[sender]++);
            loop.connections().get(sender).sendText(buffer, size);
        }

        @Override
        public void onMessage(ClientLoop.Conn conn, byte[] data, int offset, int length) {
            int sender = (int) parse(data, offset + 1, 6);
            long seq = parse(data, offset + 7, 10);
            if (length != size || data[offset] != 'B' || sender < 0 || sender >= senders) {
                errors++;
                return;
            }
            int slot = conn.index * senders + sender;
            if (seq != expected[slot]) {
                errors++;
            }
            expected[slot] = seq + 1;
            deliveries++;
            if (conn.index == sender && !stopping) {
                send(sender);
            }
        }

        @Override
        long count() {
            return deliveries;
        }

        @Override
        boolean drained() {
            for (int r = 0; r < connections; r++) {
                for (int s = 0; s < senders; s++) {
                    if (expected[r * senders + s] != sent[s]) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /**
     * Directed round trips: user {@code aN} sends {@code {"to":"bN","message":...}}, {@code bN}
     * answers the same message back to {@code aN}; {@code window} round trips in flight per pair
     * (1: each waits for the previous). Presence objects (wsrouter's example route announces joins)
     * and the streams' positions (on a route with history) are skipped; a message's offset after
     * its sender is ignored.
     */
    static final class Directed extends Scenario {
        private static final byte[] MESSAGE = "\"message\":\"".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] FROM = "\"from\":\"".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] PRESENCE = "{\"presence\"".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] STREAMS = "{\"streams\"".getBytes(StandardCharsets.US_ASCII);
        private final int pairs;
        private final int window;
        private final byte[] buffer;
        private final int toOffset;
        private final int seqOffset;
        private long[] sent;
        private long[] sentAt; // [pair * window + seq % window]
        private long[] answered;
        private long roundTrips;
        private long[] latencies = new long[1 << 16];
        private int latencyCount;
        private ClientLoop loop;

        Directed(int pairs, int size) {
            this(pairs, size, 1);
        }

        Directed(int pairs, int size, int window) {
            this.pairs = pairs;
            this.window = window;
            String head = "{\"to\":\"b00000\",\"message\":\"";
            String tail = "\"}";
            this.toOffset = head.indexOf("b00000");
            this.seqOffset = head.length();
            byte[] body = filled(head, size);
            byte[] t = tail.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(t, 0, body, size - t.length, t.length);
            this.buffer = body;
        }

        @Override
        void open(ClientLoop loop, BenchServer.Kind kind) {
            this.loop = loop;
            sent = new long[pairs];
            sentAt = new long[pairs * window];
            answered = new long[pairs];
            for (int i = 0; i < pairs; i++) {
                loop.connect(String.format(kind.directedPath, user('a', i)));
            }
            for (int i = 0; i < pairs; i++) {
                loop.connect(String.format(kind.directedPath, user('b', i)));
            }
        }

        private static String user(char side, int pair) {
            return side + String.format("%05d", pair);
        }

        @Override
        void start(ClientLoop loop) {
            for (int i = 0; i < pairs; i++) {
                for (int k = 0; k < window; k++) {
                    send(i, 'b', sent[i]++);
                }
            }
        }

        private void send(int pair, char to, long seq) {
            buffer[toOffset] = (byte) to;
            digits(buffer, toOffset + 1, 5, pair);
            digits(buffer, seqOffset, 10, seq);
            ClientLoop.Conn from = loop.connections().get(to == 'b' ? pair : pairs + pair);
            if (to == 'b') {
                sentAt[pair * window + (int) (seq % window)] = System.nanoTime();
            }
            from.sendText(buffer, buffer.length);
        }

        @Override
        public void onMessage(ClientLoop.Conn conn, byte[] data, int offset, int length) {
            if (startsWith(data, offset, length, PRESENCE) || startsWith(data, offset, length, STREAMS)) {
                return; // a join or leave; where each stream stands, on a route with history
            }
            int m = find(data, offset, length, MESSAGE);
            int f = find(data, offset, length, FROM);
            if (m < 0 || f < 0 || m + 10 > offset + length || f + 6 > offset + length) {
                errors++;
                return;
            }
            long seq = parse(data, m, 10);
            boolean atA = conn.index < pairs;
            int pair = atA ? conn.index : conn.index - pairs;
            if (data[f] != (atA ? 'b' : 'a') || parse(data, f + 1, 5) != pair) {
                errors++;
                return;
            }
            if (atA) {
                if (seq != answered[pair] || seq >= sent[pair]) {
                    errors++;
                }
                answered[pair] = seq + 1;
                long latency = System.nanoTime() - sentAt[pair * window + (int) Math.floorMod(seq, (long) window)];
                roundTrips++;
                if (measuring) {
                    if (latencyCount == latencies.length) {
                        latencies = Arrays.copyOf(latencies, latencies.length * 2);
                    }
                    latencies[latencyCount++] = latency;
                }
                if (!stopping) {
                    send(pair, 'b', sent[pair]++);
                }
            } else {
                send(pair, 'a', seq);
            }
        }

        @Override
        long count() {
            return roundTrips;
        }

        @Override
        boolean drained() {
            return Arrays.equals(sent, answered);
        }

        @Override
        double p99Micros() {
            if (latencyCount == 0) {
                return Double.NaN;
            }
            long[] sorted = Arrays.copyOf(latencies, latencyCount);
            Arrays.sort(sorted);
            return sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] / 1000.0;
        }

        private static boolean startsWith(byte[] data, int offset, int length, byte[] prefix) {
            if (length < prefix.length) {
                return false;
            }
            for (int i = 0; i < prefix.length; i++) {
                if (data[offset + i] != prefix[i]) {
                    return false;
                }
            }
            return true;
        }

        /** The index just after the first occurrence of the needle, or -1. */
        private static int find(byte[] data, int offset, int length, byte[] needle) {
            int end = offset + length - needle.length;
            outer:
            for (int i = offset; i <= end; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (data[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                return i + needle.length;
            }
            return -1;
        }
    }

    /** Idle connections to the echo route: only the handshakes; the runner measures the server. */
    static final class Idle extends Scenario {
        private final int connections;

        Idle(int connections) {
            this.connections = connections;
        }

        @Override
        void open(ClientLoop loop, BenchServer.Kind kind) {
            for (int i = 0; i < connections; i++) {
                loop.connect(kind.echoPath);
            }
        }

        @Override
        void start(ClientLoop loop) {}

        @Override
        long count() {
            return 0;
        }

        @Override
        boolean drained() {
            return true;
        }

        @Override
        public void onMessage(ClientLoop.Conn conn, byte[] data, int offset, int length) {
            errors++; // nothing is sent, so nothing should come
        }
    }
}
