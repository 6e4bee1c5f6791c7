package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.EchoRouter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A message over the default 64 KiB limit is refused at once with 1009 and never buffered: a
 * 16 MiB text message streamed from a small buffer (in one frame, and in 16 KiB fragments), and a
 * bare frame header announcing 2^63-1 bytes with no payload behind it.
 *
 * <p>"At once": from writing the (first) frame header to reading the server's close frame takes
 * less than 250 ms. "Never buffered" is measured without the garbage collector: the heap bytes
 * the server's threads (Undertow's XNIO I/O, accept and worker threads) allocated while the
 * message came in, summed from {@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes(long[])},
 * must stay under 2 MiB. Buffering the message would allocate at least 16 MiB (32 MiB as a Java
 * string); refusing it costs a few KiB.
 *
 * <p>Undertow alone does not pass these on every path: its JSR container buffers a text message
 * that arrives in more than one read whole, whatever its size ({@code BufferedTextMessage} checks
 * the limit on its first read only), and never looks at a bare header's announced length; its
 * native frame stream drops a fragmented message that adds up past the limit with a TCP reset
 * instead of 1009. wsrouter's frame guard adds up the announced lengths of each message's frames
 * below Undertow's parser and closes with 1009 at the first header that goes over.
 */
@Timeout(60)
class OversizedMessageTest {

    private static final int SIXTEEN_MIB = 16 * 1024 * 1024;
    private static final long ALLOCATION_BOUND = 2 * 1024 * 1024;
    private static final long CLOSE_WITHIN_MILLIS = 250;

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private WsServer server;

