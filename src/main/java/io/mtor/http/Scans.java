package io.mtor.http;

import io.mtor.domain.ResultException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where list queries run: a worker pool of their own ({@code maxScans} threads, so that they never hold the
 * workers the rest of the service needs), at most {@code maxScans} at once in the process (503 beyond) and
 * {@code maxScansPerCaller} per caller (429 beyond), each within a time budget. A query stops when its budget
 * ends, when its client goes away (the response closes or times out) or when the service stops.
 */
public final class Scans {

  /** A running query's stop signal, read by the query as it goes. */
  public static final class Budget {
    /** Why a query was stopped. */
    public enum Reason { BUDGET, CLIENT_GONE, SHUTDOWN }

    private final long deadlineNanos;
    private final long budgetMillis;
    private volatile Reason stopped;

    Budget(long budgetMillis) {
      this.budgetMillis = budgetMillis;
      this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
    }

    /** A budget that never ends, for code that runs a query outside a request. */
    public static Budget unlimited() {
      return new Budget(TimeUnit.DAYS.toMillis(365));
    }

    void stop(Reason reason) {
      if (stopped == null) {
        stopped = reason;
      }
    }

    /** @throws Stopped when the query must stop */
    public void check() {
      if (stopped == null && System.nanoTime() - deadlineNanos > 0) {
        stopped = Reason.BUDGET;
      }
      if (stopped != null) {
        throw new Stopped(stopped, budgetMillis);
      }
    }
  }

  /** A query stopped before it finished. */
  public static final class Stopped extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Budget.Reason reason;

    Stopped(Budget.Reason reason, long budgetMillis) {
      super(reason == Budget.Reason.BUDGET ? "its budget of " + budgetMillis + " ms ended" : reason.name(), null, false,
        false);
      this.reason = reason;
    }

    public Budget.Reason reason() {
      return reason;
    }
  }

  private final WorkerExecutor executor;
  private final int maxScans;
  private final int maxPerCaller;
  private final long budgetMillis;
  private final AtomicInteger running = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> byCaller = new ConcurrentHashMap<>();
  private final Set<Budget> budgets = ConcurrentHashMap.newKeySet();

  public Scans(Vertx vertx, int maxScans, int maxPerCaller, long budgetMillis) {
    this.executor = vertx.createSharedWorkerExecutor("mtor-list-" + System.identityHashCode(this), maxScans);
    this.maxScans = maxScans;
    this.maxPerCaller = maxPerCaller;
    this.budgetMillis = budgetMillis;
  }

  /**
   * Runs {@code query} for the request if the process and the caller have room, else fails it with 503 or 429 (with
   * Retry-After). The query gets a budget that stops it when its time is up or the client has gone.
   */
  <T> Future<T> run(RoutingContext ctx, java.util.function.Function<Budget, T> query) {
    String caller = Shedding.callerKey(ctx);
    AtomicInteger mine = byCaller.computeIfAbsent(caller, k -> new AtomicInteger());
    if (mine.incrementAndGet() > maxPerCaller) {
      release(caller, mine);
      return Future.failedFuture(ResultException.throttled("This caller already has " + maxPerCaller
        + " list queries running; wait for one to finish."));
    }
    if (running.incrementAndGet() > maxScans) {
      running.decrementAndGet();
      release(caller, mine);
      return Future.failedFuture(ResultException.unavailable("Too many list queries are running; retry in a second."));
    }
    Budget budget = new Budget(budgetMillis);
    budgets.add(budget);
    ctx.addEndHandler(done -> budget.stop(Budget.Reason.CLIENT_GONE));
    Callable<T> task = () -> query.apply(budget);
    return executor.executeBlocking(task, false).onComplete(done -> {
      budgets.remove(budget);
      running.decrementAndGet();
      release(caller, mine);
    });
  }

  private void release(String caller, AtomicInteger count) {
    if (count.decrementAndGet() <= 0) {
      byCaller.remove(caller, count);
    }
  }

  /** Queries running now (for tests and metrics). */
  public int running() {
    return running.get();
  }

  /** Stops every running query and the pool. */
  public Future<Void> close() {
    budgets.forEach(budget -> budget.stop(Budget.Reason.SHUTDOWN));
    return executor.close();
  }
}
