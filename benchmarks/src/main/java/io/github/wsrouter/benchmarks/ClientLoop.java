package io.github.wsrouter.benchmarks;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Many raw WebSocket client connections on one thread and one selector: the handshake, masked
 * frames out, frames parsed in place. Small and fast enough that the server, not the client, is
 * what a benchmark measures. Writes made while handling one read cycle go out together, in one
 * {@code write} per connection at the end of the cycle.
 */
final class ClientLoop implements AutoCloseable {

    /** What a scenario does with its connections' events; called on the loop's thread. */
    interface Handler {
        default void onOpen(Conn conn) {}

        /** A text or binary message, in {@code data[offset, offset + length)}; valid during the call only. */
        void onMessage(Conn conn, byte[] data, int offset, int length);
    }

    /** One client connection. */
    final class Conn {
        final int index;
        final String path;
        private SocketChannel channel;
        private SelectionKey key;
        private ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        private ByteBuffer out = ByteBuffer.allocate(16 * 1024);
        private boolean upgraded;
        private boolean dirty;
        private boolean closed;
        /** Whether this connection is counted in {@code handshaking}. */
        private boolean counted;
        /** {@code System.nanoTime()} just before {@code connect()}. */
        private long connectStarted;
        /** From {@code connect()} to the server's 101 parsed, in nanoseconds; -1 until then. */
        long handshakeNanos = -1;

        Conn(int index, String path) {
            this.index = index;
            this.path = path;
        }

        boolean isOpen() {
            return upgraded && !closed;
        }

        /** Queues a masked text frame; written at the end of the loop's cycle. */
        void sendText(byte[] payload, int length) {
            frame(0x1, payload, length);
        }

        private void frame(int opcode, byte[] payload, int length) {
            if (closed) {
                return;
            }
            ensureOut(length + 14);
            out.put((byte) (0x80 | opcode));
            if (length < 126) {
                out.put((byte) (0x80 | length));
            } else if (length < 65536) {
                out.put((byte) (0x80 | 126));
                out.putShort((short) length);
            } else {
                out.put((byte) (0x80 | 127));
                out.putLong(length);
            }
            int mask = nextMask();
            out.putInt(mask);
            byte[] array = out.array();
            int base = out.arrayOffset() + out.position();
            byte m0 = (byte) (mask >>> 24), m1 = (byte) (mask >>> 16), m2 = (byte) (mask >>> 8), m3 = (byte) mask;
            int i = 0;
            for (; i + 3 < length; i += 4) {
                array[base + i] = (byte) (payload[i] ^ m0);
                array[base + i + 1] = (byte) (payload[i + 1] ^ m1);
                array[base + i + 2] = (byte) (payload[i + 2] ^ m2);
                array[base + i + 3] = (byte) (payload[i + 3] ^ m3);
            }
            for (; i < length; i++) {
                byte m = switch (i & 3) {
                    case 0 -> m0;
                    case 1 -> m1;
                    case 2 -> m2;
                    default -> m3;
                };
                array[base + i] = (byte) (payload[i] ^ m);
            }
            out.position(out.position() + length);
            markDirty();
        }

