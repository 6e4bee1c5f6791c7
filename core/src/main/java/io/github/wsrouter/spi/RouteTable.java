package io.github.wsrouter.spi;

import io.github.wsrouter.PathTemplate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Routes by path template, most specific first; refuses a template that collides with one
 * already added. Built once at startup, then read-only and safe to share between threads.
 *
 * @param <T> what a route carries
 */
public final class RouteTable<T> {

    /** A matched route: its template, its value and the decoded path parameters. */
    public record Match<T>(PathTemplate template, T value, Map<String, String> parameters) {}

    private record Entry<T>(PathTemplate template, T value) {}

    private final List<Entry<T>> entries = new ArrayList<>();

    /**
     * Adds a route.
     *
     * @throws IllegalArgumentException if the template collides with one already added
     */
    public void add(PathTemplate template, T value) {
        for (Entry<T> entry : entries) {
            if (entry.template.collidesWith(template)) {
                throw new IllegalArgumentException(
                        "route " + template + " collides with route " + entry.template + ": both match the same paths");
            }
        }
        entries.add(new Entry<>(template, value));
        entries.sort((a, b) -> a.template.compareSpecificity(b.template));
    }

    /** The most specific route matching a raw request path, or {@code null}. */
    public Match<T> match(String rawPath) {
        for (Entry<T> entry : entries) {
            Map<String, String> parameters = entry.template.match(rawPath);
            if (parameters != null) {
                return new Match<>(entry.template, entry.value, parameters);
            }
        }
        return null;
    }

    /** The templates in matching order. */
    public List<PathTemplate> templates() {
        return entries.stream().map(Entry::template).toList();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
