package io.mtor.cluster;

import io.mtor.app.Command;
import io.mtor.app.ResultsApplication;
import io.mtor.domain.ResultException;
import io.mtor.store.OperationResultStore;
import io.vertx.core.json.JsonObject;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The replicated state machine: each committed log entry is a {@link Command} as JSON (or the cluster's keys), applied
 * in log order, on Ratis's one applying thread, through the application service's own {@code apply}, with the log
 * index as the event's sequence number. Its answer (the record, or the command's failure) goes back to the node that
 * proposed it as the entry's reply.
 *
 * <p>The store is the state; it persists itself. At a start the state machine reports the index it last applied
 * (noted in {@link AppliedIndex}) as its snapshot, so that Ratis resumes the log after it. Besides, every
 * {@code cluster.snapshotEveryEntries} entries it writes a real snapshot ({@link Snapshots}), a file Ratis can ship;
 * once one is written Ratis deletes the log before it, and a node whose position in the log is gone (down too long,
 * or a new or wiped node) is sent the leader's newest snapshot, which replaces its store ({@link #reinitialize}) and
 * completes its audit trail, then the log after it.
 */
final class CommandStateMachine extends BaseStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(CommandStateMachine.class);

  private final Path dataDir;
  private final boolean devKey;
  private final Snapshots snapshots;
  private final CompletableFuture<LogApplier> applier = new CompletableFuture<>();
  /** Those waiting for an index to be applied, by that index. */
  private final ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiting = new ConcurrentSkipListMap<>();
  private final AtomicLong leaderChanges = new AtomicLong();
  private AppliedIndex noted;
  /** Told when this node may have become or stopped being the leader. */
  private volatile Runnable roleListener = () -> { };
  /**
   * How many of the entries after a restart may have reached the store without their note (see {@link AppliedIndex}
   * and {@link LogApplier#MAX_UNDER_WAY}). Used on the applying thread only.
   */
  private int unchecked = LogApplier.MAX_UNDER_WAY;
  /**
   * Where the store stands at a start, reported as the latest snapshot while the Raft server starts (see
   * {@link #started}): Ratis resumes applying after the snapshot it is told of then, and the store is further on than
   * its newest snapshot file.
   */
  private volatile TermIndex resumeAt;

  /**
   * @param trailDir  this node's audit trail, or null when the audit is off
   * @param installer completes the trail with an installed snapshot's (see {@link Snapshots}); null when the audit is
   *                  off
   */
  CommandStateMachine(Path dataDir, boolean devKey, OperationResultStore store, Path trailDir,
                      Snapshots.TrailInstaller installer) {
    this.dataDir = dataDir;
    this.devKey = devKey;
    this.snapshots = new Snapshots(dataDir, store, trailDir, installer);
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
    getLifeCycle().startAndTransition(() -> {
      super.initialize(server, groupId, storage);
      snapshots.init(storage);
      noted = AppliedIndex.open(dataDir);
      if (snapshots.restoreInterrupted()) {
        LOG.warn("The previous process died while a snapshot replaced the store: loading it again");
        restore();
      }
      if (noted.index() >= 0) {
        updateLastAppliedTermIndex(noted.term(), noted.index());
        resumeAt = TermIndex.valueOf(noted.term(), noted.index());
      }
    }, IOException.class);
  }

  /**
   * The Raft server has started (its log is open, its applying thread knows where to resume): from now on the latest
   * snapshot is the newest snapshot file, which a leader can send to a follower.
   */
  void started() {
    resumeAt = null;
  }

  /** Lets entries be applied: until then (the service starting), the applying thread waits. */
  void attach(ResultsApplication results) {
    applier.complete(new LogApplier(results, snapshots::beforeChange));
  }

  /** The index this node has applied, or -1. */
  long appliedIndex() {
    TermIndex applied = getLastAppliedTermIndex();
    return applied == null ? -1 : applied.getIndex();
  }

  /** {@code listener} is told (on a Ratis thread) when this node may have become, or stopped being, the leader. */
  void roleListener(Runnable listener) {
    roleListener = listener;
  }

  long leaderChanges() {
    return leaderChanges.get();
  }

  /** Completes (on Ratis's applying thread) once {@code index} is applied here. */
  CompletableFuture<Void> applied(long index) {
    if (appliedIndex() >= index) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> wait = waiting.computeIfAbsent(index, i -> new CompletableFuture<>());
    if (appliedIndex() >= index) {
      wait.complete(null);
    }
    return wait;
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    TermIndex resume = resumeAt;
    if (resume == null) {
      return snapshots.latest();
    }
    return new SnapshotInfo() {
      @Override
      public TermIndex getTermIndex() {
        return resume;
      }

      @Override
      public List<FileInfo> getFiles() {
        return List.of();
      }
    };
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return snapshots.storage();
  }

  @Override
  public long takeSnapshot() throws IOException {
    // On the applying thread: once the entries under way are done, the store holds exactly the applied ones.
    drain();
    return snapshots.take(getLastAppliedTermIndex());
  }

  /** The applier once the service has started and until this closes, else null. */
  private LogApplier applierNow() {
    return applier.isDone() && !applier.isCompletedExceptionally() ? applier.join() : null;
  }

  /** Waits until every entry handed to the store is applied and noted. */
  private void drain() {
    LogApplier started = applierNow();
    if (started != null) {
      started.drain();
    }
  }

  /** Ratis is about to install the leader's snapshot (called for each of its chunks). */
  @Override
  public void pause() {
    drain();
    if (!getLifeCycleState().isPausingOrPaused()) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  /** The leader's snapshot is installed in the state-machine folder: it replaces the store; the log follows it. */
  @Override
  public void reinitialize() throws IOException {
    restore();
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }

  private void restore() throws IOException {
    TermIndex at = snapshots.restore();
    setLastAppliedTermIndex(at);
    unchecked = 0;
    appliedUpTo(at.getTerm(), at.getIndex());
    snapshots.restored();
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    // A linearizable read asks nothing of the state machine: once Ratis calls this, the node has applied every
    // entry committed before the read began, and the caller reads its own store.
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /**
   * Hands the entry to the store (see {@link LogApplier}): its answer completes, and its index is noted as applied, once
   * its write is done and every entry before it is noted.
   */
  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    Command command;
    try {
      JsonObject json = new JsonObject(entry.getStateMachineLogEntry().getLogData().toStringUtf8());
      if (ClusterKeys.TYPE.equals(json.getString("type"))) {
        // Applied at once, before the service starts too: the service waits for the keys to start.
        drain();
        ClusterKeys.apply(dataDir, json, devKey);
        appliedUpTo(entry.getTerm(), index);
        return CompletableFuture.completedFuture(Message.valueOf(new JsonObject().put("ok", true).encode()));
      }
      command = Command.fromJson(json);
    } catch (IOException | RuntimeException e) {
      LOG.error("Log entry {} could not be applied", index, e);
      drain();
      appliedUpTo(entry.getTerm(), index);
      return CompletableFuture.completedFuture(
        Message.valueOf(LogApplier.failure(ResultException.storeUnavailable(e)).encode()));
    }
    LogApplier logApplier;
    CompletableFuture<JsonObject> reply;
    try {
      logApplier = applier.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(e);
    } catch (ExecutionException e) {
      // Closed before the service started: the entry is not applied, and not noted as applied.
      return CompletableFuture.failedFuture(e.getCause());
    }
    boolean check = unchecked > 0;
    if (check) {
      unchecked--;
    }
    try {
      reply = logApplier.apply(command, index, check);
    } catch (InterruptedException e) {
      // Not applied: nothing after it may be noted either.
      logApplier.halt("log entry " + index + " not applied: interrupted");
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(e);
    } catch (LogApplier.Halted e) {
      if (logApplier.stopping()) {
        // The node is stopping anyway (its Raft server with it): no reason to fail Ratis's applying thread.
        return CompletableFuture.failedFuture(e);
      }
      // Thrown on Ratis's applying thread, it stops this node's Raft server: this node applies nothing more.
      throw e;
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<JsonObject> answered = reply.exceptionally(e -> {
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      LOG.error("Log entry {} could not be applied", index, cause);
      return LogApplier.failure(ResultException.storeUnavailable(cause));
    });
    return logApplier.inOrder(answered, () -> appliedUpTo(entry.getTerm(), index))
      .thenApply(answer -> Message.valueOf(answer.encode()));
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    // Configuration and other entries of Ratis's own: applied too, after the entries before them.
    if (applier.isCompletedExceptionally()) {
      // Closed: an entry before this one may not have been applied.
      return;
    }
    LogApplier started = applierNow();
    if (started == null) {
      appliedUpTo(term, index);
    } else {
      started.inOrder(CompletableFuture.completedFuture(null), () -> appliedUpTo(term, index));
    }
  }

  private void appliedUpTo(long term, long index) {
    updateLastAppliedTermIndex(term, index);
    noted.note(term, index);
    for (Map.Entry<Long, CompletableFuture<Void>> first; (first = waiting.firstEntry()) != null
      && first.getKey() <= index; ) {
      CompletableFuture<Void> wait = waiting.remove(first.getKey());
      if (wait != null) {
        wait.complete(null);
      }
    }
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    leaderChanges.incrementAndGet();
    LOG.info("Leader is now {}", newLeaderId);
    roleListener.run();
  }

  @Override
  public void notifyLeaderReady() {
    // This node is the leader and has committed the first entry of its term.
    roleListener.run();
  }

  /** Why this node's applying waits for its store now, or null (see {@link LogApplier#stalled}). */
  String stalled() {
    LogApplier started = applierNow();
    return started == null ? null : started.stalled();
  }

  /**
   * Ends a wait of the applying thread for the store (see {@link LogApplier}): called before the Raft server stops,
   * which waits for that thread.
   */
  void stopApplying() {
    LogApplier started = applierNow();
    if (started != null) {
      started.close();
    }
  }

  @Override
  public void close() throws IOException {
    stopApplying();
    applier.completeExceptionally(new IllegalStateException("closed"));
    snapshots.close();
    if (noted != null) {
      noted.close();
    }
    super.close();
  }
}
