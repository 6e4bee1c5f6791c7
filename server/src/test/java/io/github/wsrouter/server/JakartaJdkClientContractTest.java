package io.github.wsrouter.server;

import java.net.URI;

/** The contract suite against the Jakarta adapter, with the JDK's WebSocket client. */
class JakartaJdkClientContractTest extends ServerContractTest {

    @Override
    boolean jakartaAdapter() {
        return true;
    }

    @Override
    Peer connect(URI uri) {
        return jdkClient(uri);
    }
}
