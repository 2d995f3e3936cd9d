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

/**
 * Owns the process's single Chronicle Map of managedTenantOperationResults, keyed by id, whose values are
 * the entities' UTF-8 JSON exactly as GET returns them (without {@code @odata.context}).
 *
 * <p>Writes go to memory-mapped pages, so a write that returned survives the death of the process
 * ({@code kill -9}); the kernel writes the pages back. An unclean exit is detected with a marker file that
 * exists only while the map is open: when it is found at start-up the map is opened with
 * {@code recoverPersistedTo}, which also releases segment locks held by the dead process. A lock on
 * {@code store.lock} keeps a second process from opening the same data folder.
 *
 * <p>Chronicle's own close-on-exit hook is disabled: the service closes the store itself, after the HTTP
 * server has stopped, so that no request can touch a closed map.
 */
public final class OperationResultStore implements AutoCloseable {

  /** The map file's name carries its format version, so that a future format can live beside it. */
  public static final String MAP_FILE = "results-v1.dat";
  static final String OPEN_MARKER = MAP_FILE + ".open";
  static final String LOCK_FILE = "store.lock";

  private static final Logger LOG = LoggerFactory.getLogger(OperationResultStore.class);

  private final ChronicleMap<String, byte[]> map;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Path openMarker;
  private final boolean recovered;
  private final StoreOptions options;
  private volatile boolean closed;

  private OperationResultStore(ChronicleMap<String, byte[]> map, FileChannel lockChannel, FileLock lock,
                               Path openMarker, boolean recovered, StoreOptions options) {
    this.map = map;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.openMarker = openMarker;
    this.recovered = recovered;
    this.options = options;
  }

  /**
   * Opens (creating if needed) the store in {@code options.dataDir()}, recovering it if the previous
   * process did not close it.
   *
   * @throws IllegalStateException if another process holds the data folder
   * @throws UncheckedIOException  if the folder or the map file cannot be opened
   */
  public static OperationResultStore open(StoreOptions options) {
    Path dir = options.dataDir();
    FileChannel lockChannel = null;
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
      boolean unclean = Files.exists(file) && Files.exists(marker);
      ChronicleMapBuilder<String, byte[]> builder = ChronicleMapBuilder.of(String.class, byte[].class)
        .name("managedTenantOperationResults")
        .entries(options.entries())
        .averageKeySize(options.averageKeyBytes())
        .averageValueSize(options.averageValueBytes())
        .skipCloseOnExitHook(true);
      // The marker goes down before the map is touched, so that a crash at any later point is seen as one.
      Files.write(marker, new byte[0]);
      ChronicleMap<String, byte[]> map;
      if (unclean) {
        LOG.warn("Store {} was not closed cleanly by the previous process: recovering it", file);
        map = builder.recoverPersistedTo(file.toFile(), true);
      } else {
        map = builder.createPersistedTo(file.toFile());
      }
      LOG.info("Store {} open: {} records, sized for {} entries of ~{} B ({} MiB reserved on disk){}", file,
        map.longSize(), options.entries(), options.averageValueBytes(), Files.size(file) >> 20,
        unclean ? ", recovered after an unclean exit" : "");
      return new OperationResultStore(map, lockChannel, lock, marker, unclean, options);
    } catch (IOException e) {
      closeQuietly(lockChannel);
      throw new UncheckedIOException("Cannot open the store in " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(lockChannel);
      throw e;
    }
  }

  /** Whether this open had to recover the map after an unclean exit of the previous process. */
  public boolean recovered() {
    return recovered;
  }

  public StoreOptions options() {
    return options;
  }

  /**
   * Stores {@code entity} under {@code id} unless the id is taken. Atomic: of concurrent inserts of one id,
   * exactly one succeeds.
   *
   * @throws ResultException {@code CONFLICT} if the id exists, {@code STORE_FULL} if the map has no room
   */
  public void insert(String id, byte[] entity) {
    byte[] previous;
    try {
      previous = map().putIfAbsent(id, entity);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // Chronicle signals an exhausted map (no more segment tiers) or an entry too large for a segment
      // with these; neither leaves a partial entry behind.
      LOG.error("Store rejected a write of {} bytes: {}", entity.length, e.getMessage());
      throw ResultException.storeFull(e);
    }
    if (previous != null) {
      throw ResultException.conflict(id);
    }
  }

  /** The stored entity's JSON, or {@code null} if there is none. */
  public byte[] get(String id) {
    return map().get(id);
  }

  public long size() {
    return map().longSize();
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

  /** Closes the map, then removes the open marker so that the next start knows the exit was clean. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
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
