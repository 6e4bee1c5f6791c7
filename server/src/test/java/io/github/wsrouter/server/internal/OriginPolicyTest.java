package io.github.wsrouter.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The same-origin rule: an Origin's host and port (the scheme's default if none) against Host. */
class OriginPolicyTest {

    @ParameterizedTest(name = "{0} with Host {1}: {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "http://localhost:8080      | localhost:8080     | true",
                "HTTP://LocalHost:8080/     | localhost:8080     | true",
                "http://example.com         | example.com        | true",
                "http://example.com         | example.com:80     | true",
                "https://example.com        | example.com        | true",
                "https://example.com:443    | example.com        | true",
                "https://example.com        | example.com:80     | false",
                "http://example.com:8080    | example.com        | false",
                "http://example.com:8080    | example.com:8081   | false",
                "http://evil.example        | example.com        | false",
                "http://[::1]:8080          | [::1]:8080         | true",
                "http://[::1]               | [::1]              | true",
                "http://[::1]               | [::1]:8080         | false",
                "http://user@example.com    | example.com        | true",
                "http://example.com:        | example.com        | true",
                "http://exa mple.com        | exa mple.com       | false",
                "null                       | example.com        | false",
                "example.com                | example.com        | false",
            })
    void anOriginIsAllowedWhenItsHostAndPortAreTheRequestsHost(String origin, String host, boolean allowed) {
        assertThat(OriginPolicy.sameOrigin().allows(origin, host)).isEqualTo(allowed);
    }
}