    @BeforeAll
    static void allocationsAreMeasurable() {
        com.sun.management.ThreadMXBean threads = threadBean();
        assertThat(threads.isThreadAllocatedMemorySupported()).isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);
    }

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        if (server != null) {
            server.stop();
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aSixteenMegabyteTextMessageInOneFrameIsClosedWith1009AtOnceWithoutBeingBuffered(boolean jakarta)
            throws Exception {
        // FIN + text, masked, 64-bit length 16 MiB, a zero mask key (so the payload goes as it is)
        byte[] header = {(byte) 0x81, (byte) 0xFF, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0};
        refusedWithoutBuffering(jakarta, "16 MiB in one frame", raw -> {
            raw.sendRaw(header);
            byte[] chunk = filled(64 * 1024);
            for (int sent = 0; sent < SIXTEEN_MIB; sent += chunk.length) {
                raw.sendRaw(chunk, 0, chunk.length);
            }
        });
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aSixteenMegabyteBinaryMessageInOneFrameIsClosedWith1009AtOnceWithoutBeingBuffered(boolean jakarta)
            throws Exception {
        byte[] header = {(byte) 0x82, (byte) 0xFF, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0}; // binary, 16 MiB
        refusedWithoutBuffering(jakarta, "16 MiB binary in one frame", raw -> {
            raw.sendRaw(header);
            byte[] chunk = filled(64 * 1024);
            for (int sent = 0; sent < SIXTEEN_MIB; sent += chunk.length) {
                raw.sendRaw(chunk, 0, chunk.length);
            }
        });
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aSixteenMegabyteTextMessageInSmallFragmentsIsClosedWith1009AtOnceWithoutBeingBuffered(boolean jakarta)
            throws Exception {
        int fragment = 16 * 1024; // each frame well under the limit: only the reassembled size is over it
        byte[] first = {0x01, (byte) 0xFE, (byte) (fragment >>> 8), 0, 0, 0, 0, 0}; // text, no FIN, zero mask
        byte[] next = {0x00, (byte) 0xFE, (byte) (fragment >>> 8), 0, 0, 0, 0, 0}; // continuation, no FIN
        byte[] last = {(byte) 0x80, (byte) 0xFE, (byte) (fragment >>> 8), 0, 0, 0, 0, 0}; // continuation, FIN
        refusedWithoutBuffering(jakarta, "16 MiB in 16 KiB fragments", raw -> {
            byte[] payload = filled(fragment);
            int fragments = SIXTEEN_MIB / fragment;
            for (int n = 0; n < fragments; n++) {
                raw.sendRaw(n == 0 ? first : n == fragments - 1 ? last : next);
                raw.sendRaw(payload, 0, payload.length);
            }
        });
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aBareHeaderAnnouncingTwoToTheSixtyThreeBytesIsClosedWith1009AtOnce(boolean jakarta) throws Exception {
        // FIN + text, masked, 64-bit length 2^63-1, a mask key, and no payload at all
        byte[] header = {(byte) 0x81, (byte) 0xFF, 0x7F, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, 4};
        refusedWithoutBuffering(jakarta, "a bare 2^63-1 header", raw -> raw.sendRaw(header));
    }

    interface Sending {
        void send(RawWebSocket raw) throws IOException;
    }

    /**
     * Sends from a thread of its own while this one waits for the close frame: a broken pipe or a
     * reset while sending is expected, as the server closes before the client is done.
     */
    private void refusedWithoutBuffering(boolean jakarta, String what, Sending sending) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer.Builder builder = WsServer.builder().port(0).route("/echo/", router); // default limit 64 KiB
        server = (jakarta ? builder.jakarta() : builder).build().start();
        warmUp(router);
        try (RawWebSocket raw = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);
            long allocatedBefore = serverAllocatedBytes();

            Future<Long> closeFrameAt = pool.submit(() -> awaitCloseFrame(raw));
            long headerSent = System.nanoTime();
            Future<?> send = pool.submit(() -> {
                try {
                    sending.send(raw);
                } catch (IOException brokenPipe) {
                    // expected: the server closed the connection while the message was coming
                }
                return null;
            });

            long closeMillis = TimeUnit.NANOSECONDS.toMillis(closeFrameAt.get(10, TimeUnit.SECONDS) - headerSent);
            assertThat(router.await("close", "error").status().code()).isEqualTo(1009);
            raw.close(); // ends the sending, should the server still read
            send.get(10, TimeUnit.SECONDS);
            long allocated = serverAllocatedBytes() - allocatedBefore;
            System.out.printf(
                    "jakarta=%s, %s: 1009 after %d ms, server threads allocated %d KiB%n",
                    jakarta, what, closeMillis, allocated / 1024);

            assertThat(closeMillis).as("ms from the header to the close frame").isLessThan(CLOSE_WITHIN_MILLIS);
            assertThat(allocated)
                    .as("heap bytes the server's threads allocated meanwhile")
                    .isLessThan(ALLOCATION_BOUND);
        }
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> server.connectionCount() == 0);
    }

    /**
     * Has the server refuse one message just over the limit (binary, which both adapters check as
     * it comes) on a connection of its own, so that the measured refusal is not the first: the
     * 250 ms are about the server, not about loading and compiling its classes.
     */
    private void warmUp(ObservedRouter router) throws IOException {
        try (RawWebSocket raw = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);
            int size = 64 * 1024 + 1; // announced below as 0x10001
            try {
                raw.sendRaw(new byte[] {(byte) 0x82, (byte) 0xFF, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0});
                raw.sendRaw(filled(size), 0, size);
            } catch (IOException closedFirst) {
                // the native adapter refuses at the header and may close before the payload is in
            }
            assertThat(router.await("close", "error").status().code()).isEqualTo(1009);
        }
    }

    /** Reads the server's first frame, which must be a close frame with 1009; returns when it came. */
    private static long awaitCloseFrame(RawWebSocket raw) throws IOException {
        RawWebSocket.Frame frame = raw.read();
        long at = System.nanoTime();
        assertThat(frame.opcode())
                .as("the server's first frame is a close frame")
                .isEqualTo(0x8);
        assertThat(frame.closeCode()).isEqualTo(1009);
        return at;
    }

    private static byte[] filled(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'x');
        return bytes;
    }

    /** Heap bytes allocated so far by the server's threads (XNIO I/O, accept and worker threads). */
    private static long serverAllocatedBytes() {
        long[] ids = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("XNIO-"))
                .mapToLong(Thread::getId)
                .toArray();
        assertThat(ids).as("the server's XNIO threads").isNotEmpty();
        return Arrays.stream(threadBean().getThreadAllocatedBytes(ids))
                .filter(bytes -> bytes > 0)
                .sum();
    }

    private static com.sun.management.ThreadMXBean threadBean() {
        return (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    }
}
