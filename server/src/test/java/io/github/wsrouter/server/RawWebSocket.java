package io.github.wsrouter.server;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A hand-rolled WebSocket client over a plain socket, for what well-behaved clients never do:
 * empty close frames, never answering a close, raw HTTP requests.
 */
final class RawWebSocket implements AutoCloseable {

    record Frame(int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode() {
            return payload.length < 2 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.socket.setSoTimeout(10_000);
        this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 16 * 1024));
        this.out = socket.getOutputStream();
    }

    /** Sends a raw HTTP request and returns the response head (status line and headers). */
    static String httpHead(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return readHead(socket.getInputStream());
        }
    }

    /** Sends an opening handshake with extra header lines and returns the response head. */
    static String handshakeHead(int port, String path, String... extraHeaders) throws IOException {
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + port + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
        for (String header : extraHeaders) {
            request.append(header).append("\r\n");
        }
        return httpHead(port, request.append("\r\n").toString());
    }

    /** Connects and completes the opening handshake; fails unless the server answers 101. */
    static RawWebSocket connect(int port, String path) throws IOException {
        return connect(port, path, 4096); // a small window: a client that stops reading is felt soon
    }

    /** Same as {@link #connect(int, String)}, with the socket's receive buffer size. */
    static RawWebSocket connect(int port, String path, int receiveBufferSize) throws IOException {
        return connect(port, path, receiveBufferSize, new byte[0]);
    }

    /**
     * Connects and sends the bytes in the same write as the opening handshake, before any answer:
     * the server reads them with the upgrade request.
     */
    static RawWebSocket connect(int port, String path, int receiveBufferSize, byte[] afterRequest) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(receiveBufferSize);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String request = "GET " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + port + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(request.getBytes(StandardCharsets.ISO_8859_1));
        bytes.writeBytes(afterRequest);
        socket.getOutputStream().write(bytes.toByteArray());
        RawWebSocket ws = new RawWebSocket(socket);
        String head = readHead(ws.in);
        if (!head.startsWith("HTTP/1.1 101")) {
            socket.close();
            throw new AssertionError("expected 101 Switching Protocols but got " + head);
        }
        return ws;
    }

    /** Sends one masked frame with FIN set. */
    void send(int opcode, byte[] payload) throws IOException {
        out.write(maskedFrame(opcode, payload));
        out.flush();
    }

    /** One masked frame with FIN set, as a client sends it. */
    static byte[] maskedFrame(int opcode, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x80 | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xFF);
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }

    /** Bytes written as hex digits, spaces ignored: {@code "81 82 00000000 C328"}. */
    static byte[] hex(String hex) {
        String clean = hex.replace(" ", "");
        byte[] bytes = new byte[clean.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(clean.substring(2 * i, 2 * i + 2), 16);
        }
        return bytes;
    }

    /** Sends raw bytes as they are: for frames no client library would build. */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Sends part of a byte array as it is, for streaming a large frame from a small buffer. */
    void sendRaw(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
        out.flush();
    }

    /** Sends each write as soon as it is made (TCP_NODELAY), for a client that dribbles its bytes. */
    void setNoDelay() throws IOException {
        socket.setTcpNoDelay(true);
    }

    /** Sends the bytes one write each, as a client that dribbles them does (with {@link #setNoDelay}). */
    void sendByteByByte(byte[] bytes) throws IOException {
        for (int i = 0; i < bytes.length; i++) {
            sendRaw(bytes, i, 1);
        }
    }

    void setReadTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    void sendText(String text) throws IOException {
        send(0x1, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Reads the next frame (unmasked, as servers send them); fails on a timeout. */
    Frame read() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        long length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return new Frame(b0 & 0x0F, payload);
    }

    /**
     * Reads the next data frame's payload (unmasked, FIN set, at most the buffer's length) into
     * the buffer without allocating, for readers of many small messages; returns its length.
     * Fails on anything else: a fragment, a control frame, a larger payload.
     */
    int readInto(byte[] buffer) throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        int length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127 || (b0 & 0x80) == 0 || (b0 & 0x08) != 0 || length > buffer.length) {
            throw new IOException("unexpected frame: " + Integer.toHexString(b0) + " " + Integer.toHexString(b1));
        }
        if (length > buffer.length) {
            throw new IOException("unexpected frame of " + length + " bytes");
        }
        in.readFully(buffer, 0, length);
        return length;
    }

    /** Reads until the server closes the TCP connection; returns true if it did within the socket timeout. */
    boolean awaitEndOfStream() throws IOException {
        try {
            while (in.read() >= 0) {
                // discard
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    /** Resets the TCP connection (SO_LINGER 0): no close frame, no FIN. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4 && (b = in.read()) >= 0) {
            head.write(b);
            matched = (b == '\r' || b == '\n') ? matched + 1 : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
