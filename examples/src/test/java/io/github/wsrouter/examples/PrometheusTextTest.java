package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The test parser of Prometheus' text format takes what the format allows and nothing else. */
class PrometheusTextTest {

    @Test
    void readsFamiliesTypesHelpLabelsAndValues() {
        Map<String, PrometheusText.Family> families = PrometheusText.parse("""
                # HELP requests_total Requests with a \\\\ and a\\nsecond line
                # TYPE requests_total counter
                requests_total{route="/a/{b}/",code="200"} 3.0
                requests_total{route="q\\"uote\\\\d\\n",code="500",} 1e3 1700000000000
                # a comment
                # TYPE temperature gauge
                temperature -1.5
                temperature{place="out"} NaN
                untyped_thing{} +Inf

                """);
        assertThat(families).containsOnlyKeys("requests_total", "temperature", "untyped_thing");
        PrometheusText.Family requests = families.get("requests_total");
        assertThat(requests.type()).isEqualTo("counter");
        assertThat(requests.help()).isEqualTo("Requests with a \\ and a\nsecond line");
        assertThat(requests.samples()).hasSize(2);
        assertThat(requests.samples().get(0).labels())
                .containsExactly(Map.entry("route", "/a/{b}/"), Map.entry("code", "200"));
        assertThat(requests.samples().get(1).labels()).containsEntry("route", "q\"uote\\d\n");
        assertThat(requests.samples().get(1).value()).isEqualTo(1000);
        assertThat(families.get("temperature").samples())
                .extracting(PrometheusText.Sample::value)
                .containsExactly(-1.5, Double.NaN);
        assertThat(families.get("untyped_thing").type()).isEqualTo("untyped");
        assertThat(families.get("untyped_thing").samples().get(0).value()).isEqualTo(Double.POSITIVE_INFINITY);
    }

    @Test
    void countersMayNameTheirSamplesWithTotal() {
        Map<String, PrometheusText.Family> families = PrometheusText.parse("""
                # TYPE jobs counter
                jobs_total 2
                jobs_created 1700000000
                """);
        assertThat(families.get("jobs").samples()).hasSize(2);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "no_value\n",
                "bad-name 1\n",
                " leading_blank 1\n",
                "trailing_blank 1 \n",
                "x 1 2 3\n",
                "x one\n",
                "x 1 12.5\n",
                "x{a=\"1\" 1\n",
                "x{a=1} 1\n",
                "x{a=\"1\"b=\"2\"} 1\n",
                "x{1a=\"1\"} 1\n",
                "x{a=\"1\",a=\"2\"} 1\n",
                "x{a=\"\\t\"} 1\n",
                "x{a=\"unclosed} 1\n",
                "x 1\nx 2\n",
                "x{a=\"1\",b=\"2\"} 1\nx{b=\"2\",a=\"1\"} 1\n",
                "x 1\ny 1\nx 2\n",
                "# TYPE x counter\n# TYPE x counter\nx 1\n",
                "# HELP x a\n# HELP x b\nx 1\n",
                "# TYPE x countr\nx 1\n",
                "# TYPE x gauge\nx_total 1\nx 2\nx_total 3\n",
                "x 1\n# TYPE x gauge\n",
                "# HELP x bad \\escape\nx 1\n",
                "x 1",
            })
    void refusesWhatTheFormatDoesNotAllow(String text) {
        assertThatThrownBy(() -> PrometheusText.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
