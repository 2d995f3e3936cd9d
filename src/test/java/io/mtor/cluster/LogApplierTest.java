package io.mtor.cluster;

import io.mtor.TestService;
import io.mtor.api.ServiceConfig;
import io.mtor.app.Command;
import io.mtor.app.ResultsApplication;
import io.mtor.app.Stored;
import io.mtor.domain.OperationResults;
import io.mtor.domain.ResultException;
import io.mtor.events.ResultEvents;
import io.mtor.store.OperationResultStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A log applied without waiting for each write ({@link LogApplier}, as every cluster node does) ends exactly as the same
 * log applied one command at a time: the same answers, byte-identical records, the same events in log order, and the
 * applied index noted in log order.
 */
class LogApplierTest {

  @TempDir
  Path dirA;
  @TempDir
  Path dirB;

  private Vertx vertxA;
  private Vertx vertxB;
  private OperationResultStore storeA;
  private OperationResultStore storeB;

  @BeforeEach
  void open() {
    vertxA = Vertx.vertx();
    vertxB = Vertx.vertx();
    storeA = TestService.openStore(dirA);
    storeB = TestService.openStore(dirB);
  }

  @AfterEach
  void close() throws Exception {
    storeA.close();
    storeB.close();
    vertxA.close().await();
    vertxB.close().await();
  }


  @Test
  void aLogAppliedWithoutWaitingEndsAsTheSameLogAppliedOneByOne() throws Exception {
    List<Command> log = log(new Random(16), 3_000, 200);
    List<String> eventsA = events(vertxA);
    List<String> eventsB = events(vertxB);

    ResultsApplication one = new ResultsApplication(storeA, vertxA.eventBus(), Clock.systemUTC(), false,
      Duration.ofHours(1));
    List<String> answersOneByOne = new ArrayList<>();
    long changes = 0;
    for (int i = 0; i < log.size(); i++) {
      try {
        Stored stored = one.apply(log.get(i), i + 1);
        answersOneByOne.add("ok " + stored.etag());
        changes += stored.replayed() ? 0 : 1;
      } catch (ResultException e) {
        answersOneByOne.add(e.kind().name());
      }
    }

    ResultsApplication pipelined = new ResultsApplication(storeB, vertxB.eventBus(), Clock.systemUTC(), false,
      Duration.ofHours(1));
    List<String> keysSeen = new CopyOnWriteArrayList<>();
    LogApplier applier = new LogApplier(pipelined, keysSeen::add, 1024);
    AtomicLong noted = new AtomicLong();
    List<Long> notedOutOfOrder = new CopyOnWriteArrayList<>();
    List<CompletableFuture<JsonObject>> answers = new ArrayList<>();
    for (int i = 0; i < log.size(); i++) {
      long index = i + 1;
      answers.add(applier.inOrder(applier.apply(log.get(i), index, false), () -> {
        if (!noted.compareAndSet(index - 1, index)) {
          notedOutOfOrder.add(index);
        }
      }));
    }
    applier.drain();
    List<String> answersPipelined = new ArrayList<>();
    for (CompletableFuture<JsonObject> answer : answers) {
      JsonObject json = answer.get(10, TimeUnit.SECONDS);
      answersPipelined.add(json.getBoolean("ok")
        ? "ok " + OperationResults.etag(json.getString("json").getBytes(java.nio.charset.StandardCharsets.UTF_8))
        : json.getString("kind"));
    }

    assertThat(answersPipelined).isEqualTo(answersOneByOne);
    assertThat(answersOneByOne).contains("CONFLICT", "NOT_FOUND", "PRECONDITION_FAILED", "KEY_REUSED");
    assertThat(notedOutOfOrder).isEmpty();
    assertThat(noted.get()).isEqualTo(log.size());
    assertThat(keysSeen).hasSize(log.size());
    for (int id = 0; id < 200 + log.size(); id++) {
      assertThat(storeB.get(id(id))).as("record %s", id(id)).isEqualTo(storeA.get(id(id)));
    }
    // One record per idempotency key, whatever the number of retries.
    assertThat(storeA.size()).isEqualTo(storeB.size());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while ((eventsA.size() < changes || eventsB.size() < changes) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(eventsA).hasSize((int) changes);
    assertThat(eventsB).isEqualTo(eventsA);
  }

  @Test
  void anEntryThisNodesStoreRefusesWaitsUntilItCanBeAppliedAndIsNeverSkipped(@TempDir Path dirC) throws Exception {
    // An outbox of 100 events and no audit writer: after some creates the store refuses the next with
    // AUDIT_BACKLOG_FULL, as a node whose audit writer fell behind does. That is no answer to the command (the other
    // nodes took it): the entry must wait until the store takes it, not be noted as applied.
    OperationResultStore storeC = OperationResultStore.open(ServiceConfig.defaults(dirC).with(new JsonObject()
      .put("store", new JsonObject().put("entries", 5_000)).put("audit", new JsonObject().put("outboxEntries", 100)))
      .storeOptions());
    try {
      ResultsApplication results = new ResultsApplication(storeC, vertxA.eventBus(), Clock.systemUTC(), false,
        Duration.ofHours(1));
      LogApplier applier = new LogApplier(results, key -> { }, 1024);
      int creates = 2_000;
      List<CompletableFuture<JsonObject>> answers = new CopyOnWriteArrayList<>();
      AtomicLong noted = new AtomicLong();
      CompletableFuture<Void> applying = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < creates; i++) {
          String id = id(i);
          JsonObject entity = OperationResults.newEntity(TestService.body().put("id", id),
            OperationResults.timestamp(Instant.now()));
          Command.Change change = new Command.Change(OperationResults.newGuid(), entity.getString("createdDateTime"),
            "request-" + i, null, null);
          long index = i + 1;
          try {
            answers.add(applier.inOrder(applier.apply(new Command.Create(id, entity.encode(), change, null, null, null),
              index, false), () -> noted.compareAndSet(index - 1, index)));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }
      });
      // The audit writer's part, late: whenever applying waits, the trail takes what the outbox holds.
      int stalls = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!applying.isDone() && System.nanoTime() < deadline) {
        String stalled = applier.stalled();
        if (stalled != null) {
          stalls++;
          assertThat(stalled).contains("audit");
          storeC.acknowledge(storeC.pendingEvents(Long.MAX_VALUE, 10_000).stream().map(e -> e.eventId()).toList());
        }
        Thread.sleep(20);
      }
      applying.get(10, TimeUnit.SECONDS);
      applier.drain();

