package io.mtor.cluster;

import io.mtor.store.OperationResultStore;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * This node's snapshots, in the Raft storage's state-machine folder ({@code DATA_DIR/raft/<group>/sm}), one
 * {@link SnapshotFile} each, named and found as Ratis's {@link SimpleStateMachineStorage} does (so that Ratis ships the
 * newest to a node whose log position it has deleted, and keeps the newest two).
 *
 * <p>A snapshot is written on a thread of its own while the applying thread goes on (see {@link SnapshotCapture});
 * Ratis learns of it, and deletes the log before it, at its next call of {@link #take} once it is written.
 */
final class Snapshots implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Snapshots.class);
  /** In the data folder while a snapshot replaces the store: a start that finds it loads the snapshot again. */
  static final String RESTORING = "raft-restoring";

  private final Path dataDir;
  private final OperationResultStore store;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread thread = new Thread(r, "snapshot-writer");
    thread.setDaemon(true);
    return thread;
  });
  /** Non-null while a snapshot is being written. */
  private volatile SnapshotCapture capture;
  /** The snapshot being written (or written and not yet reported to Ratis); only the applying thread touches it. */
  private CompletableFuture<SingleFileSnapshotInfo> running;

  Snapshots(Path dataDir, OperationResultStore store) {
    this.dataDir = dataDir;
    this.store = store;
  }

  void init(RaftStorage raftStorage) throws IOException {
    storage.init(raftStorage);
  }

  SimpleStateMachineStorage storage() {
    return storage;
  }

  /** The newest snapshot written here or installed from the leader, or null. */
  SingleFileSnapshotInfo latest() {
    return storage.getLatestSnapshot();
  }

  /** Called by the applying thread before it changes the record {@code key}. */
  void beforeChange(String key) {
    SnapshotCapture current = capture;
    if (current != null) {
      current.beforeChange(key);
    }
  }

  /**
   * Ratis's {@code takeSnapshot}, on the applying thread once {@code cluster.snapshotEveryEntries} entries were applied
   * since the last snapshot it knows: starts writing one at {@code applied}, or reports the one written since.
   *
   * @return the index of a snapshot written since the last call, else -1 (none yet: Ratis asks again after the next
   * entries)
   */
  long take(TermIndex applied) throws IOException {
    if (running != null) {
      if (!running.isDone()) {
        return RaftLog.INVALID_LOG_INDEX;
      }
      SingleFileSnapshotInfo written = running.join();
      running = null;
      if (written != null) {
        return written.getIndex();
      }
    }
    SingleFileSnapshotInfo latest = latest();
    if (applied == null || latest != null && latest.getIndex() >= applied.getIndex()) {
      return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
    }
    SnapshotCapture started = new SnapshotCapture(store);
    Map<String, byte[]> shared = SnapshotFile.sharedFiles(dataDir);
    capture = started;
    running = CompletableFuture.supplyAsync(() -> write(applied, shared, started), writer);
    return RaftLog.INVALID_LOG_INDEX;
  }

  private SingleFileSnapshotInfo write(TermIndex at, Map<String, byte[]> shared, SnapshotCapture started) {
    long begun = System.nanoTime();
    File target = storage.getSnapshotFile(at.getTerm(), at.getIndex());
    try {
      if (!SnapshotFile.write(target.toPath(), at, shared, store, started)) {
        LOG.info("Snapshot at index {} abandoned", at.getIndex());
        return null;
      }
      MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(target);
      SingleFileSnapshotInfo info = new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), at);
      storage.updateLatestSnapshot(info);
      LOG.info("Snapshot at index {} written: {} ({} KiB) in {} ms", at.getIndex(), target.getName(),
        target.length() >> 10, (System.nanoTime() - begun) / 1_000_000);
      return info;
    } catch (IOException | RuntimeException e) {
      LOG.error("Snapshot at index {} failed", at.getIndex(), e);
      return null;
    } finally {
      capture = null;
    }
  }

  /** Whether a start finds a replacement of the store by a snapshot cut short. */
  boolean restoreInterrupted() {
    return Files.exists(dataDir.resolve(RESTORING));
  }

  /**
   * Replaces the store's records (and the shared files it lacks) with the newest snapshot, the leader's once Ratis has
   * installed it. Leaves the {@value #RESTORING} mark until {@link #restored}: the caller notes the index first.
   */
  TermIndex restore() throws IOException {
    stopWriting();
    SingleFileSnapshotInfo latest = storage.loadLatestSnapshot();
    if (latest == null) {
      throw new IOException("No snapshot to load in " + storage.getSnapshotFile(0, 0).getParent());
    }
    File file = latest.getFile().getPath().toFile();
    if (latest.getFile().getFileDigest() != null) {
      MD5FileUtil.verifySavedMD5(file, latest.getFile().getFileDigest());
    }
    long begun = System.nanoTime();
    Files.write(dataDir.resolve(RESTORING), new byte[0]);
    TermIndex at = SnapshotFile.load(file.toPath(), store, dataDir);
    LOG.info("Store replaced by snapshot {}: {} records in {} ms", file.getName(), store.size(),
      (System.nanoTime() - begun) / 1_000_000);
    return at;
  }

  void restored() throws IOException {
    Files.deleteIfExists(dataDir.resolve(RESTORING));
  }

  /** Stops a snapshot being written, and waits for its thread to let go of the store. */
  private void stopWriting() {
    SnapshotCapture current = capture;
    if (current != null) {
      current.cancel();
    }
    if (running != null) {
      running.join();
      running = null;
    }
  }

  @Override
  public void close() {
    stopWriting();
    writer.shutdown();
  }
}
