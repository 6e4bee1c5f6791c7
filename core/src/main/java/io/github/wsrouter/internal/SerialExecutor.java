package io.github.wsrouter.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

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
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();

    public SerialExecutor(Executor delegate) {
        this.delegate = delegate;
    }

    /** A serial executor that runs tasks on the submitting thread. */
    public static SerialExecutor inline() {
        return new SerialExecutor(Runnable::run);
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (draining.compareAndSet(false, true)) {
            try {
                delegate.execute(this::drain);
            } catch (RuntimeException rejected) {
                draining.set(false);
                tasks.remove(task);
                throw rejected;
            }
        }
    }

    private void drain() {
        for (;;) {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    Thread current = Thread.currentThread();
                    current.getUncaughtExceptionHandler().uncaughtException(current, e);
                }
            }
            draining.set(false);
            if (tasks.isEmpty() || !draining.compareAndSet(false, true)) {
                return;
            }
        }
    }
}
