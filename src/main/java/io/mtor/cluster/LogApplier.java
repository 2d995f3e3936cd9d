package io.mtor.cluster;

import io.mtor.app.Command;
import io.mtor.app.ResultsApplication;
import io.mtor.app.Stored;
import io.mtor.domain.ResultException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
 *
 * <p>A refusal by this node's own store (its disk below the reserve, its audit backlog full) is not the command's
 * answer: another node may have taken the entry, so noting it as applied here would leave the nodes apart for good.
 * When the store refuses an entry as it is handed over, the applying thread waits and tries it again (and the entries
 * after it wait too) until the store takes it; the node reports why meanwhile ({@link #stalled}). When a write fails
 * for want of room after later entries were handed over, it cannot be tried again in its place: the node stops
 * applying ({@link Halted}), and a restart applies the log again from that entry. So does an unexpected failure of a
 * write (not a {@code ResultException}): {@code CommandStateMachine} answers it as {@code STORE_UNAVAILABLE}, and
 * whether another node's write failed too cannot be known.
 */
final class LogApplier {

  /**
   * Entries under way at most in the service: each node's store then writes the entries in batches, as a single node
   * writes concurrent requests (docs/cluster.md has the figures). After a crash, as many entries past the noted index
   * may be in the store already: they are checked before they are applied again.
   */
  static final int MAX_UNDER_WAY = 1024;
  /** Refusals by this node's own store (disk, audit backlog): another node may have taken the same entry. */
  static final Set<String> LOCAL = Set.of(ResultException.Kind.STORE_FULL.name(),
    ResultException.Kind.STORE_UNAVAILABLE.name(), ResultException.Kind.AUDIT_BACKLOG_FULL.name());
  static final long FIRST_PAUSE_MILLIS = 50;
  static final long MAX_PAUSE_MILLIS = 2_000;
  private static final Logger LOG = LoggerFactory.getLogger(LogApplier.class);

  /** This node has stopped applying the log (see {@link #inOrder}): it must be restarted. */
  static final class Halted extends IllegalStateException {
    Halted(String reason) {
      super(reason);
    }
  }

  private final ResultsApplication results;
  private final Consumer<String> beforeChange;
  private final Semaphore underWay;
  /** Why this node's applying waits (its store refuses the next entry), or null. */
  private volatile String stalled;
  /** Why this node stopped applying, or null. */
  private volatile String halted;
  private final CountDownLatch closed = new CountDownLatch(1);
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
    if (halted != null) {
      throw new Halted(halted);
    }
    beforeChange.accept(key);
    CompletableFuture<JsonObject> answer = handOver(command, index, check);
    for (long pause = FIRST_PAUSE_MILLIS; refusedHere(answer); pause = Math.min(2 * pause, MAX_PAUSE_MILLIS)) {
      // Every node must apply every entry, in order: skipping this one would leave this node without a change the
      // others have. So it waits, and so do the entries after it, until its store takes it (space freed on its disk,
      // its audit writer caught up).
      String reason = answer.join().getString("message");
      if (stalled == null) {
        LOG.warn("Log entry {} waits, and the entries after it: this node's store cannot take it now ({}); trying "
          + "again until it can", index, reason);
      }
      stalled = reason;
      if (closed.await(pause, TimeUnit.MILLISECONDS)) {
        halt("the node stopped while log entry " + index + " waited for its store");
        throw new InterruptedException("closed while log entry " + index + " waited");
      }
      answer = handOver(command, index, check);
    }
    if (stalled != null) {
      stalled = null;
      LOG.info("Log entry {} applied after waiting: applying goes on", index);
    }
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

  private CompletableFuture<JsonObject> handOver(Command command, long index, boolean check)
    throws InterruptedException {
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
    return answer;
  }

  /** Whether {@code answer} is already in, and a refusal of this node's own store: not the command's answer. */
  private static boolean refusedHere(CompletableFuture<JsonObject> answer) {
    return answer.isDone() && !answer.isCompletedExceptionally() && refusedHere(answer.join());
  }

  private static boolean refusedHere(JsonObject answer) {
    return !answer.getBoolean("ok") && LOCAL.contains(answer.getString("kind"));
  }

  /** Why this node's applying waits now (its store refuses the next entry), or null while it goes on. */
  String stalled() {
    return stalled;
  }

  /**
   * Stops applying for good: nothing more is handed over, and nothing more is noted, not even an entry of Ratis's own
   * after this one (noting it would move the applied index past an entry this node never applied). For an entry that
   * could not be applied (the node stopping while it waited, the applying thread interrupted); a restart applies the
   * log again from the first entry not noted.
   */
  void halt(String reason) {
    if (halted == null) {
      halted = reason;
    }
    tail = CompletableFuture.failedFuture(new Halted(reason));
  }

  /** Whether {@link #close} was called. */
  boolean stopping() {
    return closed.getCount() == 0;
  }

  /** Ends a wait for the store ({@link #apply} then fails): the node is stopping. */
  void close() {
    closed.countDown();
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
    CompletableFuture<Void> next = tail.thenCombine(done.handle((r, e) -> r), (before, self) -> {
      if (self instanceof JsonObject answer && refusedHere(answer)) {
        // The store refused an entry after it was handed over (its write failed for want of room): entries after it
        // are under way already, so it cannot be tried again in its place. This node stops applying here: nothing
        // from this entry on is noted, and a restart (once the store has room) applies the log from here again.
        String reason = "log entry refused by this node's store after it was handed over: " + answer.getString("message");
        halted = reason;
        LOG.error("Applying stops: {}. Free space (or let the audit trail catch up) and restart this node; it applies "
          + "the log from this entry on", reason);
        throw new Halted(reason);
      }
      return null;
    });
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
