package io.mtor.store;

import java.nio.file.Path;
import java.util.List;

/**
 * Where the store lives, how its first records file is sized, and how far the store may grow. Chronicle Map
 * reserves (allocates) a whole file when it creates it: {@code entries} times roughly
 * {@code averageValueBytes + averageKeyBytes} plus overhead. The records live in a series of such files
 * ({@link RecordVolumes}); {@code entries} sizes the first, each next one is twice the size of the one before.
 *
 * @param dataDir           folder of the map files
 * @param entries           number of records the first records file is sized for
 * @param averageKeyBytes   average id length in bytes (a GUID is 36)
 * @param averageValueBytes average stored entity size in bytes
 * @param outboxEntries     events that may await the audit trail before writes are refused; 0 keeps no
 *                          outbox (no audit trail to feed)
 * @param indexedProperties top-level string properties with entries in the ordered index (the service passes
 *                          {@code OperationResults.INDEXED})
 * @param diskBudgetBytes   the most bytes the store's files may take on disk; a new records file that would pass
 *                          it is not created, and writes answer STORE_FULL once the newest file is full; 0 is no
 *                          budget
 * @param minFreeDiskBytes  free space the store leaves on the data folder's file system: below it, creates and
 *                          updates answer STORE_FULL (deletes and reads go on), and no new records file is created
 *                          that would eat into it
 */
public record StoreOptions(Path dataDir, long entries, int averageKeyBytes, int averageValueBytes, long outboxEntries,
                           List<String> indexedProperties, long diskBudgetBytes, long minFreeDiskBytes) {

  /** Options with no disk budget and no free-space reserve. */
  public StoreOptions(Path dataDir, long entries, int averageKeyBytes, int averageValueBytes, long outboxEntries,
                      List<String> indexedProperties) {
    this(dataDir, entries, averageKeyBytes, averageValueBytes, outboxEntries, indexedProperties, 0, 0);
  }

  /** Options with a disk budget (0: none) and no free-space reserve. */
  public StoreOptions(Path dataDir, long entries, int averageKeyBytes, int averageValueBytes, long outboxEntries,
                      List<String> indexedProperties, long diskBudgetBytes) {
    this(dataDir, entries, averageKeyBytes, averageValueBytes, outboxEntries, indexedProperties, diskBudgetBytes, 0);
  }

  /**
   * Roughly what Chronicle allocates for a records file sized for {@code entries}: measured at ~1.17x the key,
   * value and 32 B of entry overhead on Chronicle Map 3.27 (829 MB for a million entries of 36 + 640 B); the
   * estimate errs on the large side, as it guards the free-space reserve and the budget.
   */
  long volumeBytes(long entries) {
    return entries * (averageKeyBytes + averageValueBytes + 32L) * 5 / 4 + (1L << 20);
  }
}
