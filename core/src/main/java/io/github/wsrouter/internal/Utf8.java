package io.github.wsrouter.internal;

/** The UTF-8 length of texts, for the send buffer's accounting. */
public final class Utf8 {

    /** The last text counted and its length: a broadcast sends one string to many connections. */
    private record Counted(String text, int length) {}

    private static volatile Counted last = new Counted("", 0);

    private Utf8() {}

    /** The number of bytes {@code text.getBytes(UTF_8)} has, without making them. */
    public static int length(String text) {
        Counted counted = last;
        if (counted.text == text) {
            return counted.length;
        }
        int length = count(text);
        if (text.length() > 64) { // short texts are counted faster than a cache line moves between cores
            last = new Counted(text, length);
        }
        return length;
    }

    private static int count(String text) {
        int n = text.length();
        int bytes = n;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                if (c < 0x800) {
                    bytes += 1;
                } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    bytes += 2; // 4 bytes for the pair's 2 chars
                    i++;
                } else if (!Character.isSurrogate(c)) {
                    bytes += 2;
                } // a lone surrogate is encoded as '?', one byte, as String.getBytes(UTF_8) does
            }
        }
        return bytes;
    }
}
