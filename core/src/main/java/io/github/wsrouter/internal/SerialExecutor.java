package io.github.wsrouter.internal;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Runs tasks one at a time, in submission order, on a delegate executor: the per-connection
 * ordering guarantee of {@code MessageRouter}.
 *
 * <p>With an inline delegate ({@code Runnable::run}) the submitting thread runs the task, unless
 * a task of this executor is already running; then the task is queued and the running drain
 * picks it up after the current task returns. So a task that submits another (a router that
 * closes its own connection) never nests callbacks.
 *
 * <p>A task that throws does not stop the queue: the exception is passed to the uncaught
 * exception handler of the running thread and the next task runs.
 */
public final class SerialExecutor implements Executor {

    private final Executor delegate;
    /** Tasks waiting behind the running one, created the first time one must wait. Guarded by this. */
    private ArrayDeque<Runnable> waiting;
    /** Whether a drain has been handed to the delegate and has not finished. Guarded by this. */
    private boolean draining;

    public SerialExecutor(Executor delegate) {
        this.delegate = delegate;
    }

    /** A serial executor that runs tasks on the submitting thread. */
    public static SerialExecutor inline() {
        return new SerialExecutor(Runnable::run);
    }

    // Every open connection has one of these, so it is kept small: two fields and a queue that
    // exists only once a task had to wait (most connections never need it with an inline delegate).
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        Runnable first;
        synchronized (this) {
            if (draining) {
                queue().add(task);
                return;
            }
            draining = true;
            if (waiting != null && !waiting.isEmpty()) {
                waiting.add(task); // left by a rejected drain: they go first
                first = null;
            } else {
                first = task;
            }
        }
        try {
            delegate.execute(() -> drain(first));
        } catch (RuntimeException rejected) {
            synchronized (this) {
                draining = false;
                if (first == null) {
                    waiting.removeLastOccurrence(task);
                }
            }
            throw rejected;
        }
    }

    private ArrayDeque<Runnable> queue() {
        if (waiting == null) {
            waiting = new ArrayDeque<>(4);
        }
        return waiting;
    }

    private void drain(Runnable first) {
        Runnable task = first;
        for (; ; ) {
            if (task != null) {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    Thread current = Thread.currentThread();
                    current.getUncaughtExceptionHandler().uncaughtException(current, e);
                }
            }
            synchronized (this) {
                task = waiting == null ? null : waiting.poll();
                if (task == null) {
                    draining = false;
                    return;
                }
            }
        }
    }
}
