package io.github.wsrouter.internal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class SerialExecutorTest {

    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private final ExecutorService pool = Executors.newFixedThreadPool(8, task -> {
        Thread thread = new Thread(task, "serial-executor-test");
        thread.setDaemon(true);
        thread.setUncaughtExceptionHandler((t, e) -> uncaught.add(e));
        return thread;
    });

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    @Test
    void tasksFromManySubmittersRunOneAtATimeInSubmissionOrder() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        int submitters = 8;
        int perSubmitter = 2000;
        AtomicInteger running = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        Queue<int[]> ran = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(submitters * perSubmitter);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService submitterPool = Executors.newFixedThreadPool(submitters);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int s = 0; s < submitters; s++) {
                int submitter = s;
                futures.add(submitterPool.submit(() -> {
                    start.await(5, SECONDS);
                    for (int i = 0; i < perSubmitter; i++) {
                        int seq = i;
                        serial.execute(() -> {
                            if (running.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            ran.add(new int[] {submitter, seq});
                            running.decrementAndGet();
                            done.countDown();
                        });
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(5, SECONDS);
            }
            assertThat(done.await(5, SECONDS)).isTrue();
        } finally {
            submitterPool.shutdownNow();
        }

        assertThat(overlaps.get()).as("tasks running at once").isZero();
        assertThat(ran).hasSize(submitters * perSubmitter);
        Map<Integer, Integer> last = new HashMap<>();
        for (int[] task : ran) {
            Integer previous = last.put(task[0], task[1]);
            assertThat(task[1]).as("task of submitter " + task[0]).isEqualTo(previous == null ? 0 : previous + 1);
        }
        assertThat(uncaught).isEmpty();
    }

    @Test
    void tasksOfOneSubmitterOnAPoolRunInOrder() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        List<Integer> order = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1000);

        for (int i = 0; i < 1000; i++) {
            int n = i;
            serial.execute(() -> {
                order.add(n);
                done.countDown();
            });
        }

        assertThat(done.await(5, SECONDS)).isTrue();
        assertThat(order).isSorted().hasSize(1000);
    }

    @Test
    void taskThatThrowsDoesNotStopLaterTasks() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        CountDownLatch after = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("boom");

        serial.execute(() -> {
            throw boom;
        });
        serial.execute(after::countDown);

        assertThat(after.await(5, SECONDS)).isTrue();
        assertThat(uncaught).containsExactly(boom);
    }

    @Test
    void taskThatThrowsAnErrorDoesNotStopLaterTasksEither() throws Exception {
        SerialExecutor serial = new SerialExecutor(pool);
        CountDownLatch after = new CountDownLatch(1);

        serial.execute(() -> {
            throw new AssertionError("failed check");
        });
        serial.execute(after::countDown);

        assertThat(after.await(5, SECONDS)).isTrue();
        assertThat(uncaught).singleElement().isInstanceOf(AssertionError.class);
    }

    @Test
    void inlineTaskThatSubmitsAnotherRunsItAfterTheCurrentOneNotNested() {
        SerialExecutor serial = SerialExecutor.inline();
        List<String> events = new ArrayList<>();

        serial.execute(() -> {
            events.add("outer start");
            serial.execute(() -> {
                events.add("inner");
                serial.execute(() -> events.add("innermost"));
                events.add("inner end");
            });
            events.add("outer end");
        });

        assertThat(events).containsExactly("outer start", "outer end", "inner", "inner end", "innermost");
    }

    @Test
    void inlineRunsOnTheSubmittingThreadBeforeExecuteReturns() {
        SerialExecutor serial = SerialExecutor.inline();
        AtomicBoolean ran = new AtomicBoolean();
        Thread caller = Thread.currentThread();
        List<Thread> threads = new ArrayList<>();

        serial.execute(() -> {
            threads.add(Thread.currentThread());
            ran.set(true);
        });

        assertThat(ran).isTrue();
        assertThat(threads).containsExactly(caller);
    }

    @Test
    void inlineTaskThatThrowsDoesNotStopTheTaskItSubmitted() {
        SerialExecutor serial = SerialExecutor.inline();
        List<String> events = new ArrayList<>();
        Thread.UncaughtExceptionHandler previous = Thread.currentThread().getUncaughtExceptionHandler();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> events.add("uncaught:" + e.getMessage()));
        try {
            serial.execute(() -> {
                serial.execute(() -> events.add("next"));
                throw new IllegalStateException("boom");
            });
        } finally {
            Thread.currentThread().setUncaughtExceptionHandler(previous);
        }

        assertThat(events).containsExactly("uncaught:boom", "next");
    }

    @Test
    void rejectedSubmissionThrowsAndLeavesTheExecutorUsable() {
        AtomicBoolean reject = new AtomicBoolean(true);
        SerialExecutor serial = new SerialExecutor(task -> {
            if (reject.get()) {
                throw new RejectedExecutionException("full");
            }
            task.run();
        });
        List<String> events = new ArrayList<>();

        assertThatThrownBy(() -> serial.execute(() -> events.add("rejected")))
                .isInstanceOf(RejectedExecutionException.class);
        reject.set(false);
        serial.execute(() -> events.add("accepted"));

        assertThat(events).containsExactly("accepted");
    }
}
