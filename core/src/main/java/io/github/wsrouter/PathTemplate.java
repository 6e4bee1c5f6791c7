package io.github.wsrouter;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A route's path, such as {@code /ws/{username}/} or {@code /rooms/{room}/}: literal segments
 * and whole-segment parameters.
 *
 * <h2>Matching</h2>
 * A path matches when it has the same number of segments, each literal segment equals the
 * path's (after percent-decoding) and each parameter segment is non-empty. A trailing slash is
 * optional on both sides: {@code /ws/alice} and {@code /ws/alice/} both match {@code
 * /ws/{username}/}. Parameter values are percent-decoded as UTF-8 ({@code %C3%A9} is {@code é};
 * {@code +} stays {@code +}); a path with a malformed escape or invalid UTF-8 matches nothing.
 *
 * <h2>Precedence and collisions</h2>
 * Where two templates match one path, the one with a literal segment at the first position where
 * they differ wins: {@code /rooms/lobby/} before {@code /rooms/{room}/}. Two templates that
 * differ only in parameter names match the same paths and {@link #collidesWith collide}; route
 * tables refuse the second of them.
 */
public final class PathTemplate {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern LITERAL = Pattern.compile("[A-Za-z0-9\\-._~!$&'()*+,;=:@]+");

    private final String template;
    /** Literal text, or {@code null} where the segment is a parameter. */
    private final String[] literals;
    /** Parameter name, or {@code null} where the segment is a literal. */
    private final String[] names;

    private final List<String> parameterNames;

    private PathTemplate(String template, String[] literals, String[] names) {
        this.template = template;
        this.literals = literals;
        this.names = names;
        List<String> params = new ArrayList<>();
        for (String name : names) {
            if (name != null) {
                params.add(name);
            }
        }
        this.parameterNames = Collections.unmodifiableList(params);
    }

    /**
     * Parses a template.
     *
     * @throws IllegalArgumentException with the offending part, if the template does not start
     *     with {@code /}, has an empty segment, a brace that is not a whole segment, a parameter
     *     name that is not an identifier, a parameter used twice, or characters that are not
     *     allowed in a path segment
     */
    public static PathTemplate parse(String template) {
        if (template == null || !template.startsWith("/")) {
            throw new IllegalArgumentException("path template must start with '/': " + template);
        }
        List<String> segments = split(template);
        String[] literals = new String[segments.size()];
        String[] names = new String[segments.size()];
        for (int i = 0; i < segments.size(); i++) {
            String segment = segments.get(i);
            if (segment.isEmpty()) {
                throw new IllegalArgumentException("path template has an empty segment: " + template);
            }
            if (segment.startsWith("{") && segment.endsWith("}")) {
                String name = segment.substring(1, segment.length() - 1);
                if (!NAME.matcher(name).matches()) {
                    throw new IllegalArgumentException(
                            "path template parameter '" + name + "' is not a name (letters, digits, '_'): " + template);
                }
                for (String existing : names) {
                    if (name.equals(existing)) {
                        throw new IllegalArgumentException(
                                "path template uses parameter '" + name + "' twice: " + template);
                    }
                }
                names[i] = name;
            } else if (segment.indexOf('{') >= 0 || segment.indexOf('}') >= 0) {
                throw new IllegalArgumentException("path template parameter must be a whole segment, "
                        + "like /rooms/{room}/, not '" + segment + "': " + template);
            } else if (!LITERAL.matcher(segment).matches()) {
                throw new IllegalArgumentException(
                        "path template segment '" + segment + "' has characters not allowed in a path: " + template);
            } else {
                literals[i] = segment;
            }
        }
        return new PathTemplate(template, literals, names);
    }

    /** The names of the parameters, in order of appearance. */
    public List<String> parameterNames() {
        return parameterNames;
    }

    /**
     * Matches a request path (without query string, not yet decoded).
     *
     * @return the decoded parameters in template order, or {@code null} if the path does not match
     */
    public Map<String, String> match(String rawPath) {
        if (rawPath == null) {
            return null;
        }
        if (rawPath.isEmpty()) {
            rawPath = "/";
        }
        if (rawPath.charAt(0) != '/') {
            return null;
        }
        List<String> segments = split(rawPath);
        if (segments.size() != literals.length) {
            return null;
        }
        Map<String, String> params = parameterNames.isEmpty() ? Map.of() : new LinkedHashMap<>();
        for (int i = 0; i < literals.length; i++) {
            String value = decode(segments.get(i));
            if (value == null || value.isEmpty()) {
                return null;
            }
            if (literals[i] != null) {
                if (!literals[i].equals(value)) {
                    return null;
                }
            } else {
                params.put(names[i], value);
            }
        }
        return params.isEmpty() ? Map.of() : Collections.unmodifiableMap(params);
    }

    /** Whether both templates match exactly the same paths (they differ at most in parameter names). */
    public boolean collidesWith(PathTemplate other) {
        if (other.literals.length != literals.length) {
            return false;
        }
        for (int i = 0; i < literals.length; i++) {
            boolean bothParams = literals[i] == null && other.literals[i] == null;
            boolean sameLiteral = literals[i] != null && literals[i].equals(other.literals[i]);
            if (!bothParams && !sameLiteral) {
                return false;
            }
        }
        return true;
    }

    /**
     * Orders templates so that, of those matching one path, the more specific comes first: a
     * literal segment before a parameter at the first position where they differ.
     */
    public int compareSpecificity(PathTemplate other) {
        int n = Math.min(literals.length, other.literals.length);
        for (int i = 0; i < n; i++) {
            boolean mine = literals[i] != null;
            boolean theirs = other.literals[i] != null;
            if (mine != theirs) {
                return mine ? -1 : 1;
            }
        }
        return Integer.compare(literals.length, other.literals.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PathTemplate other && template.equals(other.template);
    }

    @Override
    public int hashCode() {
        return template.hashCode();
    }

    /** The template as written. */
    @Override
    public String toString() {
        return template;
    }

    /**
     * Segments between slashes, ignoring the leading slash and one trailing slash ({@code //} is
     * two empty segments, not the root).
     */
    private static List<String> split(String path) {
        int end = path.length();
        if (end > 2 && path.charAt(end - 1) == '/') {
            end--;
        }
        List<String> segments = new ArrayList<>();
        if (end <= 1) {
            return segments;
        }
        int start = 1;
        for (int i = 1; i <= end; i++) {
            if (i == end || path.charAt(i) == '/') {
                segments.add(path.substring(start, i));
                start = i + 1;
            }
        }
        return segments;
    }

    /** Percent-decodes one segment as UTF-8, or returns {@code null} if it is malformed. */
    static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        ByteBuffer bytes = ByteBuffer.allocate(segment.length() * 3);
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '%') {
                if (i + 2 >= segment.length()) {
                    return null;
                }
                int hi = hexDigit(segment.charAt(i + 1));
                int lo = hexDigit(segment.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.put((byte) ((hi << 4) | lo));
                i += 2;
            } else if (c < 0x80) {
                bytes.put((byte) c);
            } else {
                int codePoint = segment.codePointAt(i);
                bytes.put(StandardCharsets.UTF_8.encode(new String(Character.toChars(codePoint))));
                i += Character.charCount(codePoint) - 1;
            }
        }
        bytes.flip();
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The value of an ASCII hex digit (RFC 3986 HEXDIG), or -1; {@link Character#digit} takes other scripts too. */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    }
}
