package io.github.wsrouter.server.internal;

import io.undertow.server.ServerConnection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Tells the Jakarta adapter that an upgrade failed before the container opened its session: the
 * HTTP connection closed (the client went before or while the 101 was written), so the endpoint's
 * {@code onOpen} never comes. {@code JakartaTransport} watches each upgrade it relays, under the
 * handshake's relay key; the endpoint configurator takes the watch in {@code modifyHandshake}, where
 * the connection is opened before the 101. Not API.
 */
public final class UpgradeWatch {

    private static final ConcurrentMap<String, UpgradeWatch> WATCHES = new ConcurrentHashMap<>();

    private Runnable onFailure; // guarded by this
    private boolean failed; // guarded by this

    private UpgradeWatch() {}

    /** Watches the upgrade relayed under the key, on the HTTP connection that carries it. */
    public static void watch(String key, ServerConnection http) {
        UpgradeWatch watch = new UpgradeWatch();
        WATCHES.put(key, watch);
        http.addCloseListener(closed -> {
            WATCHES.remove(key, watch);
            watch.fail();
        });
    }

    /** The watch of the upgrade relayed under the key, once; {@code null} if none (or it failed already and was forgotten). */
    public static UpgradeWatch take(String key) {
        return key == null ? null : WATCHES.remove(key);
    }

    /**
     * Runs the action when the HTTP connection closes, at once if it has already closed. Also after
     * a successful upgrade: the action must ignore a failure that comes after the session opened.
     */
    public void onFailure(Runnable action) {
        boolean now;
        synchronized (this) {
            onFailure = action;
            now = failed;
        }
        if (now) {
            action.run();
        }
    }

    private void fail() {
        Runnable action;
        synchronized (this) {
            failed = true;
            action = onFailure;
        }
        if (action != null) {
            action.run();
        }
    }
}
