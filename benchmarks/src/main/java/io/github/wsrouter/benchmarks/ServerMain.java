package io.github.wsrouter.benchmarks;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A server under test as a child process of the load driver: {@code ServerMain
 * baseline|netty|wsrouter|metrics [port [scrape interval in ms]]}. Prints {@code READY <port>}, then
 * answers commands on standard input, one a line: {@code count} (open connections), {@code stats}
 * (after a full GC: heap used in bytes and open connections), {@code info} (what the server
 * measured about itself, such as its scrapes), {@code quit}. Stops when standard input ends, so it never outlives the driver.
 */
public final class ServerMain {

    private ServerMain() {}

    public static void main(String[] args) throws Exception {
        BenchServer.Kind kind = BenchServer.Kind.of(args[0]);
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        Duration scrape = Duration.ofMillis(args.length > 2 ? Long.parseLong(args[2]) : 1000);
        BenchServer server = kind.create("127.0.0.1", port, scrape).start();
        System.out.println("READY " + server.port());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            for (String line; (line = in.readLine()) != null; ) {
                switch (line.trim()) {
                    case "count" -> System.out.println("COUNT " + server.connectionCount());
                    case "stats" -> System.out.println("STATS " + heapAfterGc() + " " + server.connectionCount());
                    case "info" -> System.out.println("INFO " + server.info());
                    case "quit" -> {
                        return;
                    }
                    default -> System.out.println("ERROR unknown command " + line);
                }
                System.out.flush();
            }
        } finally {
            server.stop();
            System.exit(0);
        }
    }

    /** Heap in use after full collections (live objects, as far as a full GC can tell). */
    static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
