package io.github.wsrouter.server;

import java.net.URI;

/** The contract suite against the Jakarta adapter, with the Jakarta WebSocket client. */
class JakartaJakartaClientContractTest extends ServerContractTest {

    @Override
    boolean jakartaAdapter() {
        return true;
    }

    @Override
    Peer connect(URI uri) {
        return JakartaPeer.connect(uri);
    }
}
