package io.github.wsrouter.examples;

import io.github.wsrouter.redis.RedisServerProcess;
import io.github.wsrouter.server.WsServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;

/**
 * A real redis-server, a connection to it for the test's own commands, and one example runner in
 * this JVM on it ({@code --redis}): what the tests of several runners start with. Closing stops
 * them in the reverse order.
 */
final class RedisWithRunner implements AutoCloseable {

    final RedisServerProcess redis;
    final RedisClient client;
    final StatefulRedisConnection<String, String> commands;
    final WsServer runner;

    private RedisWithRunner() {
        redis = RedisServerProcess.start();
        client = RedisClient.create(redis.uri().toString());
        commands = client.connect();
        runner = ExampleRunnerTwoNodesTest.launch(
                "--port", "0", "--redis", redis.uri().toString());
    }

    static RedisWithRunner start() {
        return new RedisWithRunner();
    }

    @Override
    public void close() {
        runner.stop();
        commands.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        redis.close();
    }
}
