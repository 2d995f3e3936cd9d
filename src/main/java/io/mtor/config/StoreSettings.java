package io.mtor.config;

import java.nio.file.Path;

/**
 * The store: where it lives, how its first records file is sized, how far it may grow, how often it is forced to
 * disk.
 *
 * @param dataDir            folder of the store files (and the audit trail, keys and markers)
 * @param entries            records the first records file is sized for (each next file is twice the one before)
 * @param averageValueBytes  average stored entity size in bytes
 * @param diskBudgetBytes    the most bytes the store's files may take on disk; 0 is no budget
 * @param minFreeDiskBytes   free space left on the data folder's file system: below it, creates and updates get 507
 * @param syncIntervalMillis how often the store files are forced to disk (fsync); 0 leaves it to the kernel
 */
public record StoreSettings(Path dataDir, long entries, int averageValueBytes, long diskBudgetBytes,
                            long minFreeDiskBytes, long syncIntervalMillis) {

  public static final Setting<StoreSettings, Path> DATA_DIR = Setting.path("store.dataDir", "DATA_DIR", "./data",
    "a folder path", StoreSettings::dataDir);
  public static final Setting<StoreSettings, Long> ENTRIES = Setting.longInteger("store.entries", "STORE_ENTRIES",
    100_000, 100, 1_000_000_000, StoreSettings::entries);
  public static final Setting<StoreSettings, Integer> AVERAGE_VALUE_BYTES = Setting.integer("store.averageValueBytes",
    "STORE_AVERAGE_VALUE_BYTES", 640, 64, 1 << 20, StoreSettings::averageValueBytes);
  public static final Setting<StoreSettings, Long> DISK_BUDGET_BYTES = Setting.longInteger("store.diskBudgetBytes",
    "STORE_DISK_BUDGET_BYTES", 0, 0, Long.MAX_VALUE, "a number of bytes, 0 for no budget",
    StoreSettings::diskBudgetBytes);
  public static final Setting<StoreSettings, Long> MIN_FREE_DISK_BYTES = Setting.longInteger("store.minFreeDiskBytes",
    "STORE_MIN_FREE_DISK_BYTES", 1L << 30, 0, Long.MAX_VALUE, "a number of bytes, 0 for no reserve",
    StoreSettings::minFreeDiskBytes);
  public static final Setting<StoreSettings, Long> SYNC_INTERVAL_MILLIS = Setting.longInteger("store.syncIntervalMillis",
    "STORE_SYNC_INTERVAL_MILLIS", 0, 0, 3_600_000, "an integer from 0 (off) to 3600000",
    StoreSettings::syncIntervalMillis);

  public static final Section<StoreSettings> SECTION = Section.of(v -> new StoreSettings(v.get(DATA_DIR),
    v.get(ENTRIES), v.get(AVERAGE_VALUE_BYTES), v.get(DISK_BUDGET_BYTES), v.get(MIN_FREE_DISK_BYTES),
    v.get(SYNC_INTERVAL_MILLIS)));
}
