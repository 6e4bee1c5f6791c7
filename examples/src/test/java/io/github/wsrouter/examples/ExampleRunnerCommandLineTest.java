package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ExampleRunnerCommandLineTest {

    /** What one call of the runner printed and returned. */
    private record Result(int exitCode, String out, String err) {
        String[] errLines() {
            return err.isEmpty() ? new String[0] : err.split("\\R");
        }
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = ExampleRunner.run(args, o, e);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void assertOneLineError(Result result, String expectedFragment) {
        assertThat(result.exitCode()).as("exit code").isEqualTo(2);
        assertThat(result.errLines()).as("stderr lines of %s", result.err()).hasSize(1);
        assertThat(result.err())
                .startsWith("wsrouter-examples: ")
                .contains(expectedFragment)
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
        assertThat(result.out()).as("stdout").isEmpty();
    }

    @Test
    void helpPrintsUsageOnStdoutAndExitsZero() {
        Result result = run("--help");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("Usage: wsrouter-examples", "--host", "--port", "/ws/{username}/");
        assertThat(result.err()).isEmpty();
        assertThat(run("-h").exitCode()).isZero();
    }

    @Test
    void unknownFlagIsOneLineOnStderrAndExitCodeTwo() {
        assertOneLineError(run("--bogus"), "--bogus");
    }

    @Test
    void positionalArgumentIsRejected() {
        assertOneLineError(run("8000"), "unexpected argument");
    }

    @Test
    void portThatIsNotANumberIsRejected() {
        assertOneLineError(run("--port", "notanumber"), "notanumber");
        assertOneLineError(run("--port=notanumber"), "notanumber");
    }

    @Test
    void portOutOfRangeIsRejected() {
        assertOneLineError(run("--port", "65536"), "65536");
        assertOneLineError(run("--port=-1"), "-1");
    }

    @Test
    void flagWithoutValueIsRejected() {
        assertOneLineError(run("--port"), "--port needs a value");
        assertOneLineError(run("--host"), "--host needs a value");
        assertOneLineError(run("--host="), "--host");
    }

    @Test
    void portInUseIsOneLineOnStderrAndExitCodeTwo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            ExampleRunner.Launch launch;
            try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
                // launch() rather than run(): if the bind wrongly succeeded, run() would block forever.
                launch = ExampleRunner.launch(
                        new String[] {"--host", "127.0.0.1", "--port", String.valueOf(port)}, o, e);
            }
            if (launch.server() != null) {
                launch.server().stop();
            }
            assertThat(launch.server())
                    .as("server started on a port that is in use")
                    .isNull();
            assertOneLineError(
                    new Result(
                            launch.exitCode(),
                            out.toString(StandardCharsets.UTF_8),
                            err.toString(StandardCharsets.UTF_8)),
                    "port " + port + " is already in use");
        }
    }

    @Test
    void parseAcceptsBothFlagForms() throws Exception {
        assertThat(ExampleRunner.parse(new String[0]))
                .isEqualTo(new ExampleRunner.Options("127.0.0.1", 8000, false, false));
        assertThat(ExampleRunner.parse(new String[] {"--host", "0.0.0.0", "--port", "0"}))
                .isEqualTo(new ExampleRunner.Options("0.0.0.0", 0, false, false));
        assertThat(ExampleRunner.parse(new String[] {"--host=localhost", "--port=9001"}))
                .isEqualTo(new ExampleRunner.Options("localhost", 9001, false, false));
        assertThat(ExampleRunner.parse(new String[] {"--port", "1", "--port=2"}).port())
                .isEqualTo(2);
        assertThat(ExampleRunner.parse(new String[] {"--help"}).help()).isTrue();
        assertThat(ExampleRunner.parse(new String[] {"--jakarta", "--port", "0"}))
                .isEqualTo(new ExampleRunner.Options("127.0.0.1", 0, false, true));
        assertThat(ExampleRunner.parse(new String[] {"--allow-origin", "https://a.example", "--allow-origin=*"})
                        .allowedOrigins())
                .containsExactly("https://a.example", "*");
    }

    @Test
    void parseRejectsHelpWithValue() {
        assertThatThrownBy(() -> ExampleRunner.parse(new String[] {"--help=yes"}))
                .isInstanceOf(ExampleRunner.UsageException.class)
                .hasMessageContaining("takes no value");
    }
}
