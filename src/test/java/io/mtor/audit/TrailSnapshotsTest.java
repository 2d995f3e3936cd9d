package io.mtor.audit;

import io.mtor.AuditTrail;
import io.mtor.events.ResultEvents;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit trail's part of a cluster snapshot: a capture holds exactly the lines up to the snapshot's index (closed
 * files hard-linked, the newest cut), and a merge gives a node the trail of the node that took the snapshot, keeping
 * the bytes the node had, adding each missing line once, whatever its own file names and wherever a crash cut a merge
 * short; the audit writer takes the merge between two events and drops redelivered events the snapshot covers.
 */
class TrailSnapshotsTest {

  @TempDir
  Path dir;

  /** An event's line as the service writes it: id, then sequence, then the rest. */
  private static String line(long sequence) {
    return event(sequence).encode() + "\n";
  }

  private static JsonObject event(long sequence) {
    return new JsonObject().put("eventId", "e" + sequence).put("sequence", sequence).put("eventType", "created")
      .put("resource", new JsonObject().put("id", "r" + sequence)
        .put("padding", "x".repeat((int) (sequence % 7) * 10)));
  }

  private static void write(Path file, long from, long to, String tail) throws IOException {
    Files.createDirectories(file.getParent());
    StringBuilder text = new StringBuilder();
    LongStream.rangeClosed(from, to).forEach(sequence -> text.append(line(sequence)));
    text.append(tail);
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static List<Long> sequences(Path trail) {
    return AuditTrail.events(trail).stream().map(e -> e.getLong("sequence")).toList();
  }

  private static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  /** A leader's trail: two closed files, and the newest, being written (a line half there). */
  private Path leaderTrail() throws IOException {
    Path trail = dir.resolve("leader");
    write(trail.resolve("audit-2026-11-30-0001.jsonl"), 1, 10, "");
    write(trail.resolve("audit-2026-11-30-0002.jsonl"), 11, 20, "");
    write(trail.resolve("audit-2026-11-30-0003.jsonl"), 21, 30, "{\"eventId\":\"e31\",\"seq");
    return trail;
  }

  @Test
  void aCaptureLinksTheClosedFilesAndCutsTheNewestAtTheIndex() throws IOException {
    Path trail = leaderTrail();
    Path snapshot = dir.resolve("snapshot.1_25.audit");
    TrailSnapshots.Counts counts = TrailSnapshots.capture(trail, snapshot, 25);
    assertThat(sequences(snapshot)).isEqualTo(range(1, 25));
    assertThat(counts.linked()).isEqualTo(2);
    assertThat(counts.written()).isEqualTo(1);
    assertThat(sameFile(snapshot, trail, "audit-2026-11-30-0001.jsonl")).isTrue();
    assertThat(sameFile(snapshot, trail, "audit-2026-11-30-0003.jsonl")).isFalse();
    // The trail itself is untouched.
    assertThat(Files.readString(trail.resolve("audit-2026-11-30-0003.jsonl"))).endsWith("\"seq");

    // At a file's end: the next file has nothing of it.
    Path atTwenty = dir.resolve("snapshot.1_20.audit");
    TrailSnapshots.capture(trail, atTwenty, 20);
    assertThat(sequences(atTwenty)).isEqualTo(range(1, 20));
    assertThat(TrailSnapshots.files(atTwenty)).hasSize(2);

    // Everything written: the newest file is still copied (its writer appends to it).
    Path all = dir.resolve("snapshot.1_99.audit");
    TrailSnapshots.capture(trail, all, 99);
    assertThat(sequences(all)).isEqualTo(range(1, 30));
    assertThat(sameFile(all, trail, "audit-2026-11-30-0003.jsonl")).isFalse();
  }

  @Test
  void aMergeIntoAnEmptyTrailGivesTheSnapshotsTrailWithItsLastFileCopied() throws IOException {
    Path snapshot = dir.resolve("snapshot.1_25.audit");
    TrailSnapshots.capture(leaderTrail(), snapshot, 25);
    Path node = dir.resolve("node");
    TrailSnapshots.merge(node, snapshot);
    assertThat(sequences(node)).isEqualTo(range(1, 25));
    assertThat(sameFile(node, snapshot, "audit-2026-11-30-0001.jsonl")).isTrue();
    assertThat(sameFile(node, snapshot, "audit-2026-11-30-0003.jsonl")).isFalse();
    // A snapshot without a trail (its node's audit off) leaves the trail as it is.
    TrailSnapshots.merge(node, dir.resolve("none"));
    assertThat(sequences(node)).isEqualTo(range(1, 25));
  }

  @Test
  void aMergeKeepsTheNodesOwnBytesAndAddsEachMissingLineOnce() throws IOException {
    Path snapshot = dir.resolve("snapshot.1_25.audit");
    TrailSnapshots.capture(leaderTrail(), snapshot, 25);

    // The node wrote its lines on a later day (it applied them late): everything missing goes into its newest file.
    Path late = dir.resolve("late");
    write(late.resolve("audit-2026-12-01-0001.jsonl"), 1, 7, "{\"eventId\":\"e8\"");
    String own = line(1) + line(2) + line(3) + line(4) + line(5) + line(6) + line(7);
    TrailSnapshots.merge(late, snapshot);
    assertThat(sequences(late)).isEqualTo(range(1, 25));
    assertThat(TrailSnapshots.files(late)).hasSize(1);
    assertThat(Files.readString(late.resolve("audit-2026-12-01-0001.jsonl"))).startsWith(own);

    // The node wrote them earlier: its file stays as it is; the snapshot's later files come after it, a closed one
    // that it lacks all of linked, one it has part of written with the rest.
    Path early = dir.resolve("early");
    write(early.resolve("audit-2026-11-29-0001.jsonl"), 1, 10, "");
    TrailSnapshots.merge(early, snapshot);
    assertThat(sequences(early)).isEqualTo(range(1, 25));
    assertThat(Files.readString(early.resolve("audit-2026-11-29-0001.jsonl")))
      .isEqualTo(String.join("", range(1, 10).stream().map(TrailSnapshotsTest::line).toList()));
    assertThat(Files.exists(early.resolve("audit-2026-11-30-0001.jsonl"))).isFalse();
    assertThat(sameFile(early, snapshot, "audit-2026-11-30-0002.jsonl")).isTrue();
    Path partly = dir.resolve("partly");
    write(partly.resolve("audit-2026-11-29-0001.jsonl"), 1, 12, "");
    TrailSnapshots.merge(partly, snapshot);
    assertThat(sequences(partly)).isEqualTo(range(1, 25));
    assertThat(Files.readString(partly.resolve("audit-2026-11-30-0002.jsonl"))).startsWith(line(13));

    // The node already has it all: nothing changes.
    String before = Files.readString(late.resolve("audit-2026-12-01-0001.jsonl"));
    TrailSnapshots.merge(late, snapshot);
    assertThat(Files.readString(late.resolve("audit-2026-12-01-0001.jsonl"))).isEqualTo(before);
  }

  @Test
  void aMergeCutShortByACrashIsCompletedByMergingAgain() throws IOException {
    Path snapshot = dir.resolve("snapshot.1_25.audit");
    TrailSnapshots.capture(leaderTrail(), snapshot, 25);
    Path node = dir.resolve("node");
    write(node.resolve("audit-2026-11-30-0001.jsonl"), 1, 4, "");

    // Died while appending to its file (a line half written), before the later files.
    Path own = node.resolve("audit-2026-11-30-0001.jsonl");
    write(own, 5, 8, line(9).substring(0, 17));
    TrailSnapshots.merge(node, snapshot);
    assertThat(sequences(node)).isEqualTo(range(1, 25));

    // Died while writing the last file (its temporary copy is left), or after some files only.
    Files.delete(node.resolve("audit-2026-11-30-0003.jsonl"));
    Files.writeString(node.resolve("audit-2026-11-30-0003.jsonl.tmp"), line(21) + "{\"eventId\"");
    TrailSnapshots.merge(node, snapshot);
    assertThat(sequences(node)).isEqualTo(range(1, 25));
    assertThat(Files.exists(node.resolve("audit-2026-11-30-0003.jsonl.tmp"))).isFalse();

    // The newest file cut in the middle of its lines (as if its last appends never reached the disk).
    Path newest = node.resolve("audit-2026-11-30-0003.jsonl");
    try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.WRITE)) {
      channel.truncate(channel.size() / 2);
    }
    TrailSnapshots.merge(node, snapshot);
    assertThat(sequences(node)).isEqualTo(range(1, 25));
  }

  @Test
  void theAuditWriterTakesTheSnapshotsTrailBetweenTwoEventsAndDropsWhatItCovers() throws Exception {
    Path snapshot = dir.resolve("snapshot.1_25.audit");
    TrailSnapshots.capture(leaderTrail(), snapshot, 25);
    Path trail = dir.resolve("node");
    Vertx vertx = Vertx.vertx();
    try {
      Set<String> confirmed = ConcurrentHashMap.newKeySet();
      vertx.eventBus().<JsonObject>localConsumer(ResultEvents.AUDIT_WRITTEN,
        message -> message.body().getJsonArray("eventIds").forEach(id -> confirmed.add((String) id)));
      vertx.deployVerticle(new AuditVerticle(), new DeploymentOptions().setConfig(AuditVerticle.config(trail)))
        .await(10, TimeUnit.SECONDS);
      DeliveryOptions local = new DeliveryOptions().setLocalOnly(true);
      for (long sequence = 1; sequence <= 5; sequence++) {
        vertx.eventBus().publish(ResultEvents.AUDIT_TRAIL, event(sequence).toBuffer(), local);
      }
      await(() -> sequences(trail).size() == 5);

      vertx.eventBus().request(ResultEvents.AUDIT_INSTALL,
        new JsonObject().put("dir", snapshot.toString()).put("index", 25), local).await(10, TimeUnit.SECONDS);
      assertThat(sequences(trail)).isEqualTo(range(1, 25));

      // A redelivery read from the store before it forgot its events: covered by the snapshot, confirmed, not written.
      vertx.eventBus().publish(ResultEvents.AUDIT_REDELIVER, Buffer.buffer(line(3).trim()), local);
      vertx.eventBus().publish(ResultEvents.AUDIT_REDELIVER, Buffer.buffer(line(24).trim()), local);
      for (long sequence = 26; sequence <= 28; sequence++) {
        vertx.eventBus().publish(ResultEvents.AUDIT_TRAIL, event(sequence).toBuffer(), local);
      }
      await(() -> confirmed.containsAll(List.of("e3", "e24", "e26", "e27", "e28")));
      assertThat(sequences(trail)).isEqualTo(range(1, 28));
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Whether {@code name} in the two folders is one file (a hard link). */
  private static boolean sameFile(Path dir, Path other, String name) throws IOException {
    return Files.isSameFile(dir.resolve(name), other.resolve(name));
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out").isLessThan(deadline);
      Thread.sleep(10);
    }
  }
}
