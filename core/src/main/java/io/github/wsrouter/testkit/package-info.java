/**
 * Testing routers with no network: {@link io.github.wsrouter.testkit.TestServer} mounts routers on
 * path templates, with the route options that mean something in memory, and opens connections
 * (with headers through {@link io.github.wsrouter.testkit.TestServer#request(String)});
 * {@link io.github.wsrouter.testkit.TestClient} plays the peer of one connection. Callbacks run on
 * the calling thread unless a route has an executor. Independent of any test framework: failed
 * expectations throw {@link java.lang.AssertionError} saying what was expected and what came.
 */
package io.github.wsrouter.testkit;