      assertThat(stalls).as("times applying waited for the store").isPositive();
      assertThat(answers).hasSize(creates);
      for (CompletableFuture<JsonObject> answer : answers) {
        assertThat(answer.get(10, TimeUnit.SECONDS).getBoolean("ok")).as(answer.get().encode()).isTrue();
      }
      assertThat(noted.get()).isEqualTo(creates);
      assertThat(storeC.size()).isEqualTo(creates);
      assertThat(applier.stalled()).isNull();
    } finally {
      storeC.close();
    }
  }

  @Test
  void afterAHaltNothingIsNotedAndNothingHandedOver() throws Exception {
    // An entry the node could not apply (it stopped while the entry waited for its store) must keep every later note
    // away, an entry of Ratis's own included: else the applied index would pass it, and a restart would skip it.
    ResultsApplication results = new ResultsApplication(storeA, vertxA.eventBus(), Clock.systemUTC(), false,
      Duration.ofHours(1));
    LogApplier applier = new LogApplier(results, key -> { }, 1024);
    List<Long> noted = new CopyOnWriteArrayList<>();
    List<Command> log = log(new Random(20), 10, 10);
    for (int i = 0; i < 5; i++) {
      long index = i + 1;
      applier.inOrder(applier.apply(log.get(i), index, false), () -> noted.add(index)).get(10, TimeUnit.SECONDS);
    }
    applier.halt("test");
    CompletableFuture<Object> own = applier.inOrder(CompletableFuture.completedFuture(null), () -> noted.add(6L));
    assertThatThrownBy(() -> own.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(LogApplier.Halted.class);
    assertThatThrownBy(() -> applier.apply(log.get(5), 7, false)).isInstanceOf(LogApplier.Halted.class);
    assertThat(noted).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  /** Each event's sequence, type and ETag, in the order they were published. */
  private static List<String> events(Vertx vertx) {
    List<String> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<Buffer>consumer(ResultEvents.AUDIT_TRAIL, m -> {
      JsonObject event = m.body().toJsonObject();
      events.add(event.getLong("sequence") + " " + event.getString("type") + " "
        + event.getJsonObject("resource").getString("@odata.etag"));
    });
    return events;
  }

  /** Idempotency keys the log's keyed creates share. */
  private static final int KEYS = 20;

  private static String id(int n) {
    return String.format("00000000-0000-4000-8000-%012d", n);
  }

  /**
   * Creates, updates (half with an If-Match that is stale) and deletes of {@code ids} records, most of them of a
   * record the log touched a few entries before, so that changes follow their record's create closely.
   */
  private static List<Command> log(Random random, int size, int ids) {
    List<Command> log = new ArrayList<>();
    List<Integer> recent = new ArrayList<>();
    Instant time = Instant.parse("2026-11-30T00:00:00Z");
    for (int i = 0; log.size() < size; i++) {
      int n = !recent.isEmpty() && random.nextInt(3) > 0 ? recent.get(random.nextInt(recent.size()))
        : random.nextInt(ids);
      recent.add(n);
      if (recent.size() > 4) {
        recent.remove(0);
      }
      time = time.plusMillis(1);
      String occurred = OperationResults.timestamp(time);
      Command.Change change = new Command.Change(OperationResults.newGuid(), occurred, "request-" + i, null, null);
      String id = id(n);
      int kind = random.nextInt(10);
      if (kind < 2) {
        // A create under one of a few idempotency keys, with a fresh id: a client's retry (the same body: answered
        // with the first record) or a reuse of the key for another body (422).
        // Retries come right after the first as often as not: the second is handed over while the first is under way.
        int k = random.nextInt(KEYS);
        for (int retry = 0; retry < 1 + random.nextInt(3) && log.size() < size; retry++) {
          String fresh = id(ids + log.size());
          Command.Change attempt = retry == 0 ? change
            : new Command.Change(OperationResults.newGuid(), occurred, "request-" + i + "-" + retry, null, null);
          JsonObject entity = OperationResults.newEntity(TestService.body().put("id", fresh), occurred);
          log.add(new Command.Create(fresh, entity.encode(), attempt, "key-" + k,
            "body-" + k + (random.nextInt(4) == 0 ? "-other" : ""), "2026-01-01T00:00:00.0000000Z"));
        }
      } else if (kind < 5) {
        JsonObject entity = OperationResults.newEntity(TestService.body().put("id", id), occurred);
        log.add(new Command.Create(id, entity.encode(), change, null, null, null));
      } else if (kind < 9) {
        String ifMatch = random.nextBoolean() ? "W/\"stale\"" : null;
        log.add(new Command.Update(id, id, ifMatch, new JsonObject().put("executionInfo", "v" + i).encode(), change));
      } else {
        log.add(new Command.Delete(id, id, null, change));
      }
    }
    return log;
  }
}
