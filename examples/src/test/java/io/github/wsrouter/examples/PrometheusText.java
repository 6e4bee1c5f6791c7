package io.github.wsrouter.examples;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict parser of Prometheus' text exposition format, version 0.0.4 (the format of
 * {@code text/plain; version=0.0.4}), for tests: it throws {@link IllegalArgumentException} on the
 * first line the format does not allow, naming the line. The Prometheus Java client libraries
 * write this format but do not read it.
 *
 * <p>Checked: every line ends with a line feed; {@code # HELP name text} and {@code # TYPE name
 * type} (one of {@code counter gauge histogram summary untyped}) at most once per name and before
 * that family's samples; other {@code #} lines are comments. A sample is {@code name[{labels}]
 * value [timestamp]}: names {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, label names
 * {@code [a-zA-Z_][a-zA-Z0-9_]*}, not repeated, label values in double quotes with only
 * {@code \\ \" \n} escapes, a value that is a float, {@code NaN}, {@code +Inf} or {@code -Inf}, an
 * optional integer timestamp. A sample belongs to the family declared last when its name is the
 * family's or, by type, the family's plus {@code _total}/{@code _created} (counter),
 * {@code _bucket}/{@code _sum}/{@code _count}/{@code _created} (histogram, summary); each family's
 * lines come as one group, and no series (name and labels) appears twice. A family declared by
 * {@code # HELP} or {@code # TYPE} with no sample is allowed, as Prometheus allows it.
 */
final class PrometheusText {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT =
            Pattern.compile("[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf");
    private static final Pattern TIMESTAMP = Pattern.compile("-?[0-9]+");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    /** One sample: a series and its value. */
    record Sample(String name, Map<String, String> labels, double value) {}

    /** A metric family: its name, type, help text and samples, in the order written. */
    record Family(String name, String type, String help, List<Sample> samples) {}

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final Set<String> closed = new HashSet<>();
    private final Set<String> series = new HashSet<>();
    private final Map<String, String> pendingHelp = new LinkedHashMap<>();
    private final Map<String, String> pendingType = new LinkedHashMap<>();
    private Family current;
    private int lineNumber;

    private PrometheusText() {}

    /** The families of a whole exposition, by name, in the order they appear. */
    static Map<String, Family> parse(String text) {
        PrometheusText parser = new PrometheusText();
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the exposition does not end with a line feed");
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            parser.lineNumber = i + 1;
            parser.line(lines[i]);
        }
        return Collections.unmodifiableMap(parser.families);
    }

    private void line(String line) {
        if (line.isEmpty()) {
            return;
        }
        if (line.startsWith("#")) {
            comment(line);
        } else {
            sample(line);
        }
    }

    private void comment(String line) {
        String[] tokens = line.split("[ \t]+", 4);
        if (tokens.length < 3 || !tokens[0].equals("#") || !(tokens[1].equals("HELP") || tokens[1].equals("TYPE"))) {
            return; // an ordinary comment
        }
        String name = tokens[2];
        requireName(name, "metric name");
        String rest = tokens.length == 4 ? tokens[3] : "";
        if (closed.contains(name) || families.containsKey(name)) {
            throw error("# " + tokens[1] + " for " + name + " after its samples");
        }
        if (tokens[1].equals("HELP")) {
            if (pendingHelp.put(name, unescapeHelp(rest)) != null) {
                throw error("a second # HELP for " + name);
            }
        } else {
            if (!TYPES.contains(rest)) {
                throw error("unknown type '" + rest + "' for " + name);
            }
            if (pendingType.put(name, rest) != null) {
                throw error("a second # TYPE for " + name);
            }
        }
    }

    private void sample(String line) {
        int at = 0;
        int nameEnd = at;
        while (nameEnd < line.length()
                && line.charAt(nameEnd) != '{'
                && line.charAt(nameEnd) != ' '
                && line.charAt(nameEnd) != '\t') {
            nameEnd++;
        }
        String name = line.substring(at, nameEnd);
        requireName(name, "metric name");
        at = nameEnd;
        Map<String, String> labels = new LinkedHashMap<>();
        if (at < line.length() && line.charAt(at) == '{') {
            at = labels(line, at + 1, labels);
        }
        String[] rest = line.substring(at).split("[ \t]+", -1);
        // rest[0] is the empty text before the first blank
        if (rest.length < 2 || !rest[0].isEmpty() || rest.length > 3) {
            throw error("expected ' value [timestamp]' after the series");
        }
        if (!FLOAT.matcher(rest[1]).matches()) {
            throw error("not a sample value: '" + rest[1] + "'");
        }
        if (rest.length == 3 && !TIMESTAMP.matcher(rest[2]).matches()) {
            throw error("not a timestamp: '" + rest[2] + "'");
        }
        double value = switch (rest[1]) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(rest[1]);
        };
        Family family = familyOf(name);
        if (!series.add(name + new TreeMap<>(labels))) {
            throw error("the series " + name + labels + " appears twice");
        }
        family.samples().add(new Sample(name, Collections.unmodifiableMap(labels), value));
    }

    /** Reads {@code name="value",...}} from after the brace; returns the index after the closing brace. */
    private int labels(String line, int at, Map<String, String> labels) {
        while (true) {
            if (at < line.length() && line.charAt(at) == '}') {
                return at + 1;
            }
            int eq = line.indexOf('=', at);
            if (eq < 0) {
                throw error("a label without '='");
            }
            String label = line.substring(at, eq);
            requireName(label, "label name");
            if (eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
                throw error("the value of label " + label + " is not quoted");
            }
            StringBuilder value = new StringBuilder();
            int i = eq + 2;
            for (; ; i++) {
                if (i >= line.length()) {
                    throw error("the value of label " + label + " is not closed");
                }
                char c = line.charAt(i);
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (i + 1 >= line.length()) {
                        throw error("a lone backslash in label " + label);
                    }
                    char next = line.charAt(++i);
                    switch (next) {
                        case '\\' -> value.append('\\');
                        case '"' -> value.append('"');
                        case 'n' -> value.append('\n');
                        default -> throw error("the escape \\" + next + " in label " + label);
                    }
                } else {
                    value.append(c);
                }
            }
            if (labels.put(label, value.toString()) != null) {
                throw error("label " + label + " twice in one sample");
            }
            at = i + 1;
            if (at < line.length() && line.charAt(at) == ',') {
                at++;
            } else if (at >= line.length() || line.charAt(at) != '}') {
                throw error("expected ',' or '}' after label " + label);
            }
        }
    }

    /** The family a sample belongs to: the current one, or a new one (declared by # TYPE, or untyped). */
    private Family familyOf(String sampleName) {
        if (current != null && belongs(sampleName, current)) {
            return current;
        }
        String declared = null;
        for (String name : pendingType.keySet()) {
            if (belongs(sampleName, new Family(name, pendingType.get(name), null, List.of()))) {
                declared = name;
            }
        }
        String name = declared != null ? declared : sampleName;
        if (closed.contains(name) || families.containsKey(name)) {
            throw error("the samples of " + name + " are not one group");
        }
        if (current != null) {
            closed.add(current.name());
        }
        String type = pendingType.getOrDefault(name, "untyped");
        String help = pendingHelp.get(name);
        pendingType.remove(name);
        pendingHelp.remove(name);
        // families declared but given no sample: allowed, and over
        closed.addAll(pendingType.keySet());
        closed.addAll(pendingHelp.keySet());
        pendingType.clear();
        pendingHelp.clear();
        current = new Family(name, type, help, new ArrayList<>());
        families.put(name, current);
        return current;
    }

    private static boolean belongs(String sampleName, Family family) {
        String name = family.name();
        if (sampleName.equals(name)) {
            return true;
        }
        List<String> suffixes = switch (family.type()) {
            case "counter" -> List.of("_total", "_created");
            case "histogram" -> List.of("_bucket", "_sum", "_count", "_created");
            case "summary" -> List.of("_sum", "_count", "_created");
            default -> List.of();
        };
        return suffixes.stream().anyMatch(suffix -> sampleName.equals(name + suffix));
    }

    private String unescapeHelp(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (i + 1 >= text.length()) {
                throw error("a lone backslash in # HELP");
            }
            char next = text.charAt(++i);
            switch (next) {
                case '\\' -> out.append('\\');
                case 'n' -> out.append('\n');
                default -> throw error("the escape \\" + next + " in # HELP");
            }
        }
        return out.toString();
    }

    private void requireName(String name, String what) {
        Pattern pattern = what.equals("label name") ? LABEL_NAME : METRIC_NAME;
        if (!pattern.matcher(name).matches()) {
            throw error("not a " + what + ": '" + name + "'");
        }
    }

    private IllegalArgumentException error(String message) {
        return new IllegalArgumentException("line " + lineNumber + ": " + message);
    }
}
