package io.github.wsrouter;

import java.io.IOException;

/**
 * Fails a send whose connection was closed, or closing, before the frame could be written.
 */
public final class ConnectionClosedException extends IOException {

    private static final long serialVersionUID = 1L;

    public ConnectionClosedException(String message) {
        super(message);
    }
}
