package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.micrometer.WsRouterMetrics;
import io.github.wsrouter.server.WsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The docs' samples: {@code docs/metrics.md}'s, and the guard that every {@code ```java} block of
 * {@code README.md} and {@code docs/*.md} has a verbatim copy in some test source of the project,
 * where a test compiles or runs it ({@code core}'s {@code ReadmeExampleTest}, {@code server}'s
 * {@code DocsExamplesTest} and this class).
 */
@Timeout(30)
class DocsExamplesTest {

    /** The project's root: this module's parent directory (Maven runs tests in the module's). */
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** docs/metrics.md: compiled, not run (port 8080); {@link #metricsSampleScrapes} runs it on a free port. */
    static WsServer metricsSample() {
        WsServer server = WsServer.builder().port(8080).route("/echo/", EchoRouter.create()).build().start();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        WsRouterMetrics.of(server).bindTo(registry);
        // serve registry.scrape() at /metrics
        return server;
    }

    @Test
    void metricsSampleScrapes() {
        WsServer server = WsServer.builder().port(0).route("/echo/", EchoRouter.create()).build().start();
        try {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            WsRouterMetrics.of(server).bindTo(registry);
            assertThat(registry.scrape()).contains("wsrouter_connections{route=\"/echo/\"} 0.0");
        } finally {
            server.stop();
        }
    }

    @Test
    void everyJavaSampleOfTheDocsHasACopyInATest() throws IOException {
        List<Path> pages = new ArrayList<>();
        pages.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<List<String>> tests = testSources();
        assertThat(tests).as("test sources under " + ROOT).isNotEmpty();

        List<String> missing = new ArrayList<>();
        int samples = 0;
        for (Path page : pages) {
            for (Sample sample : javaSamples(page)) {
                samples++;
                if (tests.stream().noneMatch(source -> contains(source, sample.lines()))) {
                    missing.add(ROOT.relativize(page) + ":" + sample.line() + ": the java sample starting \""
                            + sample.lines().get(0).strip() + "\" has no verbatim copy in any test source");
                }
            }
        }
        assertThat(samples).as("java samples in README.md and docs/*.md").isPositive();
        assertThat(missing)
                .as("every ```java block of the docs is compiled or run by a test, as written: copy each sample "
                        + "below, unchanged but for its indentation, into the test of its page's module "
                        + "(core: ReadmeExampleTest; server: DocsExamplesTest; examples: DocsExamplesTest)")
                .isEmpty();
    }

    /** A {@code ```java} block: its lines, and the line of the page it starts on (after the fence). */
    record Sample(int line, List<String> lines) {
    }

    static List<Sample> javaSamples(Path page) {
        List<String> lines = read(page);
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).strip().equals("```java")) {
                continue;
            }
            int start = i + 1;
            int end = start;
            while (end < lines.size() && !lines.get(end).strip().startsWith("```")) {
                end++;
            }
            List<String> body = lines.subList(start, end);
            if (body.stream().anyMatch(l -> !l.isBlank())) {
                samples.add(new Sample(start + 1, List.copyOf(body)));
            }
            i = end;
        }
        return samples;
    }

    /**
     * Whether the source has the sample's lines in a row, each as in the sample after one common
     * indentation (a sample inside a method or a class is indented there); blank lines match blank
     * lines, and trailing spaces are ignored.
     */
    static boolean contains(List<String> source, List<String> sample) {
        int first = 0;
        while (sample.get(first).isBlank()) {
            first++;
        }
        String head = stripEnd(sample.get(first));
        for (int at = 0; at + sample.size() - first <= source.size(); at++) {
            String line = stripEnd(source.get(at));
            if (!line.endsWith(head)) {
                continue;
            }
            String indent = line.substring(0, line.length() - head.length());
            if (!indent.isBlank()) {
                continue;
            }
            boolean all = true;
            for (int k = first; k < sample.size() && all; k++) {
                String want = stripEnd(sample.get(k));
                String got = stripEnd(source.get(at + k - first));
                all = want.isEmpty() ? got.isEmpty() : got.equals(indent + want);
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    private static String stripEnd(String line) {
        return line.stripTrailing();
    }

    /** Every .java file under a src/test/java of the project, outside build output. */
    private static List<List<String>> testSources() throws IOException {
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> p.toString().replace('\\', '/').contains("/src/test/java/"))
                    .filter(p -> !ROOT.relativize(p).toString().replace('\\', '/').matches("(.*/)?(target|\\.git)/.*"))
                    .map(DocsExamplesTest::read)
                    .toList();
        }
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
