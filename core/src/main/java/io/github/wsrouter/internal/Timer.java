package io.github.wsrouter.internal;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One daemon thread for the routers' short delays (the presence batching window): made at the
 * first use, shared by every router of the JVM. What runs on it must be short and never block.
 */
public final class Timer {

    private static final class Holder {
        static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "wsrouter-timer");
            thread.setDaemon(true);
            return thread;
        });
    }

    private Timer() {}

    /** Runs the task once after the delay. */
    public static void after(long millis, Runnable task) {
        Holder.TIMER.schedule(task, millis, TimeUnit.MILLISECONDS);
    }
}
