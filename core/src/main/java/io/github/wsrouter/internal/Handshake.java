package io.github.wsrouter.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the opening HTTP request said, in the shape {@code Connection} exposes: immutable maps,
 * header names case-insensitive.
 */
public record Handshake(String path, Map<String, String> pathParameters,
                        Map<String, List<String>> queryParameters, Map<String, List<String>> headers) {

    public Handshake {
        pathParameters = Collections.unmodifiableMap(new LinkedHashMap<>(pathParameters));
        queryParameters = immutable(queryParameters, new LinkedHashMap<>());
        headers = immutable(headers, new TreeMap<>(String.CASE_INSENSITIVE_ORDER));
    }

    /** Parses a raw query string ({@code a=1&b=x%20y&a=2}); {@code null} or empty gives no parameters. */
    public static Map<String, List<String>> parseQuery(String rawQuery) {
        Map<String, List<String>> result = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return result;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            try {
                name = URLDecoder.decode(name, StandardCharsets.UTF_8);
                value = URLDecoder.decode(value, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException malformed) {
                continue; // a malformed escape: the pair is ignored, like most servers do
            }
            result.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return result;
    }

    private static Map<String, List<String>> immutable(Map<String, List<String>> source,
                                                       Map<String, List<String>> target) {
        for (Map.Entry<String, List<String>> entry : source.entrySet()) {
            target.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).addAll(entry.getValue());
        }
        target.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(target);
    }
}
