package io.github.wsrouter.benchmarks.jmh;

import io.github.wsrouter.ConnectionGroups;
import io.github.wsrouter.EchoRouter;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The registry ({@link ConnectionGroups}) under contention: connections joining and leaving while
 * others do the same and while a router reads the audience.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RegistryBenchmark {

    /** One index shared by every thread, with 100 connections already in the room. */
    @State(Scope.Benchmark)
    public static class Shared {
        final ConnectionGroups index = ConnectionGroups.create();

        @Setup
        public void fill() {
            for (int i = 0; i < 100; i++) {
                index.add("room", new InMemoryConnection("/rooms/room/", Map.of("room", "room"), EchoRouter.create()));
            }
        }
    }

    /** Each thread's own connection, and a user key of its own. */
    @State(Scope.Thread)
    public static class Mine {
        private static final AtomicInteger NEXT = new AtomicInteger();
        final InMemoryConnection connection = new InMemoryConnection("/ws/u/", Map.of(), EchoRouter.create());
        final String user = "user" + NEXT.incrementAndGet();
    }

    /** Four threads join and leave one room (one key, one set). */
    @Benchmark
    @Threads(4)
    public boolean addRemoveSameKey(Shared shared, Mine mine) {
        shared.index.add("room", mine.connection);
        return shared.index.remove("room", mine.connection);
    }

    /** Four threads each add and remove a user key of their own (the key appears and disappears). */
    @Benchmark
    @Threads(4)
    public boolean addRemoveOwnKey(Shared shared, Mine mine) {
        shared.index.add(mine.user, mine.connection);
        return shared.index.remove(mine.user, mine.connection);
    }

    /** Churn: one thread joins and leaves the room while another iterates it (a broadcast's view). */
    @Benchmark
    @Group("churnWhileBroadcasting")
    @GroupThreads(1)
    public boolean churn(Shared shared, Mine mine) {
        shared.index.add("room", mine.connection);
        return shared.index.remove("room", mine.connection);
    }

    @Benchmark
    @Group("churnWhileBroadcasting")
    @GroupThreads(1)
    public int iterate(Shared shared) {
        int n = 0;
        for (Object ignored : shared.index.members("room")) {
            n++;
        }
        return n;
    }
}
