package io.github.wsrouter.server;

import java.net.URI;

/** The contract suite against the native Undertow adapter, with the JDK's WebSocket client. */
class NativeJdkClientContractTest extends ServerContractTest {

    @Override
    boolean jakartaAdapter() {
        return false;
    }

    @Override
    Peer connect(URI uri) {
        return jdkClient(uri);
    }
}
