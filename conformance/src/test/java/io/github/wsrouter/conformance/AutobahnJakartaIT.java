package io.github.wsrouter.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.server.WsServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same Autobahn cases as the plugin's run (1.*–7.*, 9.*, 10.*), against the same echo route
 * served through the Jakarta adapter ({@code WsServer.builder().jakarta()}, Undertow's JSR
 * container), with the same checks.
 *
 * <p>It calls the plugin's own entry point, {@link AutobahnTestSuite#runFuzzingClient}, here in
 * failsafe's JVM: the plugin cannot simply run a second time in the Maven JVM, as the Twisted
 * reactor of its Jython code cannot be restarted ({@code ReactorNotRestartable}). The fuzzing
 * client writes {@code target/autobahntestsuite-reports/} under the working directory, which
 * failsafe sets to {@code conformance/target/autobahn-jakarta}.
 */
class AutobahnJakartaIT {

    private static java.net.URLClassLoader fuzzerClassLoader() throws IOException {
        List<java.net.URL> jars = new java.util.ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (name.startsWith("autobahntestsuite-maven-plugin")
                    || name.startsWith("jython-standalone")
                    || name.startsWith("json-simple")) {
                jars.add(Path.of(entry).toUri().toURL());
            }
        }
        assertThat(jars).as("the fuzzing client's jars").hasSize(3);
        return new java.net.URLClassLoader(jars.toArray(new java.net.URL[0]), ClassLoader.getPlatformClassLoader());
    }

    private static final List<String> CASES = List.of("1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*");

    @Test
    @Timeout(900)
    void everyCaseBehavesAndClosesCleanlyOnTheJakartaAdapter() throws IOException {
        WsServer server = AutobahnEchoServer.start(0, true);
        assertThat(server.isJakarta()).isTrue();
        List<?> results;
        // Jython resolves "import io" to the Java package io (io.undertow, io.github.wsrouter) when
        // it can see it: run the fuzzing client in a class loader of its own jars only, and keep
        // Jython from scanning the class path for Java packages.
        System.setProperty("python.cachedir.skip", "true");
        Thread thread = Thread.currentThread();
        ClassLoader context = thread.getContextClassLoader();
        try (java.net.URLClassLoader fuzzer = fuzzerClassLoader()) {
            thread.setContextClassLoader(fuzzer);
            String url = "ws://" + AutobahnEchoServer.fuzzerHost() + ":" + server.port();
            results = (List<?>) fuzzer.loadClass("me.normanmaurer.maven.autobahntestsuite.AutobahnTestSuite")
                    .getMethod("runFuzzingClient", String.class, String.class, Map.class, List.class, List.class)
                    .invoke(null, "wsrouter-jakarta", url, Map.of("version", 18), CASES, List.of());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("the fuzzing client failed", e);
        } finally {
            thread.setContextClassLoader(context);
            server.stop();
        }
        assertThat(results).as("results").isNotEmpty();
        AutobahnReport.assertEveryCaseBehavesAndClosesCleanly(
                "jakarta",
                Path.of("target/autobahntestsuite-reports/index.json").toAbsolutePath());
    }
}
