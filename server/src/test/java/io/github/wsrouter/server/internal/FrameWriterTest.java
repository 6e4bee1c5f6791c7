package io.github.wsrouter.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.WriteReadyHandler;

/**
 * The frame writer's stream of frames, byte for byte, against a socket that takes a random part of
 * every write and a framed channel above that writes control frames the way Undertow's does (all
 * its pending frames in one gathering write, again when the socket is ready).
 */
class FrameWriterTest {

    /** One frame as it came out, with the order it was queued in. */
    record Out(int opcode, byte[] payload) {}

    @Test
    void ownAndUndertowFramesInterleaveWholeAndInOrder() throws IOException {
        for (int seed = 0; seed < 2_000; seed++) {
            runRound(new Random(seed), seed);
        }
    }

    private static void runRound(Random random, int seed) throws IOException {
        Socket socket = new Socket(random);
        Owner owner = new Owner();
        FrameWriter writer = new FrameWriter(socket, null, owner);
        owner.writer = writer;
        Undertow undertow = new Undertow(writer);
        writer.setWriteReadyHandler(undertow);

        List<byte[]> dataSent = new ArrayList<>();
        List<byte[]> controlSent = new ArrayList<>();
        // for each control frame, how many data frames were queued before it
        List<Integer> dataBeforeControl = new ArrayList<>();
        boolean closed = false;
        int steps = 5 + random.nextInt(40);
        for (int step = 0; step < steps; step++) {
            int what = random.nextInt(10);
            if (what < 5) {
                byte[] payload = payload(random);
                byte[] frame = FrameWriter.textFrame(new String(payload, StandardCharsets.ISO_8859_1));
                boolean queued = writer.text(frame);
                assertThat(queued)
                        .as("seed %d: refused only after a close began", seed)
                        .isEqualTo(!undertow.closeBegun());
                if (queued) {
                    dataSent.add(utf8Of(payload));
                }
            } else if (what < 7) {
                if (!undertow.closeBegun()) {
                    ByteBuffer data = ByteBuffer.wrap(payload(random));
                    byte[] copy = new byte[data.remaining()];
                    data.duplicate().get(copy);
                    assertThat(writer.binary(data)).isTrue();
                    dataSent.add(copy);
                }
            } else if (what < 8) {
                writer.flushFrames();
            } else if (what < 9 && !closed) {
                boolean close = random.nextInt(8) == 0;
                byte[] payload = new byte[random.nextInt(close ? 20 : 126)];
                random.nextBytes(payload);
                dataBeforeControl.add(dataSent.size());
                controlSent.add(payload);
                undertow.send(close ? 0x8 : 0x9, payload);
                closed = close;
            } else {
                socket.ready();
            }
        }
        writer.flushFrames();
        for (int i = 0; i < 100_000 && (socket.resumed || undertow.pending()); i++) {
            socket.ready();
        }
        assertThat(undertow.pending())
                .as("seed %d: Undertow's frames all written", seed)
                .isFalse();
        assertThat(writer.queued()).as("seed %d: own frames all written", seed).isZero();

        List<Out> frames = parse(socket.bytes.toByteArray(), seed);
        List<byte[]> dataOut = new ArrayList<>();
        List<byte[]> controlOut = new ArrayList<>();
        boolean closeOut = false;
        for (Out frame : frames) {
            if (frame.opcode() >= 0x8) {
                assertThat(dataOut.size())
                        .as("seed %d: data frames queued before a control frame go first", seed)
                        .isGreaterThanOrEqualTo(dataBeforeControl.get(controlOut.size()));
                controlOut.add(frame.payload());
            } else {
                dataOut.add(frame.payload());
            }
            assertThat(closeOut)
                    .as("seed %d: nothing after the close frame", seed)
                    .isFalse();
            closeOut = frame.opcode() == 0x8;
        }
        assertThat(dataOut).as("seed %d", seed).containsExactlyElementsOf(dataSent);
        assertThat(controlOut).as("seed %d", seed).containsExactlyElementsOf(controlSent);
        assertThat(owner.lost).isNull();
        assertThat(owner.notifiedEmpty)
                .as("seed %d: told only when nothing is left", seed)
                .isTrue();
    }

    @Test
    void framesQueuedWhenTheSocketCloses_areLost_andTheOwnerHears() throws IOException {
        Socket socket = new Socket(new Random(1));
        socket.fixedBudget = 0; // takes nothing
        Owner owner = new Owner();
        FrameWriter writer = new FrameWriter(socket, null, owner);
        owner.writer = writer;
        Undertow undertow = new Undertow(writer);
        writer.setWriteReadyHandler(undertow);
        assertThat(writer.text(FrameWriter.textFrame("lost"))).isTrue();
        assertThat(writer.flushFrames()).isFalse();
        assertThat(socket.resumed).as("waits for the socket").isTrue();
        socket.handler.terminated();
        assertThat(owner.lost).hasMessageContaining("closed");
        assertThat(undertow.terminated).as("the channel above hears too").isTrue();
        assertThat(writer.text(FrameWriter.textFrame("after"))).isFalse();
    }

    @Test
    void aTextSentToManyInARowIsFramedOnce() {
        String text = "x".repeat(300);
        byte[] first = FrameWriter.textFrame(text);
        assertThat(FrameWriter.textFrame(text)).isSameAs(first);
        assertThat(first).startsWith(0x81, 126, 1, 44);
        assertThat(FrameWriter.textFrame("other")).startsWith(0x81, 5);
    }

