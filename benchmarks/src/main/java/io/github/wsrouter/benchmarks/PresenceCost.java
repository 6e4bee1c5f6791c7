package io.github.wsrouter.benchmarks;

import io.github.wsrouter.Relay;
import io.github.wsrouter.redis.RedisRelay;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What presence across servers costs in Redis: three relays (three servers) share one Redis; N
 * users join, spread over the three, then leave. Reports joins and leaves per second until every
 * server's view is right, the Redis commands and bytes per join (Redis's own counters, {@code INFO
 * commandstats} and {@code INFO stats}), and the memory of one presence entry ({@code MEMORY
 * USAGE} of the keys that hold them).
 *
 * <pre>{@code
 * redis-server --port 6390 --save '' --appendonly no --daemonize yes
 * java -cp benchmarks/target/wsrouter-benchmarks.jar io.github.wsrouter.benchmarks.PresenceCost redis://127.0.0.1:6390 6000 3
 * }</pre>
 *
 * Arguments: the Redis URI (an empty Redis: the run flushes it), the number of users (default
 * 6,000), the rounds (default 3).
 */
public final class PresenceCost {

    private static final String ROUTE = "/ws/{username}/";

    private PresenceCost() {}

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args.length > 0 ? args[0] : "redis://127.0.0.1:6390");
        int users = args.length > 1 ? Integer.parseInt(args[1]) : 6000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        RedisClient admin = RedisClient.create(uri.toString());
        try (StatefulRedisConnection<String, String> redis = admin.connect()) {
            for (int round = 1; round <= rounds; round++) {
                redis.sync().flushall();
                run(uri, users, round, redis);
            }
        } finally {
            admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    private static void run(URI uri, int users, int round, StatefulRedisConnection<String, String> redis)
            throws Exception {
        List<RedisRelay> relays = new ArrayList<>();
        List<Relay.Presence> presences = new ArrayList<>();
        AtomicLong events = new AtomicLong();
        try {
            for (int i = 0; i < 3; i++) {
                RedisRelay relay = RedisRelay.builder(uri).nodeId("node" + i).build();
                relays.add(relay);
                presences.add(relay.presence(ROUTE, new Relay.Presence.Receiver() {
                    @Override
                    public void onJoin(String group, String member) {
                        events.incrementAndGet();
                    }

                    @Override
                    public void onLeave(String group, String member) {
                        events.incrementAndGet();
                    }
                }));
            }
            await(() -> presences.stream().noneMatch(Relay.Presence::stale), 10);
            redis.sync().configResetstat();

            long start = System.nanoTime();
            for (int u = 0; u < users; u++) {
                presences.get(u % 3).add(Relay.Presence.USERS, "user" + u);
            }
            await(
                    () -> presences.stream()
                            .allMatch(p -> p.members(Relay.Presence.USERS).size() == users),
                    120);
            double joinSeconds = (System.nanoTime() - start) / 1e9;
            Map<String, String> commands = info(redis, "commandstats");
            Map<String, String> stats = info(redis, "stats");
            long calls = calls(commands);
            long bytesIn = Long.parseLong(stats.get("total_net_input_bytes"));
            long bytesOut = Long.parseLong(stats.get("total_net_output_bytes"));
            String prefix = "wsrouter:" + ROUTE + ":presence:";
            long hash = memory(redis, prefix);
            long entries = 0;
            for (String key : redis.sync().keys("wsrouter:presence:entries:*")) {
                entries += memory(redis, key);
            }

            start = System.nanoTime();
            for (int u = 0; u < users; u++) {
                presences.get(u % 3).remove(Relay.Presence.USERS, "user" + u);
            }
            await(
                    () -> presences.stream()
                            .allMatch(p -> p.members(Relay.Presence.USERS).isEmpty()),
                    120);
            double leaveSeconds = (System.nanoTime() - start) / 1e9;

            System.out.printf(
                    "round %d: %d users over 3 servers: %.0f joins/s, %.0f leaves/s until every view was right;"
                            + " per join %.2f commands sent to Redis, %.2f calls Redis ran (%s), %.0f bytes into"
                            + " Redis and %.0f out (the answer, and the change to 3 subscribers); per entry %.1f B"
                            + " in the route's hash and %.1f B in its server's set; %d events heard%n",
                    round,
                    users,
                    users / joinSeconds,
                    users / leaveSeconds,
                    value(commands.get("cmdstat_evalsha"), "calls") / (double) users,
                    calls / (double) users,
                    commands.keySet().stream()
                            .filter(k -> k.startsWith("cmdstat_"))
                            .map(k -> k.substring(8) + "=" + value(commands.get(k), "calls"))
                            .sorted()
                            .toList(),
                    bytesIn / (double) users,
                    bytesOut / (double) users,
                    hash / (double) users,
                    entries / (double) users,
                    events.get());
        } finally {
            relays.forEach(RedisRelay::close);
        }
    }

    private static long calls(Map<String, String> commands) {
        long calls = 0;
        for (Map.Entry<String, String> entry : commands.entrySet()) {
            // every call Redis ran: a script's own calls count besides the EVALSHA
            if (entry.getKey().startsWith("cmdstat_") && !entry.getKey().equals("cmdstat_config")) {
                calls += value(entry.getValue(), "calls");
            }
        }
        return calls;
    }

    private static long value(String fields, String name) {
        for (String field : fields.split(",")) {
            if (field.startsWith(name + "=")) {
                return Long.parseLong(field.substring(name.length() + 1));
            }
        }
        return 0;
    }

    private static Map<String, String> info(StatefulRedisConnection<String, String> redis, String section) {
        Map<String, String> values = new java.util.TreeMap<>();
        for (String line : redis.sync().info(section).split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.startsWith("#")) {
                values.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return values;
    }

    private static long memory(StatefulRedisConnection<String, String> redis, String key) {
        Long bytes = redis.sync().memoryUsage(key);
        return bytes == null ? 0 : bytes;
    }

    private static void await(java.util.function.BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not reached within " + seconds + " s");
            }
            Thread.sleep(5); // a load run's polling, not a test
        }
    }
}
