package io.github.wsrouter.spi;

import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.HandshakeRequest;
import io.github.wsrouter.MessageRouter;
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
 * header names case-insensitive; and the attributes the handshake decisions attached.
 */
public record Handshake(
        String path,
        Map<String, String> pathParameters,
        Map<String, List<String>> queryParameters,
        Map<String, List<String>> headers,
        Map<String, Object> attributes)
        implements HandshakeRequest {

    public Handshake {
        // Copied once: a handshake made from another's maps (a decision, a relay) shares them.
        // Empty maps are shared too: every open connection keeps its parameters, most have none.
        if (!(pathParameters instanceof Frozen)) {
            pathParameters = pathParameters.isEmpty()
                    ? Collections.emptyMap()
                    : new Frozen<>(new LinkedHashMap<>(pathParameters));
        }
        if (!(queryParameters instanceof Frozen)) {
            queryParameters = queryParameters.isEmpty() ? Collections.emptyMap() : immutable(queryParameters);
        }
        if (!(headers instanceof PairHeaders)) {
            headers = headers(headers.entrySet());
        }
        attributes = Map.copyOf(attributes);
    }

    /**
     * Headers for a handshake, from a source of names with their values: kept as a flat array of
     * names and values, which {@link Handshake} keeps as it is and a connection keeps after the
     * handshake. The case-insensitive map is built on first use: most handshakes never read it.
     */
    public static Map<String, List<String>> headers(
            Iterable<? extends Map.Entry<String, ? extends java.util.Collection<String>>> source) {
        List<String> pairs = new ArrayList<>();
        for (Map.Entry<String, ? extends java.util.Collection<String>> entry : source) {
            for (String value : entry.getValue()) {
                pairs.add(entry.getKey());
                pairs.add(value);
            }
        }
        return new PairHeaders(pairs.toArray(new String[0]));
    }

    /** The read-only, case-insensitive map of headers given as name, value, name, value... */
    public static Map<String, List<String>> headerMap(String[] pairs) {
        Map<String, List<String>> target = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < pairs.length; i += 2) {
            target.computeIfAbsent(pairs[i], k -> new ArrayList<>(1)).add(pairs[i + 1]);
        }
        target.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(target);
    }

    /** A handshake's headers as name, value, name, value... (the array is shared: do not change it). */
    public static String[] pairs(Map<String, List<String>> headers) {
        return ((PairHeaders) headers).pairs;
    }

    /** Headers as a flat array; the map view, case-insensitive and read-only, is made on first use. */
    private static final class PairHeaders extends ReadOnly<List<String>> {
        private final String[] pairs;
        private volatile Map<String, List<String>> map;

        PairHeaders(String[] pairs) {
            this.pairs = pairs;
        }

        @Override
        Map<String, List<String>> map() {
            Map<String, List<String>> built = map;
            if (built == null) {
                built = headerMap(pairs);
                map = built;
            }
            return built;
        }
    }

    /** A map copied in and never changed again, read-only outside. */
    private static final class Frozen<V> extends ReadOnly<V> {
        private final Map<String, V> view;

        Frozen(Map<String, V> owned) {
            this.view = Collections.unmodifiableMap(owned);
        }

        @Override
        Map<String, V> map() {
            return view;
        }
    }

    /** A read-only map over another, which its subclass gives. */
    private abstract static class ReadOnly<V> extends java.util.AbstractMap<String, V> {
        abstract Map<String, V> map();

        @Override
        public V get(Object key) {
            return map().get(key);
        }

        @Override
        public boolean containsKey(Object key) {
            return map().containsKey(key);
        }

        @Override
        public int size() {
            return map().size();
        }

        @Override
        public java.util.Set<Map.Entry<String, V>> entrySet() {
            return map().entrySet();
        }

        @Override
        public java.util.Set<String> keySet() {
            return map().keySet();
        }

        @Override
        public java.util.Collection<V> values() {
            return map().values();
        }
    }

    /** The key of the decided identity among the handshake's attributes; never a connection attribute. */
    public static final String IDENTITY = "wsrouter.identity";

    /** The key of the chosen subprotocol among the handshake's attributes; never a connection attribute. */
    public static final String SUBPROTOCOL = "wsrouter.subprotocol";

    public Handshake(
            String path,
            Map<String, String> pathParameters,
            Map<String, List<String>> queryParameters,
            Map<String, List<String>> headers) {
        this(path, pathParameters, queryParameters, headers, Map.of());
    }

    @Override
    public String identity() {
        return attributes.get(IDENTITY) instanceof String s ? s : null;
    }

    /** The subprotocol the decisions chose, to echo in the 101 response; or {@code null}. */
    public String chosenSubprotocol() {
        return attributes.get(SUBPROTOCOL) instanceof String s ? s : null;
    }

    /**
     * Runs the server's hook, then the router's {@code onHandshake}, and merges what they attach.
     * A hook or router that throws refuses the handshake with 500 (and is logged).
     *
     * @return the refusal, or this handshake with the accepted identity and attributes
     */
    public Decided decide(HandshakeHook hook, MessageRouter router) {
        Handshake current = this;
        for (int step = 0; step < 2; step++) {
            HandshakeDecision decision;
            try {
                decision = step == 0
                        ? (hook == null ? HandshakeDecision.accept() : hook.onHandshake(current))
                        : router.onHandshake(current);
            } catch (RuntimeException e) {
                String who =
                        step == 0 ? "hook" : "of router " + router.getClass().getName();
                LOG.log(
                        System.Logger.Level.WARNING,
                        () -> "handshake " + who + " threw for " + path + "; refusing with 500",
                        e);
                decision = HandshakeDecision.reject(500, "internal error");
            }
            if (decision == null) {
                decision = HandshakeDecision.accept();
            }
            if (decision.isRejected()) {
                return new Decided(null, decision);
            }
            if (decision.subprotocol() == null
                    && decision.identity() == null
                    && decision.attributes().isEmpty()) {
                continue; // a plain accept: nothing to merge
            }
            if (decision.subprotocol() != null && !current.subprotocols().contains(decision.subprotocol())) {
                String who = step == 0 ? "hook" : "router " + router.getClass().getName();
                String chosen = decision.subprotocol();
                LOG.log(
                        System.Logger.Level.WARNING,
                        () -> "handshake " + who + " chose subprotocol " + chosen
                                + " that the client did not offer; refusing with 500");
                return new Decided(null, HandshakeDecision.reject(500, "internal error"));
            }
            Map<String, Object> merged = new LinkedHashMap<>(current.attributes);
            merged.putAll(decision.attributes());
            if (decision.identity() != null) {
                merged.put(IDENTITY, decision.identity());
            }
            if (decision.subprotocol() != null) {
                merged.put(SUBPROTOCOL, decision.subprotocol());
            }
            current = new Handshake(path, pathParameters, queryParameters, headers, merged);
        }
        return new Decided(current, null);
    }

    /** The outcome of {@link #decide}: an accepted handshake, or a refusal. */
    public record Decided(Handshake accepted, HandshakeDecision refusal) {}

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter");

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

    private static Map<String, List<String>> immutable(Map<String, List<String>> source) {
        Map<String, List<String>> target = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> entry : source.entrySet()) {
            target.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).addAll(entry.getValue());
        }
        target.replaceAll((k, v) -> List.copyOf(v));
        return new Frozen<>(target);
    }
}
