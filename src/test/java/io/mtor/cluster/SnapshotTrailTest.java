package io.mtor.cluster;

import io.mtor.AuditTrail;
import io.mtor.api.ServiceConfig;
import io.mtor.app.Command;
import io.mtor.app.ResultsApplication;
import io.mtor.audit.AuditVerticle;
import io.mtor.domain.ResultException;
import io.mtor.events.ResultEvents;
import io.mtor.store.OperationResultStore;
import io.mtor.store.PendingEvent;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.storage.RaftStorageImpl;
import org.apache.ratis.server.storage.StorageImplUtils;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A snapshot carries the audit trail up to its index, even when the audit writer lags the store; a node that installs
 * it, having applied and audited only part of the log before, ends with the trail of the node that took it, line for
 * line, each change once (none lost between the snapshot's trail and its own outbox, none twice), also when the
 * install is done again after a crash.
 */
class SnapshotTrailTest {

  @TempDir
  Path dirA;
  @TempDir
  Path dirB;

  private final List<Node> nodes = new ArrayList<>();

  /** A node without Raft: its store, its acknowledging audit writer, the application, its snapshots. */
  private static final class Node implements AutoCloseable {
    final Vertx vertx = Vertx.vertx();
    final Path dir;
    final OperationResultStore store;
    final ResultsApplication application;
    final Snapshots snapshots;
    final RaftStorageImpl raft;
    String audit;

    Node(Path dir) throws Exception {
      this.dir = dir;
      store = OperationResultStore.open(ServiceConfig.defaults(dir)
        .with(new JsonObject().put("store", new JsonObject().put("entries", 2_000))).storeOptions());
      Files.writeString(dir.resolve(OperationResultStore.KEY_SCHEME_FILE), "global\n");
      vertx.eventBus().<JsonObject>localConsumer(ResultEvents.AUDIT_WRITTEN, message -> {
        List<String> ids = new ArrayList<>();
        message.body().getJsonArray("eventIds", new JsonArray()).forEach(id -> ids.add((String) id));
        store.acknowledge(ids);
      });
      startAudit();
      application = new ResultsApplication(store, vertx.eventBus(), Clock.systemUTC(), false, Duration.ofDays(3650));
      snapshots = new Snapshots(dir, store, trail(), RaftReplication.trailInstaller(vertx));
      raft = StorageImplUtils.newRaftStorage(dir.resolve("raft").toFile(), SizeInBytes.valueOf(0),
        RaftStorage.StartupOption.FORMAT, RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
      raft.initialize();
      snapshots.init(raft);
      Files.createDirectories(smDir());
    }

    Path trail() {
      return dir.resolve("audit");
    }

    Path smDir() {
      return snapshots.storage().getSnapshotFile(0, 0).getParentFile().toPath();
    }

    void startAudit() throws Exception {
      audit = vertx.deployVerticle(new AuditVerticle(),
        new DeploymentOptions().setConfig(AuditVerticle.config(trail()))).await(10, TimeUnit.SECONDS);
    }

    void stopAudit() throws Exception {
      vertx.undeploy(audit).await(10, TimeUnit.SECONDS);
    }

    /** Offers the audit writer what the store still waits for (the service does so every second). */
    void redeliver() {
      for (PendingEvent event : store.pendingEvents(Long.MAX_VALUE, 10_000)) {
        vertx.eventBus().publish(ResultEvents.AUDIT_REDELIVER, Buffer.buffer(event.event()),
          new DeliveryOptions().setLocalOnly(true));
      }
    }

    /** The trail's lines once the audit writer has every change: each event's JSON. */
    List<String> audited() throws InterruptedException {
      await(() -> store.pendingCount() == 0);
      return AuditTrail.events(trail()).stream().map(JsonObject::encode).toList();
    }

    @Override
    public void close() throws Exception {
      snapshots.close();
      raft.close();
      vertx.close().await(10, TimeUnit.SECONDS);
      store.close();
    }
  }

  @AfterEach
  void close() throws Exception {
    for (Node node : nodes) {
      node.close();
    }
  }

  private Node node(Path dir) throws Exception {
    Node node = new Node(dir);
    nodes.add(node);
    return node;
  }

  @Test
  void aNodeThatInstallsASnapshotEndsWithTheTrailOfTheNodeThatTookIt() throws Exception {
    List<Command> log = SnapshotReplayTest.log(new Random(21), 900);
    int at = 600;
    Node a = node(dirA);
    Node b = node(dirB);

    // B applies and audits the first 150 entries, then is gone.
    apply(b, log, 0, 150);
    List<String> bBefore = b.audited();
    assertThat(bBefore).isNotEmpty();

    // A's audit writer is stopped for the 150 entries before the snapshot's index: their events wait in its outbox.
    apply(a, log, 0, 450);
    a.audited();
    a.stopAudit();
    apply(a, log, 450, at);
    assertThat(a.store.pendingCount()).isPositive();

    // The snapshot is started at its index, and waits for the trail while the log goes on.
    assertThat(a.snapshots.take(TermIndex.valueOf(1, at))).isEqualTo(RaftLog.INVALID_LOG_INDEX);
    apply(a, log, at, 750);
    Thread.sleep(500);
    assertThat(a.snapshots.take(TermIndex.valueOf(1, 750))).isEqualTo(RaftLog.INVALID_LOG_INDEX);
    a.startAudit();
    a.redeliver();
    long taken = RaftLog.INVALID_LOG_INDEX;
    for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
         taken == RaftLog.INVALID_LOG_INDEX && System.nanoTime() < deadline; Thread.sleep(20)) {
      taken = a.snapshots.take(TermIndex.valueOf(1, 750));
    }
    assertThat(taken).isEqualTo(at);
    apply(a, log, 750, log.size());
    List<String> aTrail = a.audited();

    // The snapshot: its file and its trail's files, the trail exactly A's lines up to its index.
    SnapshotInfo snapshot = a.snapshots.latest();
    assertThat(snapshot.getIndex()).isEqualTo(at);
    Path trail = Snapshots.trailOf(snapshot.getFiles().get(0).getPath());
    assertThat(snapshot.getFiles().stream().map(FileInfo::getPath).skip(1).toList())
      .isNotEmpty().allMatch(file -> file.getParent().equals(trail));
    List<String> upToIndex = aTrail.stream().filter(line -> new JsonObject(line).getLong("sequence") <= at).toList();
    assertThat(AuditTrail.events(trail).stream().map(JsonObject::encode).toList()).isEqualTo(upToIndex);

    // Ratis ships the snapshot's files into B's state-machine folder; B loads it, then applies the log after it.
    ship(a, b);
    assertThat(b.snapshots.restore()).isEqualTo(TermIndex.valueOf(1, at));
    // A crash before the restore was noted: the start does it again.
    assertThat(b.snapshots.restoreInterrupted()).isTrue();
    assertThat(b.snapshots.restore()).isEqualTo(TermIndex.valueOf(1, at));
    b.snapshots.restored();
    assertThat(b.store.pendingCount()).isZero();
    // A redelivery the store read before it forgot its events is dropped.
    b.vertx.eventBus().publish(ResultEvents.AUDIT_REDELIVER, Buffer.buffer(upToIndex.get(upToIndex.size() - 1)),
      new DeliveryOptions().setLocalOnly(true));
    apply(b, log, at, log.size());

    List<String> bTrail = b.audited();
    assertThat(bTrail).startsWith(bBefore.toArray(String[]::new));
    assertThat(bTrail).isEqualTo(aTrail);
    assertThat(bTrail).doesNotHaveDuplicates();
  }

  @Test
  void withTheAuditOffASnapshotHasNoTrailAndANodeInstallsItAlone() throws Exception {
    Node a = node(dirA);
    Snapshots plain = new Snapshots(dirA, a.store, null, null);
    plain.init(a.raft);
    List<Command> log = SnapshotReplayTest.log(new Random(22), 200);
    apply(a, log, 0, log.size());
    assertThat(plain.take(TermIndex.valueOf(1, 200))).isEqualTo(RaftLog.INVALID_LOG_INDEX);
    long taken = RaftLog.INVALID_LOG_INDEX;
    for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
         taken == RaftLog.INVALID_LOG_INDEX && System.nanoTime() < deadline; Thread.sleep(20)) {
      taken = plain.take(TermIndex.valueOf(1, 200));
    }
    assertThat(taken).isEqualTo(200);
    assertThat(plain.latest().getFiles()).hasSize(1);
    plain.close();

    // A node with its audit on that is sent it keeps its trail as it was and goes on after it.
    Node b = node(dirB);
    apply(b, log, 0, 50);
    List<String> before = b.audited();
    ship(a, b);
    assertThat(b.snapshots.restore()).isEqualTo(TermIndex.valueOf(1, 200));
    b.snapshots.restored();
    assertThat(b.audited()).isEqualTo(before);
  }

  /**
   * Applies entries {@code from} to {@code to} (log index = position + 1) as the state machine does: telling the
   * snapshots of each change first, so that a snapshot being written keeps what it changes.
   */
  private static void apply(Node node, List<Command> log, int from, int to) {
    for (int i = from; i < to; i++) {
      Command command = log.get(i);
      node.snapshots.beforeChange(command.key());
      try {
        node.application.apply(command, i + 1);
      } catch (ResultException e) {
        // refused at apply (409, 412, 404): no change, no event, as on every node
      }
    }
  }

  /** What Ratis does: the leader's snapshot files, in the follower's state-machine folder, which they replace. */
  private static void ship(Node from, Node to) throws IOException {
    Path source = from.smDir();
    Path target = to.smDir();
    try (Stream<Path> files = Files.walk(target)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : files.toList()) {
        Path copy = target.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(copy);
        } else {
          Files.copy(file, copy);
        }
      }
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out").isLessThan(deadline);
      Thread.sleep(10);
    }
  }
}
