package io.github.wsrouter.benchmarks.jmh;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One message through a router on in-memory connections: what the core costs per message, without
 * sockets. Each invocation goes the way a transport delivers a message ({@code deliverText}: the
 * counters, the serial executor, the router, the send queue of every recipient).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RoutingBenchmark {

    /** Alice and Bob on a {@link DirectedJsonRouter} route, as the example runner mounts it. */
    @State(Scope.Thread)
    public static class Directed {
        DirectedJsonRouter router;
        InMemoryConnection alice;
        InMemoryConnection bob;
        final String message = "{\"to_user\":\"bob\",\"message\":\"0000000001 hello there, how are you?\"}";

        @Setup(Level.Trial)
        public void open() {
            router = DirectedJsonRouter.builder().everyone("*").presence(true).build();
            alice = new InMemoryConnection("/ws/alice/", Map.of("username", "alice"), router);
            bob = new InMemoryConnection("/ws/bob/", Map.of("username", "bob"), router);
            alice.deliverOpen();
            bob.deliverOpen();
        }

        @TearDown(Level.Trial)
        public void check() {
            if (bob.frames < 2) {
                throw new AssertionError("bob received nothing");
            }
        }
    }

    /** One sender and 1,000 connections on a {@link BroadcastRouter} route. */
    @State(Scope.Thread)
    public static class Broadcast {
        final List<InMemoryConnection> audience = new ArrayList<>();
        InMemoryConnection sender;
        final String message = "b00001" + "0000000001" + "x".repeat(48);

        @Setup(Level.Trial)
        public void open() {
            BroadcastRouter router = BroadcastRouter.create();
            for (int i = 0; i < 1000; i++) {
                InMemoryConnection connection = new InMemoryConnection("/ws/", Map.of(), router);
                connection.deliverOpen();
                audience.add(connection);
            }
            sender = audience.get(0);
        }

        @TearDown(Level.Trial)
        public void check() {
            long first = audience.get(0).frames;
            for (InMemoryConnection connection : audience) {
                if (connection.frames != first) {
                    throw new AssertionError("deliveries differ: " + connection.frames + " != " + first);
                }
            }
        }
    }

    /** Parse, look up the recipient, stamp {@code from}, serialise, enqueue on Bob's connection. */
    @Benchmark
    public long directedMessage(Directed state) {
        state.alice.deliverText(state.message);
        return state.bob.frames;
    }

    /** One 64-byte message to 1,000 connections (sender included). */
    @Benchmark
    public long broadcastTo1000(Broadcast state) {
        state.sender.deliverText(state.message);
        return state.sender.frames;
    }
}
