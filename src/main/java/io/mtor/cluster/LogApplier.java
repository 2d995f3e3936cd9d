package io.mtor.cluster;

import io.mtor.app.Command;
import io.mtor.app.ResultsApplication;
import io.mtor.app.Stored;
import io.mtor.domain.ResultException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * Applies the log's commands, up to a number of them under way at once: the store takes writes in the order they are
 * handed to it and writes them in batches (group commit), so several entries can be under way while the next are
 * handed over, and every node still ends with the state that applying them one by one gives (the service allows
 * {@value #MAX_UNDER_WAY}: see there). Used from one thread (Ratis's applying thread).
 *
 * <p>An update or delete reads its record when it is handed over; when that record's create is still under way, it
 * waits for it. A create with an idempotency key looks the key up when it is handed over; when a create under the same
 * key is still under way, it waits for it. Notes of the applied index ({@link #inOrder}) follow the log's order,
 * whatever order writes finish in.
 */
final class LogApplier {

  /**
   * Entries under way at most in the service: one, so entries are applied one after the other. With more, creates cost
   * half the CPU (docs/cluster.md), but {@code ClusterEventsIT} failed twice with 1,024 (an acknowledged create missing
   * from the cluster-wide stream around a leader's death; a create through a follower not answered): not understood
   * yet, so not shipped. After a crash, as many entries past the noted index may be in the store already.
   */
  static final int MAX_UNDER_WAY = 1;

  private final ResultsApplication results;
  private final Consumer<String> beforeChange;
  private final Semaphore underWay;
  /** Creates under way, by record key. */
  private final Map<String, CompletableFuture<?>> creating = new ConcurrentHashMap<>();
  /** Creates with an idempotency key under way, by the key's hash. */
  private final Map<String, CompletableFuture<?>> keyed = new ConcurrentHashMap<>();
  /** Completes once everything passed to {@link #inOrder} so far is done and noted. */
  private volatile CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

  /**
   * @param beforeChange told of a record's key before the record changes (a snapshot being written keeps the record
   *                     as it was)
   */
  LogApplier(ResultsApplication results, Consumer<String> beforeChange) {
    this(results, beforeChange, MAX_UNDER_WAY);
  }

  /** @param maxUnderWay entries handed to the store whose writes may be under way at once */
  LogApplier(ResultsApplication results, Consumer<String> beforeChange, int maxUnderWay) {
    this.results = results;
    this.beforeChange = beforeChange;
    this.underWay = new Semaphore(maxUnderWay);
  }

  /**
   * Hands {@code command} (log entry {@code index}) to the store; the answer, the record or the command's failure as
   * JSON, completes when its write is done. With {@code check}, a command whose effect the store already shows (the
   * entry was applied before a crash, but not noted) is answered as applied and not applied again.
   */
  CompletableFuture<JsonObject> apply(Command command, long index, boolean check) throws InterruptedException {
    String key = command.key();
    CompletableFuture<?> create = creating.get(key);
    if (create != null) {
      // A create of the same key needs no wait: the store takes the two in order and the second finds the first.
      create.handle((r, e) -> null).join();
    }
    String idempotency = command instanceof Command.Create c ? c.idempotency() : null;
    CompletableFuture<?> sameKey = idempotency == null ? null : keyed.get(idempotency);
    if (sameKey != null) {
      // A create under the same idempotency key (a client's retry, most often with another id) looks the key up when
      // it is handed over: it must find the first one's record, and be answered with it, not stored again.
      sameKey.handle((r, e) -> null).join();
    }
    beforeChange.accept(key);
    underWay.acquire();
    CompletableFuture<JsonObject> answer;
    try {
      Stored stored = check ? results.alreadyApplied(command) : null;
      answer = stored != null ? CompletableFuture.completedFuture(success(stored))
        : results.applyLogged(command, index).handle((applied, e) -> answer(command, applied, e));
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    answer.whenComplete((a, e) -> underWay.release());
    if (command instanceof Command.Create && !answer.isDone()) {
      CompletableFuture<JsonObject> created = answer;
      creating.put(key, created);
      created.whenComplete((a, e) -> creating.remove(key, created));
      if (idempotency != null) {
        keyed.put(idempotency, created);
        created.whenComplete((a, e) -> keyed.remove(idempotency, created));
      }
    }
    return answer;
  }

  private JsonObject answer(Command command, Stored stored, Throwable e) {
    if (e == null) {
      return success(stored);
    }
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (!(cause instanceof ResultException failed)) {
      throw cause instanceof RuntimeException runtime ? runtime : new CompletionException(cause);
    }
    // A command the log holds twice (Ratis's client retried it across a leader change, past its retry cache) finds
    // its own effect: it is answered as the first one was, not with a 409 or 412 against itself.
    Stored own = failed.kind() == ResultException.Kind.CONFLICT
      || failed.kind() == ResultException.Kind.PRECONDITION_FAILED ? results.alreadyApplied(command) : null;
    return own != null ? success(own) : failure(failed);
  }

  /**
   * Runs {@code noted} once {@code done} is complete and everything passed here before it has been noted; the result
   * completes after that.
   */
  <T> CompletableFuture<T> inOrder(CompletableFuture<T> done, Runnable noted) {
    CompletableFuture<Void> next = tail.thenCombine(done.handle((r, e) -> null), (before, self) -> null);
    next = next.thenRun(noted);
    tail = next;
    return next.thenCompose(v -> done);
  }

  /** Waits until everything handed over is done and noted. */
  void drain() {
    tail.join();
  }

  static JsonObject success(Stored stored) {
    return new JsonObject().put("ok", true).put("json", new String(stored.json(), StandardCharsets.UTF_8))
      .put("replayed", stored.replayed());
  }

  static JsonObject failure(ResultException e) {
    return new JsonObject().put("ok", false).put("kind", e.kind().name()).put("message", e.getMessage());
  }
}
