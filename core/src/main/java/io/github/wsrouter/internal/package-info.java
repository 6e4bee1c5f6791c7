/**
 * Shared machinery of the transports: not API. Classes here may change in any release; use them
 * only from wsrouter's own modules.
 */
package io.github.wsrouter.internal;
