/**
 * Testing routers with no network: {@link io.github.wsrouter.testkit.TestServer} mounts routers on
 * path templates, {@link io.github.wsrouter.testkit.TestClient} plays the peer of one connection.
 * Independent of any test framework: failed expectations throw {@link java.lang.AssertionError}.
 */
package io.github.wsrouter.testkit;
