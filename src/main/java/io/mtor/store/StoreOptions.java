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
 * @param indexedProperties top-level string properties with a secondary index
 */
public record StoreOptions(Path dataDir, long entries, int averageKeyBytes, int averageValueBytes, long outboxEntries,
                           List<String> indexedProperties) {
}
