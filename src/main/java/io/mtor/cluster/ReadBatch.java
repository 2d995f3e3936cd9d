package io.mtor.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Linearizable reads in batches: at most one ReadIndex request is under way; the reads that arrive meanwhile wait
 * together for the next one, sent as soon as it returns. A read is released only by a request sent after it arrived,
 * so it still sees every write acknowledged before it began; under load, one request per round trip serves every read
 * of that round trip instead of one each.
 */
final class ReadBatch {

  private final Supplier<CompletableFuture<Void>> readIndex;
  private final long timeoutMillis;
  /** The request under way, or null. */
  private CompletableFuture<Void> sent;
  /** The reads waiting for the next request, or null. */
  private CompletableFuture<Void> next;

  /**
   * @param readIndex     sends one ReadIndex request
   * @param timeoutMillis how long one request may take (Ratis's client retries it meanwhile): past it, its reads fail
   *                      and the reads waiting behind it get a request of their own
   */
  ReadBatch(Supplier<CompletableFuture<Void>> readIndex, long timeoutMillis) {
    this.readIndex = readIndex;
    this.timeoutMillis = timeoutMillis;
  }

  /** Completes when a ReadIndex request sent after this call has returned (exceptionally if it failed). */
  CompletableFuture<Void> join() {
    CompletableFuture<Void> waiting;
    synchronized (this) {
      if (sent != null) {
        if (next == null) {
          next = new CompletableFuture<>();
        }
        // A copy: a caller's orTimeout must not complete the shared future for the others.
        return next.thenApply(v -> v);
      }
      waiting = new CompletableFuture<>();
      sent = waiting;
    }
    send(waiting);
    return waiting.thenApply(v -> v);
  }

  private void send(CompletableFuture<Void> waiting) {
    CompletableFuture<Void> request;
    try {
      request = readIndex.get().orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      request = CompletableFuture.failedFuture(e);
    }
    request.whenComplete((v, e) -> {
      CompletableFuture<Void> following;
      synchronized (this) {
        following = next;
        next = null;
        sent = following;
      }
      if (following != null) {
        send(following);
      }
      if (e == null) {
        waiting.complete(null);
      } else {
        waiting.completeExceptionally(e);
      }
    });
  }
}
