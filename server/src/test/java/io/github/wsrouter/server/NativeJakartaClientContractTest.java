package io.github.wsrouter.server;

import java.net.URI;

/** The contract suite against the native Undertow adapter, with the Jakarta WebSocket client. */
class NativeJakartaClientContractTest extends ServerContractTest {

    @Override
    boolean jakartaAdapter() {
        return false;
    }

    @Override
    Peer connect(URI uri) {
        return JakartaPeer.connect(uri);
    }
}
