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
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Owns the process's Chronicle Maps: the managedTenantOperationResults, keyed by id, whose values are the
 * entities' UTF-8 JSON exactly as GET returns them (without {@code @odata.context}); and the outbox of
 * events not yet in the audit trail.
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
  public static final String MAP_FILE = "results-v1.dat";
  public static final String OUTBOX_FILE = "outbox-v1.dat";
  /** The Chronicle Map of the secondary indexes before the ordered index replaced it; removed at open. */
  static final String OLD_INDEX_FILE = "index-v1.dat";
  static final String OPEN_MARKER = MAP_FILE + ".open";
  static final String LOCK_FILE = "store.lock";

  private static final Logger LOG = LoggerFactory.getLogger(OperationResultStore.class);

  static {
    // Chronicle otherwise tries to reach an analytics host; set here too so that a host app or a plain
    // `java -jar` without scripts/jvm-flags stays offline.
    if (System.getProperty("chronicle.analytics.disable") == null) {
      System.setProperty("chronicle.analytics.disable", "true");
    }
  }

  private final ChronicleMap<String, byte[]> map;
  private final ChronicleMap<String, byte[]> outbox;
  private final OrderedIndex index;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Path openMarker;
  private final boolean recovered;
  private final StoreOptions options;
  private final AtomicLong sequence;
  /**
   * The outbox's events in the order they were written, with their times, so that the oldest one waiting is known
   * without reading the whole outbox: the first whose event is still there. Entries leave from the front as
   * acknowledgements arrive (the audit trail confirms in order, mostly); entries of events acknowledged or dropped
   * behind a front that waits are swept out whenever they outnumber the outbox, so the queue stays within about
   * twice its size.
   */
  private final Queue<Written> written = new ConcurrentLinkedQueue<>();
  private final AtomicInteger writtenSize = new AtomicInteger();
  private volatile boolean closed;

  private record Written(String eventId, long atMillis) {
  }

  /** How often (in tracked events) {@link #written} may be swept. */
  private static final int SWEEP_EVERY = 1024;
  /** Records reconciled per index transaction when many are. */
  private static final int RECONCILE_BATCH = 1000;

  private OperationResultStore(ChronicleMap<String, byte[]> map, ChronicleMap<String, byte[]> outbox,
                               OrderedIndex index, FileChannel lockChannel, FileLock lock, Path openMarker,
                               boolean recovered, StoreOptions options) {
    this.map = map;
    this.outbox = outbox;
    this.index = index;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.openMarker = openMarker;
    this.recovered = recovered;
    this.options = options;
    List<PendingEvent> pending = new ArrayList<>();
    if (outbox != null) {
      outbox.forEach((eventId, bytes) -> pending.add(PendingEvent.decode(eventId, bytes)));
    }
    pending.sort(Comparator.comparingLong(PendingEvent::sequence));
    pending.forEach(this::track);
    this.sequence = new AtomicLong(pending.isEmpty() ? 0 : pending.get(pending.size() - 1).sequence());
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
    ChronicleMap<String, byte[]> map = null;
    ChronicleMap<String, byte[]> outbox = null;
    OrderedIndex index = null;
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
      Path file = dir.resolve(MAP_FILE);
      Path marker = dir.resolve(OPEN_MARKER);
      boolean unclean = Files.exists(marker);
      // The marker goes down before the maps are touched, so that a crash at any later point is seen as one.
      Files.write(marker, new byte[0]);
      if (unclean) {
        LOG.warn("Store in {} was not closed cleanly by the previous process: recovering it", dir);
      }
      map = openMap(ChronicleMapBuilder.of(String.class, byte[].class)
        .name("managedTenantOperationResults")
        .entries(options.entries())
        .averageKeySize(options.averageKeyBytes())
        .averageValueSize(options.averageValueBytes())
        .maxBloatFactor(options.growthFactor()), file, unclean);
      outbox = options.outboxEntries() == 0 ? null
        : openMap(ChronicleMapBuilder.of(String.class, byte[].class)
        .name("outbox")
        .entries(options.outboxEntries())
        .averageKeySize(36)
        .averageValueSize(PendingEvent.averageSize(options.averageValueBytes())), dir.resolve(OUTBOX_FILE), unclean);
      index = OrderedIndex.open(dir, options.indexedProperties());
      LOG.info("Store {} open: {} records, sized for {} entries of ~{} B ({} MiB reserved on disk); "
          + "{} events awaiting the audit trail (outbox sized for {}){}", file, map.longSize(), options.entries(),
        options.averageValueBytes(), Files.size(file) >> 20, outbox == null ? 0 : outbox.longSize(), options.outboxEntries(),
        unclean ? "; recovered after an unclean exit" : "");
      OperationResultStore store = new OperationResultStore(map, outbox, index, lockChannel, lock, marker, unclean,
        options);
      store.recoverIndex(unclean);
      store.dropUncommittedEvents();
      Files.deleteIfExists(dir.resolve(OLD_INDEX_FILE));
      return store;
    } catch (IOException e) {
      closeAll(index, outbox, map, lockChannel);
      throw new UncheckedIOException("Cannot open the store in " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeAll(index, outbox, map, lockChannel);
      throw e;
    }
  }

  /** What an {@link #open} that failed half-way had opened, closed. */
  private static void closeAll(OrderedIndex index, ChronicleMap<String, byte[]> outbox,
                               ChronicleMap<String, byte[]> map, FileChannel lockChannel) {
    if (index != null) {
      index.close();
    }
    if (outbox != null) {
      outbox.close();
    }
    if (map != null) {
      map.close();
    }
    closeQuietly(lockChannel);
  }

  /**
   * Makes the index match the records after what the previous process left. Every write changes the index last
   * (outbox event, record, index), so after an unclean exit only the records named by outbox events can differ
   * from their index entries (every write in flight had its event there, and events leave the outbox only once
   * the write is done): they are reconciled. Without an outbox, or with an index that was never completed (a data
   * folder older than the index, or a crash while building it), every record is.
   */
  private void recoverIndex(boolean unclean) {
    long started = System.nanoTime();
    if (!index.built()) {
      LOG.info("Building the ordered index of {} records", map.longSize());
      reconcileEverything();
      index.markBuilt();
      LOG.info("Ordered index built for {} records in {} ms", map.longSize(), (System.nanoTime() - started) / 1_000_000);
    } else if (unclean && outbox != null) {
      Set<String> keys = new LinkedHashSet<>();
      outbox.forEach((eventId, bytes) -> keys.add(PendingEvent.decode(eventId, bytes).recordId()));
      index.reconcileAll(keys, map::get, RECONCILE_BATCH);
      LOG.info("Reconciled the index of {} records named by outbox events in {} ms", keys.size(),
        (System.nanoTime() - started) / 1_000_000);
    } else if (unclean) {
      reconcileEverything();
      LOG.info("Reconciled the index of every record ({}; no outbox to narrow it) in {} ms", map.longSize(),
        (System.nanoTime() - started) / 1_000_000);
    }
  }

  /**
   * Reconciles every record and every key the index holds (records gone since), a batch at a time: at open nothing
   * else writes, and memory stays that of a batch whatever the number of records.
   */
  private void reconcileEverything() {
    Map<String, byte[]> batch = new HashMap<>();
    map.forEach((key, record) -> {
      batch.put(key, record.clone());
      if (batch.size() == RECONCILE_BATCH) {
        index.reconcileAll(batch.keySet(), batch::get, RECONCILE_BATCH);
        batch.clear();
      }
    });
    index.reconcileAll(batch.keySet(), batch::get, RECONCILE_BATCH);
    String after = null;
    for (List<String> keys = index.keys(null, RECONCILE_BATCH); !keys.isEmpty();
         keys = index.keys(after, RECONCILE_BATCH)) {
      after = keys.get(keys.size() - 1);
      List<String> stale = new ArrayList<>(keys);
      stale.removeIf(map::containsKey);
      index.reconcileAll(stale, map::get, RECONCILE_BATCH);
    }
  }

  private static ChronicleMap<String, byte[]> openMap(ChronicleMapBuilder<String, byte[]> builder, Path file,
                                                      boolean unclean) throws IOException {
    builder.skipCloseOnExitHook(true);
    return unclean && Files.exists(file)
      ? builder.recoverPersistedTo(file.toFile(), true)
      : builder.createPersistedTo(file.toFile());
  }

  /**
   * An outbox entry whose record write never happened (the process died between the two writes) describes
   * a change that was not made and not acknowledged: drop it. Only the newest entry of a record can be in
   * that state, since a record's writes follow one another.
   */
  private void dropUncommittedEvents() {
    if (outbox == null) {
      return;
    }
    Map<String, PendingEvent> newestByRecord = new HashMap<>();
    outbox.forEach((eventId, bytes) -> {
      PendingEvent event = PendingEvent.decode(eventId, bytes);
      newestByRecord.merge(event.recordId(), event, (a, b) -> a.sequence() > b.sequence() ? a : b);
    });
    int dropped = 0;
    for (PendingEvent event : newestByRecord.values()) {
      if (PendingEvent.hash(map.get(event.recordId())) != event.recordHash()) {
        outbox.remove(event.eventId());
        dropped++;
      }
    }
    if (dropped > 0) {
      LOG.warn("Dropped {} outbox events whose writes the previous process did not finish", dropped);
    }
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
    index.sync();
    for (ChronicleMap<String, byte[]> m : outbox == null ? List.of(map) : List.of(map, outbox)) {
      try (FileChannel channel = FileChannel.open(m.file().toPath(), StandardOpenOption.WRITE)) {
        channel.force(false);
      } catch (IOException e) {
        LOG.warn("Could not sync {}: {}", m.file(), e.getMessage());
      }
    }
  }

  /** Whether this open had to recover the maps after an unclean exit of the previous process. */
  public boolean recovered() {
    return recovered;
  }

  /**
   * Stores {@code entity} under {@code id} unless the id is taken, with its event in the outbox. Atomic: of
   * concurrent inserts of one id, exactly one succeeds, and only its event stays in the outbox.
   *
   * @throws ResultException {@code CONFLICT} if the id exists, {@code STORE_FULL} if the map has no room,
   *                         {@code AUDIT_BACKLOG_FULL} if the outbox has no room
   */
  public void insert(String id, byte[] entity, Map<String, String> indexed, String eventId, byte[] event) {
    ChronicleMap<String, byte[]> records = map();
    byte[] previous;
    Map<String, String> points = points(indexed);
    Map<String, String> added = Map.of();
    try {
      putEvent(() -> new PendingEvent(eventId, sequence.incrementAndGet(), System.currentTimeMillis(), id,
        PendingEvent.hash(entity), event));
      // Before the record: a crash leaves an extra candidate (checked and dropped by readers), never a miss.
      added = index.addPoints(id, points);
      previous = records.putIfAbsent(id, entity);
    } catch (ResultException e) {
      throw e;
    } catch (RuntimeException e) {
      forgetQuietly(eventId);
      unpointQuietly(id, added);
      throw full(entity, e);
    }
    if (previous != null) {
      forget(eventId);
      index.removePoints(id, added);
      throw ResultException.conflict(id);
    }
    reconcile(id, entity);
  }

  /** The pseudo-properties (names starting with {@code @}) of a write's indexed values: not read from the record. */
  private static Map<String, String> points(Map<String, String> indexed) {
    Map<String, String> points = new HashMap<>();
    indexed.forEach((property, value) -> {
      if (property.startsWith("@")) {
        points.put(property, value);
      }
    });
    return points;
  }

  /**
   * The index follows a record just written. Should the index fail (its disk), the record and its event stand: the
   * write is reported as failed, and the next open after an unclean exit reconciles the record again.
   */
  private void reconcile(String id, byte[] entity) {
    try {
      index.reconcile(id, map::get);
    } catch (RuntimeException e) {
      throw full(entity, e);
    }
  }

  /**
   * Chronicle reports an exhausted map (no more tiers within the budget), an entry too large for a segment,
   * or a disk that cannot take another tier with runtime exceptions; none leaves a partial entry behind.
   */
  private static ResultException full(byte[] entity, RuntimeException e) {
    LOG.error("Store rejected a write of {} bytes: {}", entity.length, e.toString());
    return ResultException.storeFull(e);
  }

  private void forgetQuietly(String eventId) {
    try {
      forget(eventId);
    } catch (RuntimeException ignored) {
      // the outbox is as full as the rest; a stale entry is dropped at the next open (its record is absent)
    }
  }

  private void unpointQuietly(String id, Map<String, String> added) {
    try {
      index.removePoints(id, added);
    } catch (RuntimeException ignored) {
      // an extra index entry only adds a candidate that readers check and drop
    }
  }

  /**
   * Replaces the record {@code id} if it still holds {@code expected} (compare-and-set), with its event in
   * the outbox and its index entries moved.
   *
   * @return false if the record changed or went away meanwhile (nothing was written)
   * @throws ResultException {@code STORE_FULL} or {@code AUDIT_BACKLOG_FULL}
   */
  public boolean replace(String id, byte[] expected, byte[] entity, Map<String, String> oldIndexed,
                         Map<String, String> newIndexed, String eventId, byte[] event) {
    ChronicleMap<String, byte[]> records = map();
    boolean replaced;
    try {
      putEvent(() -> new PendingEvent(eventId, sequence.incrementAndGet(), System.currentTimeMillis(), id,
        PendingEvent.hash(entity), event));
      replaced = records.replace(id, expected, entity);
    } catch (ResultException e) {
      throw e;
    } catch (RuntimeException e) {
      forgetQuietly(eventId);
      throw full(entity, e);
    }
    if (!replaced) {
      forget(eventId);
      return false;
    }
    reconcile(id, entity);
    return true;
  }

  /**
   * Removes the record {@code id} if it still holds {@code expected}, with its event in the outbox.
   *
   * @return false if the record changed or went away meanwhile (nothing was removed)
   */
  public boolean remove(String id, byte[] expected, Map<String, String> indexed, String eventId, byte[] event) {
    ChronicleMap<String, byte[]> records = map();
    putEvent(() -> new PendingEvent(eventId, sequence.incrementAndGet(), System.currentTimeMillis(), id,
      PendingEvent.ABSENT, event));
    if (!records.remove(id, expected)) {
      forget(eventId);
      return false;
    }
    reconcile(id, expected);
    return true;
  }

  /**
   * Keys indexed under a pseudo-property ({@code @name}, given with a write's indexed values) and value; a superset:
   * check each record.
   */
  public List<String> idsWhere(String property, String value) {
    map();
    return index.keysWhere(property, value);
  }

  /** Whether {@code property} has entries of its own in the ordered index. */
  public boolean indexed(String property) {
    return options.indexedProperties().contains(property);
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

  private void putEvent(Supplier<PendingEvent> pending) {
    if (outbox == null) {
      return;
    }
    PendingEvent event = pending.get();
    try {
      outbox.put(event.eventId(), event.encode());
      track(event);
    } catch (RuntimeException e) {
      LOG.error("Outbox full: {} events await the audit trail ({})", outbox.longSize(), e.toString());
      throw ResultException.auditBacklogFull(e);
    }
  }

  private void forget(String eventId) {
    if (outbox != null) {
      outbox.remove(eventId);
    }
  }

  /** The stored entity's JSON, or {@code null} if there is none. */
  public byte[] get(String id) {
    return map().get(id);
  }

  public long size() {
    return map().longSize();
  }

  /** Number of events stored but not yet acknowledged by the audit trail. */
  public long pendingCount() {
    return outbox == null || closed ? 0 : outbox.longSize();
  }

  /**
   * Events not yet acknowledged that were written at or before {@code writtenBeforeMillis}, oldest first,
   * at most {@code max} of them.
   */
  public List<PendingEvent> pendingEvents(long writtenBeforeMillis, int max) {
    List<PendingEvent> events = new ArrayList<>();
    map();
    if (outbox == null) {
      return events;
    }
    outbox.forEach((eventId, bytes) -> {
      PendingEvent event = PendingEvent.decode(eventId, bytes);
      if (event.writtenAtMillis() <= writtenBeforeMillis) {
        events.add(event);
      }
    });
    events.sort(Comparator.comparingLong(PendingEvent::sequence));
    return events.size() > max ? new ArrayList<>(events.subList(0, max)) : events;
  }

  /** The audit trail has these events: forget them. */
  public void acknowledge(Iterable<String> eventIds) {
    if (closed) {
      return;
    }
    eventIds.forEach(this::forget);
    if (outbox != null) {
      dropAcknowledged();
    }
  }

  /**
   * When the oldest event the audit trail has not acknowledged was written (epoch milliseconds), or -1 if none
   * waits. Cheap: it reads the outbox only for the events acknowledged since the last call.
   */
  public long oldestPendingMillis() {
    if (outbox == null || closed) {
      return -1;
    }
    dropAcknowledged();
    Written oldest = written.peek();
    return oldest == null ? -1 : oldest.atMillis();
  }

  private void track(PendingEvent event) {
    written.add(new Written(event.eventId(), event.writtenAtMillis()));
    int size = writtenSize.incrementAndGet();
    if (size % SWEEP_EVERY == 0 && size > 2 * outbox.longSize() + SWEEP_EVERY) {
      sweep();
    }
  }

  /**
   * Drops the front entries of {@link #written} whose events are no longer in the outbox. Under the store's lock
   * (as {@link #close}): two callers could otherwise both see the same front entry gone and remove two.
   */
  private synchronized void dropAcknowledged() {
    Written first;
    while (!closed && (first = written.peek()) != null && !outbox.containsKey(first.eventId())) {
      written.poll();
      writtenSize.decrementAndGet();
    }
  }

  /** Drops every entry of {@link #written} whose event is no longer in the outbox. */
  private synchronized void sweep() {
    for (Iterator<Written> entries = written.iterator(); !closed && entries.hasNext(); ) {
      if (!outbox.containsKey(entries.next().eventId())) {
        entries.remove();
        writtenSize.decrementAndGet();
      }
    }
  }

  /** Entries kept to know the oldest pending event, for tests in this package. */
  int trackedEvents() {
    return writtenSize.get();
  }

  /** The map itself, for tests in this package that need to reach below the store's contract. */
  ChronicleMap<String, byte[]> chronicleMap() {
    return map;
  }

  private ChronicleMap<String, byte[]> map() {
    if (closed) {
      throw ResultException.storeUnavailable(null);
    }
    return map;
  }

  /** Closes the maps, then removes the open marker so that the next start knows the exit was clean. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (outbox != null) {
      outbox.close();
    }
    index.close();
    map.close();
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
