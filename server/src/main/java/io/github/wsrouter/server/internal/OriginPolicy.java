package io.github.wsrouter.server.internal;

import java.net.URI;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser origins may open a WebSocket: the defence against cross-site WebSocket hijacking.
 *
 * <p>A request whose {@code Origin} is the server's own (scheme-less comparison of host and port
 * against the {@code Host} header) is allowed; so is one on the allow-list, or any when the list
 * holds {@code *}. {@code Origin: null} (sandboxed pages, files) is refused unless {@code *} or
 * {@code null} is listed. A request without {@code Origin} comes from a non-browser client and is
 * allowed unless {@link #requireOrigin} is set.
 */
public final class OriginPolicy {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    private final Set<String> allowed;
    private final boolean any;
    private final boolean requireOrigin;

    public OriginPolicy(Set<String> allowed, boolean requireOrigin) {
        this.allowed = allowed.stream().map(OriginPolicy::normalize).collect(Collectors.toUnmodifiableSet());
        this.any = allowed.contains("*");
        this.requireOrigin = requireOrigin;
    }

    public static OriginPolicy sameOrigin() {
        return new OriginPolicy(Set.of(), false);
    }

    /** Whether a handshake with this {@code Origin} and {@code Host} may proceed. */
    boolean allows(String origin, String host) {
        if (origin == null) {
            return !requireOrigin;
        }
        if (any) {
            return true;
        }
        String normalized = normalize(origin);
        if (allowed.contains(normalized)) {
            return true;
        }
        if (normalized.equals("null") || host == null) {
            return false;
        }
        return authority(normalized).equals(hostAuthority(host, normalized.startsWith("https:")));
    }

    /**
     * Refuses the exchange with 403 when its origin is not allowed.
     *
     * @return whether the exchange was refused (and answered)
     */
    public boolean refuse(io.undertow.server.HttpServerExchange exchange, Rejections rejections) {
        String origin = exchange.getRequestHeaders().getFirst(io.undertow.util.Headers.ORIGIN);
        if (allows(origin, exchange.getRequestHeaders().getFirst(io.undertow.util.Headers.HOST))) {
            return false;
        }
        rejections.count("origin");
        LOG.log(
                System.Logger.Level.INFO,
                () -> "refused WebSocket handshake to " + exchange.getRequestPath()
                        + (origin == null ? ": no Origin" : " from origin " + origin + ": origin not allowed")
                        + " (403)");
        exchange.setStatusCode(io.undertow.util.StatusCodes.FORBIDDEN);
        exchange.getResponseHeaders().put(io.undertow.util.Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseSender().send("Origin not allowed.\n");
        return true;
    }

    /** Lower-case, without a trailing slash. */
    private static String normalize(String origin) {
        String o = origin.trim().toLowerCase(Locale.ROOT);
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }

    /** host:port of an origin, with the scheme's default port. */
    private static String authority(String origin) {
        // An origin is scheme://host[:port]: read by hand, as every handshake from a browser asks
        // this; anything unusual (user info, a path, odd characters) goes through URI.
        int schemeEnd = origin.indexOf("://");
        if (schemeEnd > 0) {
            String rest = origin.substring(schemeEnd + 3);
            int colon = rest.lastIndexOf(':');
            boolean bracketed = rest.startsWith("[");
            if (bracketed && colon < rest.indexOf(']')) {
                colon = -1;
            }
            String host = colon < 0 ? rest : rest.substring(0, colon);
            String port = colon < 0 ? "" : rest.substring(colon + 1);
            if (!host.isEmpty()
                    && plainHost(host, bracketed)
                    && port.chars().allMatch(c -> c >= '0' && c <= '9')
                    && port.length() <= 5) {
                String scheme = origin.substring(0, schemeEnd);
                int number = port.isEmpty() ? ("https".equals(scheme) ? 443 : 80) : Integer.parseInt(port);
                return host + ":" + number;
            }
        }
        try {
            URI uri = URI.create(origin);
            if (uri.getHost() == null) {
                return "";
            }
            int port = uri.getPort() >= 0 ? uri.getPort() : ("https".equals(uri.getScheme()) ? 443 : 80);
            return uri.getHost() + ":" + port;
        } catch (IllegalArgumentException malformed) {
            return "";
        }
    }

    /** Whether a host is a plain name, IPv4 address or bracketed IPv6 address. */
    private static boolean plainHost(String host, boolean bracketed) {
        if (bracketed) {
            return host.endsWith("]")
                    && host.chars()
                            .skip(1)
                            .limit(host.length() - 2L)
                            .allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0);
        }
        return host.chars().allMatch(c -> c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
    }

    /** host:port of a Host header. */
    private static String hostAuthority(String host, boolean secure) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        boolean hasPort = colon > h.lastIndexOf(']');
        return hasPort ? h : h + ":" + (secure ? 443 : 80);
    }
}
