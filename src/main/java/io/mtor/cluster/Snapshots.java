package io.mtor.cluster;

import io.mtor.audit.TrailSnapshots;
import io.mtor.store.OperationResultStore;
import io.mtor.store.PendingEvent;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * This node's snapshots, in the Raft storage's state-machine folder ({@code DATA_DIR/raft/<group>/sm}), one
 * {@link SnapshotFile} each, named and found as Ratis's {@link SimpleStateMachineStorage} does (so that Ratis ships the
 * newest to a node whose log position it has deleted, and keeps the newest two).
 *
 * <p>A snapshot is written on a thread of its own while the applying thread goes on (see {@link SnapshotCapture});
 * Ratis learns of it, and deletes the log before it, at its next call of {@link #take} once it is written.
 *
 * <p>With the audit trail on, a snapshot also carries the trail up to its index, in a folder beside its file
 * ({@code snapshot.<term>_<index>.audit}, see {@link TrailSnapshots}): the node that installs it completes its own
 * trail with it, so that its trail holds the changes it did not apply itself. Ratis ships the folder's files with the
 * snapshot's (a snapshot is the list of files {@link #latest} names) and replaces the receiver's state-machine folder
 * with them. The trail is taken once every change up to the index is written to it (the audit writer lags the store:
 * the snapshot waits until the store's outbox holds none of those changes' events), and only then is the snapshot's
 * file given its name: a snapshot found under its name always has its trail.
 */
final class Snapshots implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Snapshots.class);
  /** In the data folder while a snapshot replaces the store: a start that finds it loads the snapshot again. */
  static final String RESTORING = "raft-restoring";

  /** Beside a snapshot's file: its audit trail. */
  static final String TRAIL_SUFFIX = ".audit";
  /** Beside a snapshot's file while it is being written (the file, then its trail's folder). */
  private static final String PART_SUFFIX = ".part";
  private static final String TEMP_SUFFIX = ".tmp";
  private static final long AUDIT_WAIT_WARN_NANOS = TimeUnit.SECONDS.toNanos(30);
  /**
   * The heap the before-images of one snapshot may take ({@link SnapshotCapture}): an eighth of the heap's maximum
   * (64 MiB with the shipped 512 MiB).
   */
  static final long MAX_CAPTURE_BYTES = Runtime.getRuntime().maxMemory() / 8;
  /** After a snapshot abandoned for its before-images, the next is not tried sooner than this. */
  static final long RETRY_AFTER_OVERFLOW_NANOS = TimeUnit.SECONDS.toNanos(60);

  /**
   * Completes this node's trail with a snapshot's, through its audit writer
   * ({@link io.mtor.events.ResultEvents#AUDIT_INSTALL}).
   */
  interface TrailInstaller {
    void install(Path snapshotTrail, long index) throws IOException;
  }

  private final Path dataDir;
  private final OperationResultStore store;
  /** This node's audit trail, or null when the audit is off. */
  private final Path trailDir;
  private final TrailInstaller installer;
  /** Ratis's, and after it deletes old snapshot files, the trail folders and unfinished files they leave. */
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage() {
    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
      super.cleanupOldSnapshots(policy);
      deleteOrphans(false);
    }
  };
  /** {@link #latest}'s answer for the newest snapshot, once its files are listed. */
  private volatile SnapshotInfo latestInfo;
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread thread = new Thread(r, "snapshot-writer");
    thread.setDaemon(true);
    return thread;
  });
  /** Non-null while a snapshot is being written. */
  private volatile SnapshotCapture capture;
  /** The snapshot being written (or written and not yet reported to Ratis); only the applying thread touches it. */
  private CompletableFuture<SingleFileSnapshotInfo> running;
  /** The capture of {@link #running}. */
  private SnapshotCapture runningCapture;
  /** No snapshot is started before this ({@link System#nanoTime}), after one abandoned for its before-images. */
  private long notBefore = System.nanoTime();

  /**
   * @param trailDir  this node's audit trail, or null when the audit is off (snapshots then carry no trail)
   * @param installer completes this node's trail with an installed snapshot's; null when the audit is off
   */
  Snapshots(Path dataDir, OperationResultStore store, Path trailDir, TrailInstaller installer) {
    this.dataDir = dataDir;
    this.store = store;
    this.trailDir = trailDir;
    this.installer = installer;
  }

  void init(RaftStorage raftStorage) throws IOException {
    storage.init(raftStorage);
    deleteOrphans(true);
  }

  SimpleStateMachineStorage storage() {
    return storage;
  }

  /** The newest snapshot written here or installed from the leader, or null: its file and its trail's files. */
  SnapshotInfo latest() {
    SingleFileSnapshotInfo single = storage.getLatestSnapshot();
    if (single == null) {
      return null;
    }
    SnapshotInfo known = latestInfo;
    if (known != null && known.getTermIndex().equals(single.getTermIndex())) {
      return known;
    }
    List<FileInfo> files = new ArrayList<>();
    files.add(single.getFile());
    try {
      for (Path file : TrailSnapshots.files(trailOf(single.getFile().getPath()))) {
        files.add(new FileInfo(file, null));
      }
    } catch (IOException e) {
      LOG.warn("The trail of snapshot {} could not be listed: {}", single.getFile().getPath(), e.toString());
      return single;
    }
    latestInfo = new FileListSnapshotInfo(files, single.getTermIndex());
    return latestInfo;
  }

  /** The folder of the audit trail of the snapshot in {@code file}. */
  static Path trailOf(Path file) {
    return file.resolveSibling(file.getFileName() + TRAIL_SUFFIX);
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
      if (runningCapture.overflowed()) {
        // Writes during the snapshot changed more records than the heap may keep before-images of: trying again at
        // once would most likely end the same way, and read the whole store each time.
        LOG.warn("Snapshot abandoned: the records changed while it was written passed {} MiB of before-images; next "
          + "try in {} s", MAX_CAPTURE_BYTES >> 20, TimeUnit.NANOSECONDS.toSeconds(RETRY_AFTER_OVERFLOW_NANOS));
        notBefore = System.nanoTime() + RETRY_AFTER_OVERFLOW_NANOS;
      }
    }
    if (System.nanoTime() - notBefore < 0) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    SnapshotInfo latest = latest();
    if (applied == null || latest != null && latest.getIndex() >= applied.getIndex()) {
      return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
    }
    SnapshotCapture started = new SnapshotCapture(store, MAX_CAPTURE_BYTES);
    Map<String, byte[]> shared = SnapshotFile.sharedFiles(dataDir);
    // Every change up to the snapshot's index has its event at or below this in the store's outbox, until audited.
    long events = trailDir == null ? 0 : store.lastEventSequence();
    capture = started;
    runningCapture = started;
    running = CompletableFuture.supplyAsync(() -> write(applied, shared, started, events), writer);
    return RaftLog.INVALID_LOG_INDEX;
  }

  private SingleFileSnapshotInfo write(TermIndex at, Map<String, byte[]> shared, SnapshotCapture started,
                                       long events) {
    long begun = System.nanoTime();
    File target = storage.getSnapshotFile(at.getTerm(), at.getIndex());
    Path part = target.toPath().resolveSibling(target.getName() + PART_SUFFIX);
    Path trail = trailOf(target.toPath());
    Path trailPart = trail.resolveSibling(trail.getFileName() + TEMP_SUFFIX);
    try {
      if (!SnapshotFile.write(part, at, shared, store, started)) {
        LOG.info("Snapshot at index {} abandoned", at.getIndex());
        return null;
      }
      String trailNote = "";
      if (trailDir != null) {
        long records = System.nanoTime();
        if (!awaitAudited(at.getIndex(), events, started)) {
          LOG.info("Snapshot at index {} abandoned", at.getIndex());
          return null;
        }
        deleteTree(trailPart);
        deleteTree(trail);
        TrailSnapshots.Counts counts = TrailSnapshots.capture(trailDir, trailPart, at.getIndex());
        Files.move(trailPart, trail, StandardCopyOption.ATOMIC_MOVE);
        trailNote = String.format("; audit trail: %d files linked, %d copied (%d KiB) in %d ms", counts.linked(),
          counts.written(), counts.bytes() >> 10, (System.nanoTime() - records) / 1_000_000);
      }
      Files.move(part, target.toPath(), StandardCopyOption.ATOMIC_MOVE);
      MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(target);
      SingleFileSnapshotInfo info = new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), at);
      storage.updateLatestSnapshot(info);
      LOG.info("Snapshot at index {} written: {} ({} KiB) in {} ms{}", at.getIndex(), target.getName(),
        target.length() >> 10, (System.nanoTime() - begun) / 1_000_000, trailNote);
      return info;
    } catch (IOException | RuntimeException e) {
      LOG.error("Snapshot at index {} failed", at.getIndex(), e);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } finally {
      capture = null;
      try {
        Files.deleteIfExists(part);
        deleteTree(trailPart);
      } catch (IOException e) {
        LOG.warn("Could not delete an unfinished snapshot's files: {}", e.toString());
      }
    }
  }

  /**
   * Waits until the audit trail has every change up to the snapshot's index: the store's outbox holds no event at or
   * below {@code events}. False if the snapshot is cancelled meanwhile.
   */
  private boolean awaitAudited(long index, long events, SnapshotCapture started) throws InterruptedException {
    long warnAt = System.nanoTime() + AUDIT_WAIT_WARN_NANOS;
    while (!started.cancelled()) {
      List<PendingEvent> oldest = store.pendingEvents(Long.MAX_VALUE, 1);
      if (oldest.isEmpty() || oldest.get(0).sequence() > events) {
        return true;
      }
      if (System.nanoTime() > warnAt) {
        LOG.warn("Snapshot at index {} waits for the audit trail to write the changes up to it ({} events pending)",
          index, store.pendingCount());
        warnAt += AUDIT_WAIT_WARN_NANOS;
      }
      Thread.sleep(50);
    }
    return false;
  }

  /**
   * Deletes the trail folders of snapshots Ratis has deleted, and with {@code unfinished} (at start, when no snapshot
   * is being written) the files of snapshots a crash cut short.
   */
  private void deleteOrphans(boolean unfinished) throws IOException {
    File dir = storage.getSnapshotFile(0, 0).getParentFile();
    if (dir == null || !dir.isDirectory()) {
      return;
    }
    try (Stream<Path> entries = Files.list(dir.toPath())) {
      for (Path entry : entries.toList()) {
        String name = entry.getFileName().toString();
        boolean orphanTrail = name.endsWith(TRAIL_SUFFIX)
          && !Files.exists(entry.resolveSibling(name.substring(0, name.length() - TRAIL_SUFFIX.length())));
        boolean cutShort = unfinished && (name.endsWith(PART_SUFFIX) || name.endsWith(PART_SUFFIX + TEMP_SUFFIX)
          || name.endsWith(TRAIL_SUFFIX + TEMP_SUFFIX));
        if (orphanTrail || cutShort) {
          deleteTree(entry);
        }
      }
    }
  }

  private static void deleteTree(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> files = Files.walk(path)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
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
    if (installer != null) {
      Path trail = trailOf(file.toPath());
      if (!Files.isDirectory(trail)) {
        LOG.warn("Snapshot {} carries no audit trail (its node's audit is off): this node's trail lacks the changes up "
          + "to index {} that it did not apply itself", file.getName(), at.getIndex());
      }
      installer.install(trail, at.getIndex());
      // The changes the outbox still waited to audit are all at or below the snapshot's index: in the trail now.
      store.clearEvents();
    }
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
