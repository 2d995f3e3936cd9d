package io.mtor.store;

import io.mtor.domain.ResultException;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Owns the process's Chronicle Maps: the managedTenantOperationResults, keyed by id, whose values are the
 * entities' UTF-8 JSON exactly as GET returns them (without {@code @odata.context}), in a series of files that
 * grows with the data ({@link RecordVolumes}); the outbox of events not yet in the audit trail ({@link Outbox});
 * and the ordered index ({@link OrderedIndex}, written in batches by {@link IndexWriter}). This class owns the
 * files' life: the folder lock, the marker of an unclean exit, recovery, the order of writes across the maps, and
 * the free-space reserve ({@link DiskSpace}).
 *
 * <p>Writes go to memory-mapped pages, so a write that returned survives the death of the process
 * ({@code kill -9}); the kernel writes the pages back. An unclean exit is detected with a marker file that
 * exists only while the maps are open: when it is found at start-up the maps are opened with
 * {@code recoverPersistedTo}, which also releases segment locks held by the dead process. A lock on
 * {@code store.lock} keeps a second process from opening the same data folder.
 *
 * <p>Every write puts its event in the outbox first and the record second, so that whatever the moment of a
 * crash, a stored record's event is in the outbox or already acknowledged by the audit trail. At open, an
 * outbox entry whose write did not reach the records (the crash fell between the two) is dropped: its
 * request was never acknowledged. The audit trail acknowledges the events it has written with
 * {@link #acknowledge}.
 *
 * <p>Chronicle's own close-on-exit hook is disabled: the service closes the store itself, after the HTTP
 * server has stopped, so that no request can touch a closed map.
 */
public final class OperationResultStore implements AutoCloseable {

  /** The map files' names carry their format version, so that a future format can live beside them. */
  public static final String MAP_FILE = RecordVolumes.FIRST_FILE;
  public static final String OUTBOX_FILE = "outbox-v1.dat";
  /** The Chronicle Map of the secondary indexes before the ordered index replaced it; removed at open. */
  static final String OLD_INDEX_FILE = "index-v1.dat";
  static final String OPEN_MARKER = MAP_FILE + ".open";
  static final String LOCK_FILE = "store.lock";
  /**
   * The file in the data folder that says how the service keys records ({@code tenant} or {@code global}; written and
   * checked by the service): a copy of the store (a cluster snapshot) carries it with the records.
   */
  public static final String KEY_SCHEME_FILE = "key-scheme";

  private static final Logger LOG = LoggerFactory.getLogger(OperationResultStore.class);

  static {
    // Chronicle otherwise tries to reach an analytics host; set here too so that a host app or a plain
    // `java -jar` without scripts/jvm-flags stays offline.
    if (System.getProperty("chronicle.analytics.disable") == null) {
      System.setProperty("chronicle.analytics.disable", "true");
    }
  }

  private final RecordVolumes records;
  private final Outbox outbox;
  private final DiskSpace disk;
  private final OrderedIndex index;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Path openMarker;
  private final boolean recovered;
  private final StoreOptions options;
  private final IndexWriter writer;
  /** Events of writes not yet stored and indexed: see {@link #writing}. */
  private final Set<String> underWay = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /** Records reconciled per index transaction when many are. */
  private static final int RECONCILE_BATCH = 1000;

  private OperationResultStore(RecordVolumes records, Outbox outbox, DiskSpace disk,
                               OrderedIndex index, FileChannel lockChannel, FileLock lock, Path openMarker,
                               boolean recovered, StoreOptions options) {
    this.records = records;
    this.outbox = outbox;
    this.disk = disk;
    this.index = index;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.openMarker = openMarker;
    this.recovered = recovered;
    this.options = options;
    this.writer = new IndexWriter(index, records::get);
  }

  /**
   * Opens (creating if needed) the store in {@code options.dataDir()}, recovering it if the previous
   * process did not close it.
   *
   * @throws IllegalStateException if another process holds the data folder
   * @throws UncheckedIOException  if the folder or the map files cannot be opened
   */
  public static OperationResultStore open(StoreOptions options) {
    Path dir = options.dataDir();
    FileChannel lockChannel = null;
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new IllegalStateException("Data folder " + dir.toAbsolutePath()
          + " is in use by another process (or another store in this one)");
      }
      Path marker = dir.resolve(OPEN_MARKER);
      boolean unclean = Files.exists(marker);
      // The marker goes down before the maps are touched, so that a crash at any later point is seen as one.
      Files.write(marker, new byte[0]);
      if (unclean) {
        LOG.warn("Store in {} was not closed cleanly by the previous process: recovering it", dir);
      }
      DiskSpace disk = new DiskSpace(dir, options.minFreeDiskBytes());
      RecordVolumes records = RecordVolumes.open(options, disk, unclean);
      opened.add(records);
      ChronicleMap<String, byte[]> outboxMap = options.outboxEntries() == 0 ? null
        : openMap(ChronicleMapBuilder.of(String.class, byte[].class)
        .name("outbox")
        .entries(options.outboxEntries())
        .averageKeySize(36)
        .averageValueSize(PendingEvent.averageSize(options.averageValueBytes())), dir.resolve(OUTBOX_FILE), unclean);
      Outbox outbox = new Outbox(outboxMap);
      opened.add(outbox);
      OrderedIndex index = OrderedIndex.open(dir, options.indexedProperties());
      opened.add(index);
      long records0 = records.size();
      List<RecordVolumes.Volume> volumes = records.volumes();
      LOG.info("Store {} open: {} records in {} files ({} MiB on disk; the newest, {}, sized for {} entries of ~{} B); "
          + "{} MiB free (reserve {} MiB, budget {}); {} events awaiting the audit trail (outbox sized for {}){}", dir,
        records0, volumes.size(), records.bytesOnDisk() >> 20, volumes.get(volumes.size() - 1).file.getFileName(),
        volumes.get(volumes.size() - 1).sized, options.averageValueBytes(), disk.usableBytes() >> 20,
        options.minFreeDiskBytes() >> 20, options.diskBudgetBytes() == 0 ? "none" : (options.diskBudgetBytes() >> 20) + " MiB",
        outbox.pendingCount(), options.outboxEntries(), unclean ? "; recovered after an unclean exit" : "");
      OperationResultStore store = new OperationResultStore(records, outbox, disk, index, lockChannel, lock, marker,
        unclean, options);
      store.recoverIndex(unclean);
      outbox.dropUncommittedEvents(records::get);
      Files.deleteIfExists(dir.resolve(OLD_INDEX_FILE));
      return store;
    } catch (IOException e) {
      closeAll(opened);
      closeQuietly(lockChannel);
      throw new UncheckedIOException("Cannot open the store in " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeAll(opened);
      closeQuietly(lockChannel);
      throw e;
    }
  }

  /** Closes what an open that failed half-way had opened, newest first. */
  private static void closeAll(List<AutoCloseable> opened) {
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        LOG.warn("Could not close {} after a failed open: {}", opened.get(i), e.toString());
      }
    }
  }

  /**
   * Makes the index match the records after what the previous process left. Every write changes the index last
   * (outbox event, record, index), so after an unclean exit only the records named by outbox events can differ
   * from their index entries (every write in flight had its event there, and events leave the outbox only once
   * the write is done): they are reconciled, with the idempotency keys of the creates among them whose records
   * were written. Without an outbox, or with an index that was never completed (a data
   * folder older than the index, or a crash while building it), every record is.
   */
  private void recoverIndex(boolean unclean) {
    long started = System.nanoTime();
    if (!index.built()) {
      LOG.info("Building the ordered index of {} records", records.size());
      reconcileEverything();
      index.markBuilt();
      LOG.info("Ordered index built for {} records in {} ms", records.size(), (System.nanoTime() - started) / 1_000_000);
    } else if (unclean && outbox.map() != null) {
      Set<String> keys = new LinkedHashSet<>(outbox.recordIds());
      Map<String, Map<String, String>> points = outbox.pointsOfWrittenCreates(records::get);
      index.reconcileAll(keys, records::get, key -> points.getOrDefault(key, Map.of()), RECONCILE_BATCH);
      LOG.info("Reconciled the index of {} records named by outbox events in {} ms", keys.size(),
        (System.nanoTime() - started) / 1_000_000);
    } else if (unclean) {
      reconcileEverything();
      LOG.info("Reconciled the index of every record ({}; no outbox to narrow it) in {} ms", records.size(),
        (System.nanoTime() - started) / 1_000_000);
    }
  }

  /**
   * Reconciles every record and every key the index holds (records gone since), a batch at a time: at open nothing
   * else writes, and memory stays that of a batch whatever the number of records.
   */
  private void reconcileEverything() {
    Map<String, byte[]> batch = new HashMap<>();
    long started = System.nanoTime();
    long[] done = {0};
    records.forEach((key, record) -> {
      batch.put(key, record.clone());
      if (batch.size() == RECONCILE_BATCH) {
        index.reconcileAll(batch.keySet(), batch::get, RECONCILE_BATCH);
        batch.clear();
      }
      if (++done[0] % 1_000_000 == 0) {
        LOG.info("Index: {} records reconciled in {} s", done[0], (System.nanoTime() - started) / 1_000_000_000);
      }
    });
    index.reconcileAll(batch.keySet(), batch::get, RECONCILE_BATCH);
    String after = null;
    for (List<String> keys = index.keys(null, RECONCILE_BATCH); !keys.isEmpty();
         keys = index.keys(after, RECONCILE_BATCH)) {
      after = keys.get(keys.size() - 1);
      List<String> stale = new ArrayList<>(keys);
      stale.removeIf(key -> records.get(key) != null);
      index.reconcileAll(stale, records::get, RECONCILE_BATCH);
    }
  }

  private static ChronicleMap<String, byte[]> openMap(ChronicleMapBuilder<String, byte[]> builder, Path file,
                                                      boolean unclean) throws IOException {
    builder.skipCloseOnExitHook(true);
    return unclean && Files.exists(file)
      ? builder.recoverPersistedTo(file.toFile(), true)
      : builder.createPersistedTo(file.toFile());
  }

  public boolean isOpen() {
    return !closed;
  }

  /**
   * Forces the map files' written pages to disk (fsync). Writes are in memory-mapped pages: they survive the
   * process dying at once, but a power loss only once the kernel, or this, has written them back.
   */
  public void sync() {
    if (closed) {
      return;
    }
    records.sync();
    index.sync();
    ChronicleMap<String, byte[]> outboxMap = outbox.map();
    if (outboxMap != null) {
      try (FileChannel channel = FileChannel.open(outboxMap.file().toPath(), StandardOpenOption.WRITE)) {
        channel.force(false);
      } catch (IOException e) {
        LOG.warn("Could not sync {}: {}", outboxMap.file(), e.getMessage());
      }
    }
  }

  /** Whether this open had to recover the maps after an unclean exit of the previous process. */
  public boolean recovered() {
    return recovered;
  }

  /**
   * Stores {@code entity} under {@code id} unless the id is taken, with its event in the outbox, and indexes it.
   * Atomic: of concurrent inserts of one id, exactly one succeeds, and only its event stays in the outbox. The
   * record and index writes happen on the index writer's thread in a batch with others ({@link IndexWriter}).
   *
   * @param points pseudo-properties ({@code @name}: idempotency keys) to index with the record, which does not hold
   *               them; its own properties are indexed from the record
   * @return completes once the record is stored and indexed; fails with {@link ResultException} {@code CONFLICT}
   *         if the id exists, {@code STORE_FULL} if the store has no room or the disk is below its reserve (nothing
   *         written), {@code AUDIT_BACKLOG_FULL} if the outbox has no room
   */
  public CompletableFuture<Void> insertAsync(String id, byte[] entity, Map<String, String> points, String eventId,
                                             byte[] event) {
    RecordVolumes records;
    try {
      records = writableRecords();
      outbox.put(eventId, id, entity, event, points);
    } catch (ResultException e) {
      return CompletableFuture.failedFuture(e);
    }
    // The points go into the index with the record's entries when the outbox event holds them too (it restores them
    // after a crash between the two); else before the record, in a transaction of their own.
    boolean pointsFirst = eventId == null || outbox.map() == null;
    return writing(eventId, writer.submit(new IndexWriter.Job(id, points, pointsFirst, () -> {
      try {
        if (records.putIfAbsent(id, entity) == null) {
          return null;
        }
        outbox.forget(eventId);
        return ResultException.conflict(id);
      } catch (RuntimeException e) {
        outbox.forgetQuietly(eventId);
        return full(entity, e);
      }
    }, e -> {
      outbox.forgetQuietly(eventId);
      return full(entity, e);
    }, e -> full(entity, e))), null);
  }

  /**
   * Notes {@code eventId} as the event of a write still under way until {@code write} completes: its event is in the
   * outbox, but its record may not be written yet (the write may still fail) or not indexed yet (the outbox entry is
   * what reconciles it after a crash, so the audit trail must not acknowledge it yet): redelivery to the audit trail
   * passes it over ({@link #pendingEvents}).
   */
  private <T> CompletableFuture<T> writing(String eventId, CompletableFuture<Void> write, T value) {
    if (eventId != null) {
      underWay.add(eventId);
    }
    // A future of its own, completed here: a dependent stage would wrap the store's ResultException.
    CompletableFuture<T> done = new CompletableFuture<>();
    write.whenComplete((written, failure) -> {
      if (eventId != null) {
        underWay.remove(eventId);
      }
      if (failure == null) {
        done.complete(value);
      } else {
        done.completeExceptionally(failure);
      }
    });
    return done;
  }

  /** {@link #insertAsync}, waiting: for callers that may block (tools and tests). */
  public void insert(String id, byte[] entity, Map<String, String> points, String eventId, byte[] event) {
    await(insertAsync(id, entity, points, eventId, event));
  }

  /**
   * Replaces the record {@code id} if it still holds {@code expected} (compare-and-set, done before this returns),
   * with its event in the outbox; the index follows in a batch.
   *
   * @return false at once if the record changed or went away meanwhile (nothing was written); true once the index
   *         follows. Fails with {@code STORE_FULL} (also when the disk is below its reserve: nothing written) or
   *         {@code AUDIT_BACKLOG_FULL}
   */
  public CompletableFuture<Boolean> replaceAsync(String id, byte[] expected, byte[] entity, String eventId,
                                                 byte[] event) {
    try {
      RecordVolumes records = writableRecords();
      outbox.put(eventId, id, entity, event, Map.of());
      boolean replaced;
      try {
        replaced = records.replace(id, expected, entity);
      } catch (RuntimeException e) {
        outbox.forgetQuietly(eventId);
        throw full(entity, e);
      }
      if (!replaced) {
        outbox.forget(eventId);
        return CompletableFuture.completedFuture(false);
      }
      return writing(eventId, follow(id, entity), true);
    } catch (ResultException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** {@link #replaceAsync}, waiting. */
  public boolean replace(String id, byte[] expected, byte[] entity, String eventId, byte[] event) {
    return await(replaceAsync(id, expected, entity, eventId, event));
  }

  /**
   * Removes the record {@code id} if it still holds {@code expected} (done before this returns), with its event in
   * the outbox; the index follows in a batch.
   *
   * @return false at once if the record changed or went away meanwhile (nothing was removed)
   */
  public CompletableFuture<Boolean> removeAsync(String id, byte[] expected, String eventId, byte[] event) {
    try {
      RecordVolumes records = map();
      outbox.put(eventId, id, null, event, Map.of());
      if (!records.remove(id, expected)) {
        outbox.forget(eventId);
        return CompletableFuture.completedFuture(false);
      }
      return writing(eventId, follow(id, expected), true);
    } catch (ResultException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** {@link #removeAsync}, waiting. */
  public boolean remove(String id, byte[] expected, String eventId, byte[] event) {
    return await(removeAsync(id, expected, eventId, event));
  }

  /**
   * The index follows a record just written. Should the index fail (its disk), the record and its event stand: the
   * write is reported as failed, and the next open after an unclean exit reconciles the record again.
   */
  private CompletableFuture<Void> follow(String id, byte[] entity) {
    return writer.submit(new IndexWriter.Job(id, Map.of(), false, () -> null, e -> full(entity, e),
      e -> full(entity, e)));
  }

  private static <T> T await(CompletableFuture<T> write) {
    try {
      return write.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    }
  }

  /**
   * Chronicle reports an exhausted map (no more tiers within the budget), an entry too large for a segment,
   * or a disk that cannot take another tier with runtime exceptions; none leaves a partial entry behind.
   */
  private static ResultException full(byte[] entity, RuntimeException e) {
    if (e instanceof ResultException r) {
      return r;
    }
    LOG.error("Store rejected a write of {} bytes: {}", entity.length, e.toString());
    return ResultException.storeFull(e);
  }

  /**
   * Keys indexed under a pseudo-property ({@code @name}, given with a write's indexed values) and value, each with
   * its point's payload ({@link OrderedIndex#withPayload}; empty: none); a superset: check each record.
   */
  public Map<String, String> idsWhere(String property, String value) {
    map();
    return index.pointsWhere(property, value);
  }

  /** The ordered index of the records (see {@link OrderedIndex}). */
  public OrderedIndex index() {
    map();
    return index;
  }

  /**
   * Calls {@code consumer} with every record (a full scan; not a snapshot: concurrent writes may show). The
   * byte array may be reused for the next record: copy what you keep.
   */
  public void forEach(BiConsumer<String, byte[]> consumer) {
    map().forEach(consumer);
  }

  /**
   * The pseudo-properties ({@code @name}: idempotency keys) indexed with the record {@code key}: state that decides
   * later writes but is not in the record, so a copy of the store (a cluster snapshot) carries it beside the record.
   */
  public Map<String, String> points(String key) {
    map();
    return index.points(key);
  }

  /**
   * Removes every record and its index entries, without events: the first step of loading a copy of another store
   * (a cluster snapshot), after which {@link #load} puts the copy's records. Nothing else may write meanwhile.
   */
  public void clear() {
    RecordVolumes records = map();
    for (List<String> keys = index.keys(null, RECONCILE_BATCH); !keys.isEmpty();
         keys = index.keys(keys.get(keys.size() - 1), RECONCILE_BATCH)) {
      for (String key : keys) {
        byte[] record = records.get(key);
        if (record != null) {
          records.remove(key, record);
        }
      }
      index.reconcileAll(keys, records::get, RECONCILE_BATCH);
    }
    // A record the index does not know (none after an open's recovery) goes too.
    List<String> left = new ArrayList<>();
    records.forEach((key, record) -> left.add(key));
    for (String key : left) {
      byte[] record = records.get(key);
      if (record != null) {
        records.remove(key, record);
      }
    }
  }

  /** A record of a copy of a store, with its pseudo-properties (see {@link #points}). */
  public record Copied(String key, byte[] record, Map<String, String> points) {
  }

  /**
   * Puts records of a copy of a store (see {@link #clear}), without events; a key already held keeps its record (a
   * copy may name a record twice, with the same bytes). The index follows in one transaction per call.
   */
  public void load(List<Copied> batch) {
    RecordVolumes records = map();
    for (Copied copied : batch) {
      index.claimPoints(copied.key(), copied.points());
      records.putIfAbsent(copied.key(), copied.record());
    }
    index.reconcileAll(batch.stream().map(Copied::key).toList(), records::get, RECONCILE_BATCH);
  }

  /** The stored entity's JSON, or {@code null} if there is none. */
  public byte[] get(String id) {
    return map().get(id);
  }

  public long size() {
    return map().size();
  }

  /** Records the records files made so far are sized for, together; the store adds files as it grows. */
  public long capacity() {
    return closed ? 0 : records.capacity();
  }

  /** Number of events stored but not yet acknowledged by the audit trail. */
  public long pendingCount() {
    return closed ? 0 : outbox.pendingCount();
  }

  /**
   * Events not yet acknowledged that were written at or before {@code writtenBeforeMillis}, oldest first,
   * at most {@code max} of them; not those of writes still under way.
   */
  public List<PendingEvent> pendingEvents(long writtenBeforeMillis, int max) {
    map();
    List<PendingEvent> events = outbox.pendingEvents(writtenBeforeMillis, max);
    if (!underWay.isEmpty()) {
      events.removeIf(event -> underWay.contains(event.eventId()));
    }
    return events;
  }

  /**
   * The outbox sequence of the newest event stored so far ({@link PendingEvent#sequence}), 0 if none in this store's
   * life: once no pending event is at or below it, the audit trail has every change made until now.
   */
  public long lastEventSequence() {
    map();
    return outbox.lastSequence();
  }

  /**
   * Forgets every event awaiting the audit trail, without writing them: in cluster mode, once a snapshot's trail has
   * completed the node's own, which holds the changes they describe.
   */
  public void clearEvents() {
    map();
    outbox.clear();
  }

  /** The audit trail has these events: forget them. */
  public void acknowledge(Iterable<String> eventIds) {
    if (!closed) {
      outbox.acknowledge(eventIds);
    }
  }

  /**
   * When the oldest event the audit trail has not acknowledged was written (epoch milliseconds), or -1 if none
   * waits. Cheap: it reads the outbox only for the events acknowledged since the last call.
   */
  public long oldestPendingMillis() {
    return closed ? -1 : outbox.oldestPendingMillis();
  }

  /** Entries kept to know the oldest pending event, for tests in this package. */
  int trackedEvents() {
    return outbox.trackedEvents();
  }

  /** The newest records map, for tests in this package that need to reach below the store's contract. */
  ChronicleMap<String, byte[]> chronicleMap() {
    return records.newestMap();
  }

  /** The records, for tests in this package. */
  RecordVolumes records() {
    return records;
  }

  private RecordVolumes map() {
    if (closed) {
      throw ResultException.storeUnavailable(null);
    }
    return records;
  }

  /**
   * Fails with STORE_FULL while a create or an update would be refused for want of room: what a cluster node checks
   * before it proposes one (a node whose store refuses an entry of the log waits until it can take it).
   */
  public void checkWritable() {
    writableRecords();
  }

  /**
   * The records, for a create or an update: refused with STORE_FULL, before anything is written, while the disk has
   * less free space than the reserve (a sample at most 100 ms old: a volatile read on the hot path).
   */
  private RecordVolumes writableRecords() {
    RecordVolumes open = map();
    if (disk.belowReserve()) {
      throw ResultException.storeFull(null);
    }
    return open;
  }

  /** Closes the maps, then removes the open marker so that the next start knows the exit was clean. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    writer.close();
    outbox.close();
    index.close();
    records.close();
    try {
      Files.deleteIfExists(openMarker);
      lock.release();
    } catch (IOException e) {
      LOG.warn("Could not finish closing the store: {}", e.getMessage());
    } finally {
      closeQuietly(lockChannel);
    }
    LOG.info("Store closed");
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing left to do: the lock dies with the channel or the process
      }
    }
  }
}
