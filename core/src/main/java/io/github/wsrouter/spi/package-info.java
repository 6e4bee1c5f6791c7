/**
 * The transport SPI: what a transport (the native Undertow adapter, the Jakarta adapter, the
 * in-memory test kit) implements and calls to carry connections for the routers. Not for
 * applications: an application uses {@code io.github.wsrouter} and a server module. The types
 * here may change in a minor release; see {@code docs/architecture.md} for the contract.
 *
 * <p>{@link io.github.wsrouter.spi.AbstractConnection} is the seam: a transport subclasses it,
 * reports what its socket does ({@code deliverText}, {@code closed}, ...) and writes what the
 * connection's one send queue hands it: batches of {@link io.github.wsrouter.spi.OutboundFrame}s
 * ({@code write}), each written, flushed once and called back per frame or per batch, drained on the
 * thread the transport chooses ({@code framesWaiting}, {@code drain}). The closes the server starts
 * ({@code closeForViolation}, {@code closeReceived}, {@code drop}, a slow consumer) go through the
 * connection too, which records the status the router hears. {@link io.github.wsrouter.spi.Handshake} carries a
 * handshake's data through the hook and into the connection; {@link
 * io.github.wsrouter.spi.RouteTable}, {@link io.github.wsrouter.spi.LiveConnections} and {@link
 * io.github.wsrouter.spi.RouteCounters} are the registries and counters a transport keeps per
 * route; {@link io.github.wsrouter.spi.SendLimits} is a route's resolved send-side limits.
 */
package io.github.wsrouter.spi;