    private static byte[] payload(Random random) {
        int[] sizes = {0, 1, 64, 125, 126, 127, 1000, 65_535, 65_536, 70_000};
        int size = random.nextInt(3) == 0 ? sizes[random.nextInt(sizes.length)] : random.nextInt(300);
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) ('a' + random.nextInt(26));
        }
        return bytes;
    }

    private static byte[] utf8Of(byte[] latin1) {
        return new String(latin1, StandardCharsets.ISO_8859_1).getBytes(StandardCharsets.UTF_8);
    }

    /** Frames as a client reads them; fails on a torn or masked frame. */
    private static List<Out> parse(byte[] bytes, int seed) {
        List<Out> frames = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.hasRemaining()) {
            int b0 = in.get() & 0xFF;
            int b1 = in.get() & 0xFF;
            assertThat(b0 & 0xF0).as("seed %d: FIN and no RSV", seed).isEqualTo(0x80);
            assertThat(b1 & 0x80).as("seed %d: a server does not mask", seed).isZero();
            long length = b1 & 0x7F;
            if (length == 126) {
                length = in.getShort() & 0xFFFF;
            } else if (length == 127) {
                length = in.getLong();
            }
            assertThat(length).as("seed %d: a whole frame", seed).isLessThanOrEqualTo(in.remaining());
            byte[] payload = new byte[(int) length];
            in.get(payload);
            frames.add(new Out(b0 & 0x0F, payload));
        }
        return frames;
    }

    private static final class Owner implements FrameWriter.Owner {
        FrameWriter writer;
        IOException lost;
        boolean notifiedEmpty = true;

        @Override
        public void framesWritten() {
            notifiedEmpty &= writer.queued() == 0;
        }

        @Override
        public void framesLost(IOException cause) {
            lost = cause;
        }
    }

    /** The framed channel above, as Undertow's writes: pending frames in one gathering write. */
    private static final class Undertow implements WriteReadyHandler {
        private final FrameWriter writer;
        private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
        private boolean closeQueued;
        boolean terminated;

        Undertow(FrameWriter writer) {
            this.writer = writer;
        }

        void send(int opcode, byte[] payload) throws IOException {
            pending.add(ByteBuffer.wrap(new byte[] {(byte) (0x80 | opcode), (byte) payload.length}));
            pending.add(ByteBuffer.wrap(payload));
            closeQueued |= opcode == 0x8;
            flushSenders();
        }

        boolean pending() {
            return pending.stream().anyMatch(ByteBuffer::hasRemaining);
        }

        /** Whether the writer has seen the close frame begin (it then refuses frames of its own). */
        boolean closeBegun() {
            return writer.isOver();
        }

        void flushSenders() throws IOException {
            ByteBuffer[] data = pending.toArray(ByteBuffer[]::new);
            long res;
            do {
                res = writer.write(data, 0, data.length);
            } while (res > 0 && pending());
            while (!pending.isEmpty() && !pending.peek().hasRemaining()) {
                pending.poll();
            }
            if (!pending.isEmpty() || !writer.flush()) {
                writer.resumeWrites();
            } else {
                writer.suspendWrites();
            }
        }

        @Override
        public void writeReady() {
            try {
                flushSenders();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void forceTermination() {}

        @Override
        public void terminated() {
            terminated = true;
        }
    }

    /** A socket that takes a random part of each write. */
    private static final class Socket implements StreamSinkConduit {
        private final Random random;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        WriteReadyHandler handler;
        boolean resumed;
        int fixedBudget = -1;

        Socket(Random random) {
            this.random = random;
        }

        void ready() {
            if (resumed) {
                handler.writeReady();
            }
        }

        private int budget() {
            if (fixedBudget >= 0) {
                return fixedBudget;
            }
            return switch (random.nextInt(4)) {
                case 0 -> 0;
                case 1 -> random.nextInt(8);
                case 2 -> random.nextInt(2_000);
                default -> Integer.MAX_VALUE;
            };
        }

        @Override
        public long write(ByteBuffer[] srcs, int offs, int len) {
            long budget = budget();
            long written = 0;
            for (int i = offs; i < offs + len && budget > 0; i++) {
                ByteBuffer b = srcs[i];
                int n = (int) Math.min(b.remaining(), budget);
                byte[] chunk = new byte[n];
                b.get(chunk);
                bytes.write(chunk, 0, n);
                budget -= n;
                written += n;
            }
            return written;
        }

        @Override
        public int write(ByteBuffer src) {
            return (int) write(new ByteBuffer[] {src}, 0, 1);
        }

        @Override
        public long transferFrom(java.nio.channels.FileChannel src, long position, long count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int writeFinal(ByteBuffer src) {
            return write(src);
        }

        @Override
        public long writeFinal(ByteBuffer[] srcs, int offset, int length) {
            return write(srcs, offset, length);
        }

        @Override
        public void terminateWrites() {}

        @Override
        public boolean isWriteShutdown() {
            return false;
        }

        @Override
        public void resumeWrites() {
            resumed = true;
        }

        @Override
        public void suspendWrites() {
            resumed = false;
        }

        @Override
        public void wakeupWrites() {
            resumed = true;
        }

        @Override
        public boolean isWriteResumed() {
            return resumed;
        }

        @Override
        public void awaitWritable() {}

        @Override
        public void awaitWritable(long time, TimeUnit timeUnit) {}

        @Override
        public XnioIoThread getWriteThread() {
            return null;
        }

        @Override
        public void setWriteReadyHandler(WriteReadyHandler handler) {
            this.handler = handler;
        }

        @Override
        public void truncateWrites() {}

        @Override
        public boolean flush() {
            return true;
        }

        @Override
        public XnioWorker getWorker() {
            return null;
        }
    }
}
