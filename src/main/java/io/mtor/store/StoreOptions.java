package io.mtor.store;

import java.nio.file.Path;
import java.util.List;

/**
 * Where the store lives and how it is sized. Chronicle Map reserves its whole file when it creates it:
 * {@code entries} times roughly {@code averageValueBytes + averageKeyBytes} plus overhead.
 *
 * @param dataDir           folder of the map files
 * @param entries           number of records the map is sized for
 * @param averageKeyBytes   average id length in bytes (a GUID is 36)
 * @param averageValueBytes average stored entity size in bytes
 * @param outboxEntries     events that may await the audit trail before writes are refused; 0 keeps no
 *                          outbox (no audit trail to feed)
 * @param indexedProperties top-level string properties with entries in the ordered index (the service passes {@code OperationResults.INDEXED})
 * @param diskBudgetBytes   how large the records file may grow past its sizing (extra Chronicle tiers); beyond,
 *                          writes answer STORE_FULL; 0 allows 4x the sizing
 */
public record StoreOptions(Path dataDir, long entries, int averageKeyBytes, int averageValueBytes, long outboxEntries,
                           List<String> indexedProperties, long diskBudgetBytes) {

  /** Options with no growth budget beyond the default. */
  public StoreOptions(Path dataDir, long entries, int averageKeyBytes, int averageValueBytes, long outboxEntries,
                      List<String> indexedProperties) {
    this(dataDir, entries, averageKeyBytes, averageValueBytes, outboxEntries, indexedProperties, 0);
  }

  /** Roughly what Chronicle reserves for the records at creation. */
  long reservedBytes() {
    return entries * (averageKeyBytes + averageValueBytes + 32L);
  }

  /**
   * How far the records map may grow past its sizing (Chronicle's {@code maxBloatFactor}): the disk budget
   * over the reservation, 4 by default, within Chronicle's bounds.
   */
  double growthFactor() {
    double factor = diskBudgetBytes == 0 ? 4.0 : (double) diskBudgetBytes / reservedBytes();
    return Math.max(1.0, Math.min(1000.0, factor));
  }
}
