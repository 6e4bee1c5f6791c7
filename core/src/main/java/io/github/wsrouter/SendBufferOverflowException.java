package io.github.wsrouter;

import java.io.IOException;

/** Fails a send that found its connection's send buffer full: the peer reads too slowly. */
public final class SendBufferOverflowException extends IOException {

    private static final long serialVersionUID = 1L;

    public SendBufferOverflowException(String message) {
        super(message);
    }
}
