package io.mtor.cluster;

import io.mtor.TestService;
import io.mtor.app.Command;
import io.mtor.app.ResultsApplication;
import io.mtor.domain.OperationResults;
import io.mtor.domain.ResultException;
import io.mtor.store.OperationResultStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The state machine's state is the store: applying a log is deterministic (two stores given the same log hold the same
 * bytes and give the same answers), and a snapshot written at index k while the entries after k go on being applied,
 * loaded into an empty store and followed by the log after k, gives exactly the live store (records byte for byte,
 * their idempotency keys, the ordered index's counts) and the same answers the live store gave.
 */
class SnapshotReplayTest {

  private static final int IDS = 300;
  private static final Instant START = Instant.parse("2026-11-30T00:00:00Z");

  @TempDir
  Path dirA;
  @TempDir
  Path dirB;
  @TempDir
  Path snapshots;

  private Vertx vertx;
  private OperationResultStore storeA;
  private OperationResultStore storeB;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    storeA = TestService.openStore(dirA);
    storeB = TestService.openStore(dirB);
  }

  @AfterEach
  void close() throws Exception {
    storeA.close();
    storeB.close();
    vertx.close().await();
  }

  @Test
  void applyingTheSameLogToTwoStoresGivesTheSameStoresAndAnswers() {
    List<Command> log = log(new Random(16), 2_000);
    List<String> answersA = apply(application(storeA), log, 0, log.size(), null);
    List<String> answersB = apply(application(storeB), log, 0, log.size(), null);
    assertThat(answersB).isEqualTo(answersA);
    assertThat(answersA).contains("201", "200", "CONFLICT", "NOT_FOUND", "PRECONDITION_FAILED");
    assertThat(contents(storeB)).isEqualTo(contents(storeA));
    assertThat(storeA.size()).isPositive();
  }

  @Test
  void aSnapshotWhoseRecordsAllChangedBeforeTheWriterReachedThemStillHoldsTheirStateAtItsIndex() throws Exception {
    // The hardest case for the capture: every change after the snapshot's index is applied before the writer starts.
    List<Command> log = log(new Random(17), 3_000);
    int at = 1_500;
    List<String> live = apply(application(storeA), log, 0, at, null);
    SnapshotCapture capture = new SnapshotCapture(storeA, Snapshots.MAX_CAPTURE_BYTES);
    Map<String, byte[]> shared = shared();
    live.addAll(apply(application(storeA), log, at, log.size(), capture));
    Path file = snapshots.resolve("snapshot.1_" + at);
    assertThat(SnapshotFile.write(file, TermIndex.valueOf(1, at), shared, storeA, capture)).isTrue();

    assertRestoredAndReplayedEqualsLive(file, log, at, live);
  }

  @Test
  void aSnapshotWhoseBeforeImagesPassTheirBoundIsAbandonedAndKeepsNoneOfThem() throws Exception {
    // Writes during a long snapshot must not fill the heap with before-images: past the bound the capture gives up.
    List<Command> log = log(new Random(19), 3_000);
    int at = 1_500;
    apply(application(storeA), log, 0, at, null);
    SnapshotCapture capture = new SnapshotCapture(storeA, 64 * 1024);
    Map<String, byte[]> shared = shared();
    apply(application(storeA), log, at, log.size(), capture);
    assertThat(capture.overflowed()).isTrue();
    assertThat(capture.cancelled()).isTrue();
    assertThat(capture.finish()).as("before-images kept").isEmpty();
    Path file = snapshots.resolve("snapshot.1_" + at);
    assertThat(SnapshotFile.write(file, TermIndex.valueOf(1, at), shared, storeA, capture)).as("written").isFalse();

    // With room for them, the same changes are captured.
    SnapshotCapture roomy = new SnapshotCapture(storeB, Snapshots.MAX_CAPTURE_BYTES);
    apply(application(storeB), log, 0, at, null);
    apply(application(storeB), log, at, log.size(), roomy);
    assertThat(roomy.overflowed()).isFalse();
    assertThat(roomy.finish()).isNotEmpty();
  }

  @Test
  void aSnapshotWrittenWhileTheLogIsAppliedPlusTheLogAfterItEqualsTheLiveStore() throws Exception {
    List<Command> log = log(new Random(18), 8_000);
    int at = 4_000;
    List<String> live = apply(application(storeA), log, 0, at, null);
    SnapshotCapture capture = new SnapshotCapture(storeA, Snapshots.MAX_CAPTURE_BYTES);
    Map<String, byte[]> shared = shared();
    Path file = snapshots.resolve("snapshot.1_" + at);
    CompletableFuture<Boolean> written = CompletableFuture.supplyAsync(() -> {
      try {
        return SnapshotFile.write(file, TermIndex.valueOf(1, at), shared, storeA, capture);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    live.addAll(apply(application(storeA), log, at, log.size(), capture));
    assertThat(written.get()).isTrue();

    assertRestoredAndReplayedEqualsLive(file, log, at, live);
  }

  private void assertRestoredAndReplayedEqualsLive(Path file, List<Command> log, int at, List<String> live)
    throws Exception {
    // B held other records before: loading replaces them.
    apply(application(storeB), log(new Random(99), 200), 0, 200, null);
    assertThat(SnapshotFile.load(file, storeB, dirB)).isEqualTo(TermIndex.valueOf(1, at));
    assertThat(Files.readString(dirB.resolve(OperationResultStore.KEY_SCHEME_FILE))).isEqualTo("global\n");
    List<String> replayed = apply(application(storeB), log, at, log.size(), null);

    assertThat(replayed).isEqualTo(live.subList(at, log.size()));
    assertThat(contents(storeB)).isEqualTo(contents(storeA));
    assertThat(storeB.index().count("", null, null)).isEqualTo(storeA.index().count("", null, null))
      .isEqualTo(storeA.size());
  }

  private Map<String, byte[]> shared() throws Exception {
    Files.writeString(dirA.resolve(OperationResultStore.KEY_SCHEME_FILE), "global\n");
    return SnapshotFile.sharedFiles(dirA);
  }


  private ResultsApplication application(OperationResultStore store) {
    return new ResultsApplication(store, vertx.eventBus(), Clock.systemUTC(), false, Duration.ofDays(3650));
  }

  /**
   * A log over a few hundred ids: creates (some taken: 409; some with idempotency keys, repeated: replayed),
   * unconditional and conditional updates (a stale If-Match: 412), deletes (some of nothing: 404).
   */
  static List<Command> log(Random random, int size) {
    List<Command> log = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      String id = "r-" + random.nextInt(IDS);
      String occurred = OperationResults.timestamp(START.plusMillis(i));
      Command.Change change = new Command.Change("event-" + i, occurred, "request-" + i, null, null);
      int kind = random.nextInt(20);
      if (kind < 9) {
        JsonObject entity = OperationResults.newEntity(TestService.body().put("id", id), occurred);
        String key = kind == 0 ? "idempotency-" + random.nextInt(20) : null;
        log.add(new Command.Create(id, entity.encode(), change, key, key == null ? null : key + "-body",
          key == null ? null : "2000-01-01T00:00:00Z"));
      } else if (kind < 16) {
        String ifMatch = kind == 15 ? "W/\"stale\"" : null;
        log.add(new Command.Update(id, id, ifMatch, new JsonObject().put("executionInfo", "update " + i).encode(),
          change));
      } else {
        log.add(new Command.Delete(id, id, null, change));
      }
    }
    return log;
  }

  /** Applies entries {@code from} to {@code to} (log index = position + 1), telling {@code capture} first. */
  private static List<String> apply(ResultsApplication app, List<Command> log, int from, int to,
                                    SnapshotCapture capture) {
    List<String> answers = new ArrayList<>();
    for (int i = from; i < to; i++) {
      Command command = log.get(i);
      if (capture != null) {
        capture.beforeChange(command.key());
      }
      try {
        app.apply(command, i + 1);
        answers.add(command instanceof Command.Create ? "201" : "200");
      } catch (ResultException e) {
        answers.add(e.kind().name());
      }
    }
    return answers;
  }

  /** Every record, as text, with its pseudo-properties. */
  private static Map<String, String> contents(OperationResultStore store) {
    Map<String, String> contents = new TreeMap<>();
    store.forEach((key, record) -> contents.put(key, new String(record, StandardCharsets.UTF_8)
      + " " + new TreeMap<>(store.points(key))));
    return contents;
  }
}
