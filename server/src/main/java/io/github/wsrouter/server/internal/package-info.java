/** Undertow machinery shared by the server's adapters: not API. */
package io.github.wsrouter.server.internal;