        private void ensureOut(int extra) {
            if (out.remaining() < extra) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + extra));
                out.flip();
                bigger.put(out);
                out = bigger;
            }
        }

        private void markDirty() {
            if (!dirty) {
                dirty = true;
                pending.add(this);
            }
        }

        /** Sends a close frame and closes the socket without waiting for the answer. */
        void close() {
            if (closed) {
                return;
            }
            if (upgraded) {
                frame(0x8, new byte[] {0x03, (byte) 0xE8}, 2);
                flush();
            }
            drop();
        }

        private void uncount() {
            if (counted) {
                counted = false;
                handshaking--;
            }
        }

        void drop() {
            if (closed) {
                return;
            }
            closed = true;
            uncount();
            if (key != null) {
                key.cancel();
            }
            try {
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException ignored) {
                // closing anyway
            }
        }

        private void flush() {
            dirty = false;
            if (closed || !channel.isConnected()) {
                return;
            }
            out.flip();
            try {
                channel.write(out);
            } catch (IOException e) {
                failures++;
                drop();
                return;
            } finally {
                out.compact();
            }
            int ops = SelectionKey.OP_READ | (out.position() > 0 ? SelectionKey.OP_WRITE : 0);
            if (key.interestOps() != ops) {
                key.interestOps(ops);
            }
        }

        private void read() throws IOException {
            int n = channel.read(in);
            if (n < 0) {
                if (upgraded) {
                    unexpectedCloses++;
                }
                drop();
                return;
            }
            in.flip();
            if (!upgraded && !readHandshake()) {
                in.compact();
                return;
            }
            parseFrames();
            if (in.position() == 0 && in.limit() == in.capacity()) {
                // a frame bigger than the buffer: grow
                ByteBuffer bigger = ByteBuffer.allocate(in.capacity() * 2);
                bigger.put(in);
                in = bigger;
            } else {
                in.compact();
            }
        }

        private boolean readHandshake() {
            byte[] a = in.array();
            int end = -1;
            for (int i = in.position(); i + 3 < in.limit(); i++) {
                if (a[i] == '\r' && a[i + 1] == '\n' && a[i + 2] == '\r' && a[i + 3] == '\n') {
                    end = i + 4;
                    break;
                }
            }
            if (end < 0) {
                return false;
            }
            String status = new String(a, in.position(), Math.min(12, end - in.position()), StandardCharsets.US_ASCII);
            if (!status.startsWith("HTTP/1.1 101")) {
                failures++;
                drop();
                return false;
            }
            in.position(end);
            upgraded = true;
            handshakeNanos = System.nanoTime() - connectStarted;
            uncount();
            opened++;
            handler.onOpen(this);
            return true;
        }

        private void parseFrames() {
            byte[] a = in.array();
            while (!closed && in.remaining() >= 2) {
                int p = in.position();
                int b0 = a[p] & 0xFF;
                int b1 = a[p + 1] & 0xFF;
                int header = 2;
                long length = b1 & 0x7F;
                if (length == 126) {
                    if (in.remaining() < 4) {
                        return;
                    }
                    length = ((a[p + 2] & 0xFF) << 8) | (a[p + 3] & 0xFF);
                    header = 4;
                } else if (length == 127) {
                    if (in.remaining() < 10) {
                        return;
                    }
                    length = in.getLong(p + 2);
                    header = 10;
                }
                if ((b1 & 0x80) != 0 || length > Integer.MAX_VALUE - 64) {
                    failures++; // a server never masks
                    drop();
                    return;
                }
                if (in.remaining() < header + length) {
                    return;
                }
                int start = p + header;
                int len = (int) length;
                in.position(start + len);
                int opcode = b0 & 0x0F;
                if ((b0 & 0x80) == 0 || opcode == 0) {
                    failures++; // fragmented messages are not expected here
                    continue;
                }
                switch (opcode) {
                    case 0x1, 0x2 -> {
                        received++;
                        handler.onMessage(this, a, start, len);
                    }
                    case 0x8 -> {
                        unexpectedCloses++;
                        drop();
                    }
                    case 0x9 -> {
                        byte[] payload = java.util.Arrays.copyOfRange(a, start, start + len);
                        frame(0xA, payload, len);
                    }
                    default -> {
                        // pong: nothing to do
                    }
                }
            }
        }
    }

    private final Selector selector;
    private final InetSocketAddress server;
    private final ArrayDeque<Conn> pending = new ArrayDeque<>();
    private final ArrayDeque<Conn> toConnect = new ArrayDeque<>();
    private final List<Conn> connections = new ArrayList<>();
    private Handler handler;
    private int maskState = 0x9E3779B9;
    private int handshaking;
    /** Handshakes completed so far. */
    int opened;
    /** Messages received so far. */
    long received;
    /** Failed connects, refused handshakes, protocol errors. */
    int failures;
    /** Connections the server closed or dropped after their handshake. */
    int unexpectedCloses;

    private final int maxHandshaking;

    ClientLoop(InetSocketAddress server, int maxHandshaking) throws IOException {
        this.selector = Selector.open();
        this.server = server;
        this.maxHandshaking = maxHandshaking;
    }

    void handler(Handler handler) {
        this.handler = handler;
    }

    /** Queues a connection to open; it is connected by {@link #runUntil}, a bounded number at a time. */
    Conn connect(String path) {
        Conn conn = new Conn(connections.size(), path);
        connections.add(conn);
        toConnect.add(conn);
        return conn;
    }

    List<Conn> connections() {
        return connections;
    }

    private int nextMask() {
        int x = maskState;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        maskState = x;
        return x;
    }

    private void startConnects() {
        while (handshaking < maxHandshaking && !toConnect.isEmpty()) {
            Conn conn = toConnect.poll();
            try {
                SocketChannel channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                conn.channel = channel;
                conn.counted = true;
                handshaking++;
                conn.connectStarted = System.nanoTime();
                if (channel.connect(server)) {
                    conn.key = channel.register(selector, SelectionKey.OP_READ, conn);
                    sendUpgrade(conn);
                } else {
                    conn.key = channel.register(selector, SelectionKey.OP_CONNECT, conn);
                }
            } catch (IOException e) {
                failures++;
                conn.drop();
            }
        }
    }

    private void sendUpgrade(Conn conn) {
        String request = "GET " + conn.path + " HTTP/1.1\r\n"
                + "Host: " + server.getHostString() + ":" + server.getPort() + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        conn.out.put(request.getBytes(StandardCharsets.US_ASCII));
        conn.markDirty();
    }

    /**
     * Runs the loop until the condition holds (checked after every cycle) or the deadline passes.
     *
     * @return whether the condition held
     */
    boolean runUntil(BooleanSupplier done, long deadlineNanos) throws IOException {
        for (; ; ) {
            startConnects();
            flushPending();
            if (done.getAsBoolean()) {
                return true;
            }
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            int ready = selector.select(Math.max(1, Math.min(10, left / 1_000_000)));
            if (ready == 0) {
                continue;
            }
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                Conn conn = (Conn) key.attachment();
                if (!key.isValid()) {
                    continue;
                }
                try {
                    if (key.isConnectable()) {
                        conn.channel.finishConnect();
                        key.interestOps(SelectionKey.OP_READ);
                        sendUpgrade(conn);
                        continue;
                    }
                    if (key.isReadable()) {
                        conn.read();
                    }
                    if (key.isValid() && key.isWritable()) {
                        conn.markDirty();
                    }
                } catch (IOException e) {
                    failures++;
                    conn.drop();
                }
            }
        }
    }

    private void flushPending() {
        Conn conn;
        while ((conn = pending.poll()) != null) {
            conn.flush();
        }
    }

    /**
     * Closes every connection's socket at once, without a close frame, as a network cut or a
     * balancer restart leaves a server's clients.
     */
    void dropAll() {
        for (Conn conn : connections) {
            conn.drop();
        }
    }

    /** Closes every connection (close frame, then the socket). */
    @Override
    public void close() throws IOException {
        for (Conn conn : connections) {
            conn.close();
        }
        selector.close();
    }
}
