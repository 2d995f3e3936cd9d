package io.mtor.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadBatchTest {

  private final List<CompletableFuture<Void>> sent = new ArrayList<>();

  private synchronized CompletableFuture<Void> send() {
    CompletableFuture<Void> request = new CompletableFuture<>();
    sent.add(request);
    return request;
  }

  @Test
  void readsArrivingWhileARequestIsUnderWayWaitForTheNextOneAndShareIt() {
    ReadBatch batch = new ReadBatch(this::send, 5_000);
    CompletableFuture<Void> first = batch.join();
    CompletableFuture<Void> second = batch.join();
    CompletableFuture<Void> third = batch.join();
    assertEquals(1, sent.size(), "one request under way at a time");

    sent.get(0).complete(null);
    assertTrue(first.isDone() && !first.isCompletedExceptionally());
    assertFalse(second.isDone(), "a read that arrived after the request was sent is not released by it");
    assertFalse(third.isDone());
    assertEquals(2, sent.size(), "the reads that waited get the next request at once");

    sent.get(1).complete(null);
    assertTrue(second.isDone() && third.isDone());
    assertEquals(2, sent.size(), "nothing is sent when nobody waits");

    CompletableFuture<Void> later = batch.join();
    assertEquals(3, sent.size(), "an idle batch sends at once");
    sent.get(2).complete(null);
    assertTrue(later.isDone());
  }

  @Test
  void aFailedRequestFailsOnlyItsOwnReads() {
    ReadBatch batch = new ReadBatch(this::send, 5_000);
    CompletableFuture<Void> first = batch.join();
    CompletableFuture<Void> second = batch.join();
    sent.get(0).completeExceptionally(new IllegalStateException("no leader"));
    ExecutionException failed = assertThrows(ExecutionException.class, first::get);
    assertTrue(failed.getCause() instanceof IllegalStateException);
    assertFalse(second.isDone());
    sent.get(1).complete(null);
    assertTrue(second.isDone() && !second.isCompletedExceptionally());
  }

  @Test
  void oneCallersTimeoutLeavesTheOthersWaiting() throws Exception {
    ReadBatch batch = new ReadBatch(this::send, 5_000);
    batch.join();
    CompletableFuture<Void> impatient = batch.join().orTimeout(1, TimeUnit.MILLISECONDS);
    CompletableFuture<Void> patient = batch.join();
    ExecutionException timedOut = assertThrows(ExecutionException.class, () -> impatient.get(5, TimeUnit.SECONDS));
    assertTrue(timedOut.getCause() instanceof TimeoutException);
    sent.get(0).complete(null);
    sent.get(1).complete(null);
    patient.get(5, TimeUnit.SECONDS);
  }

  @Test
  void aRequestThatNeverReturnsIsGivenUpAfterItsBudgetAndTheNextReadsGetTheirOwn() throws Exception {
    ReadBatch batch = new ReadBatch(this::send, 50);
    CompletableFuture<Void> stuck = batch.join();
    CompletableFuture<Void> behind = batch.join();
    ExecutionException failed = assertThrows(ExecutionException.class, () -> stuck.get(5, TimeUnit.SECONDS));
    assertTrue(failed.getCause() instanceof TimeoutException);
    // The next request goes out when the stuck one is given up.
    for (int i = 0; i < 500 && sent.size() < 2; i++) {
      Thread.sleep(10);
    }
    assertEquals(2, sent.size());
    sent.get(1).complete(null);
    behind.get(5, TimeUnit.SECONDS);
  }
}
