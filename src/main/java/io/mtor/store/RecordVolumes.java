package io.mtor.store;

import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The records, keyed by id, in a series of Chronicle Map files ("volumes"): {@code results-v1.dat} (volume 0,
 * sized by {@code store.entries}), then {@code results-v1.1.dat}, {@code results-v1.2.dat}, ..., each sized twice
 * the one before (up to {@link #MAX_VOLUME_ENTRIES}). A Chronicle Map does not grow without bound, and re-creating
 * one online means copying every record while writes go on; a series of files grows by adding one, and leaves
 * every record where it was written.
 *
 * <p>Creates go to the newest volume. Once it holds 3/4 of what it is sized for, the next volume is created on a
 * thread of its own (a file of hundreds of MB takes a second or more to allocate), so that no request waits for a
 * file; when the newest holds what it is sized for, creates move on to the prepared one (an array swap). Should
 * the file not be ready yet, the newest takes the extra writes in Chronicle's spare tiers meanwhile. A volume is
 * preallocated, not sparse: a sparse mapped file that meets a full disk kills the process (SIGBUS) on its first
 * touch of a page, whereas a preallocated one is refused whole, before any record goes to it.
 *
 * <p>Ids are unique across volumes: every write of an id holds one of {@value #STRIPES} locks chosen by the id's
 * hash, under which an insert checks the older volumes before {@code putIfAbsent} on the newest. A replace or
 * remove acts on the volume that holds the record; a replace that finds no room in that volume moves the record
 * to the newest one (put there, then removed from the old one). Such a move is written down first in
 * {@value #MOVES_FILE}, so that after a crash in the middle the older copy is dropped at the next open. Reads
 * take no lock: a {@link #get} that misses while a move was under way looks again under the id's lock.
 *
 * <p>A new volume is not created when it would pass the store's disk budget or leave less than the free-space
 * reserve ({@link DiskSpace}); it is made smaller (down to {@link #MIN_VOLUME_ENTRIES}) if a smaller one fits,
 * and otherwise creates fail once the newest is full, until space returns.
 */
final class RecordVolumes implements AutoCloseable {

  /** Volume 0's file; it was the only records file before volumes existed, so older data folders open as they are. */
  static final String FIRST_FILE = "results-v1.dat";
  /** The volumes' sizings (entries), as created: {@code store.entries} may change between runs. */
  static final String SIZINGS_FILE = "results-v1.volumes";
  /** Ids being moved from an old volume to the newest: resolved at the next open after a crash. */
  static final String MOVES_FILE = "results-v1.moves";
  static final long MAX_VOLUME_ENTRIES = 64L << 20;
  static final long MIN_VOLUME_ENTRIES = 1_000;
  static final int STRIPES = 256;
  /** Chronicle's spare tiers per volume: room for writes past the sizing while the next volume is being created. */
  private static final double SPARE_TIERS = 4.0;
  /**
   * Extra tiers a volume keeps unused: it counts as full before Chronicle runs out of tiers, because a write that
   * Chronicle refuses for want of a tier can take another record with it (seen on 3.27ea0: a {@code replace} that
   * failed so dropped an unrelated entry of the same map).
   */
  static final int TIERS_KEPT = 1;

  private static final Pattern FILE_NAME = Pattern.compile("results-v1(?:\\.(\\d+))?\\.dat");
  private static final Logger LOG = LoggerFactory.getLogger(RecordVolumes.class);

  /** One map file. {@code count} is kept here (a Chronicle {@code longSize} sums every segment). */
  static final class Volume {
    final int number;
    final Path file;
    final long sized;
    final ChronicleMap<String, byte[]> map;
    final AtomicLong count;

    Volume(int number, Path file, long sized, ChronicleMap<String, byte[]> map) {
      this.number = number;
      this.file = file;
      this.sized = sized;
      this.map = map;
      this.count = new AtomicLong(map.longSize());
    }

    long growAt() {
      return sized - sized / 4;
    }

    /** Extra tiers Chronicle may still add to this map. */
    int spareTiers() {
      return map.remainingAutoResizes();
    }
  }

  private final StoreOptions options;
  private final DiskSpace disk;
  private final Object[] stripes = new Object[STRIPES];
  private final ExecutorService grower;
  /** Oldest first; replaced whole (copy on write) when a volume is added. */
  private volatile Volume[] volumes;
  /** The next volume, created and open, not yet taking writes. */
  private volatile Volume prepared;
  /** The creation of the next volume under way; guarded by {@code this}. */
  private Future<?> preparing;
  /** The last attempt to create the next volume found no room (budget or reserve); when, to retry at most 1/s. */
  private volatile boolean refused;
  private volatile long refusedAtNanos;
  private final AtomicLong movesStarted = new AtomicLong();
  private final AtomicLong movesFinished = new AtomicLong();
  private volatile boolean closed;

  private RecordVolumes(StoreOptions options, DiskSpace disk, Volume[] volumes) {
    this.options = options;
    this.disk = disk;
    this.volumes = volumes;
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Object();
    }
    this.grower = Executors.newSingleThreadExecutor(task -> {
      Thread thread = new Thread(task, "store-volume-grower");
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Opens every volume in the data folder (creating volume 0 if there is none), each with
   * {@code recoverPersistedTo} after an unclean exit. If one fails, those opened are closed.
   */
  static RecordVolumes open(StoreOptions options, DiskSpace disk, boolean unclean) throws IOException {
    Path dir = options.dataDir();
    List<Integer> numbers = new ArrayList<>();
    numbers.add(0);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        Matcher m = FILE_NAME.matcher(name);
        if (m.matches() && m.group(1) != null) {
          numbers.add(Integer.parseInt(m.group(1)));
        } else if (name.startsWith("results-v1.") && name.endsWith(".dat.tmp")) {
          // A volume whose creation a crash interrupted: it never took a record.
          LOG.warn("Removing {}, a records file whose creation did not finish", file);
          Files.delete(file);
        }
      }
    }
    numbers.sort(null);
    Properties sizings = readSizings(dir);
    List<Volume> opened = new ArrayList<>();
    try {
      for (int number : numbers) {
        Path file = fileOf(dir, number);
        boolean isNew = !Files.exists(file);
        // A data folder from before the store grew in files has no sizings: its one file takes today's store.entries.
        long sized = Long.parseLong(sizings.getProperty(Integer.toString(number),
          Long.toString(defaultSizing(options.entries(), number))));
        opened.add(new Volume(number, file, sized, openMap(builder(options, sized), file, unclean)));
        if (isNew) {
          writeSizing(dir, number, sized);
        }
      }
      RecordVolumes records = new RecordVolumes(options, disk, opened.toArray(new Volume[0]));
      records.finishMoves();
      return records;
    } catch (IOException | RuntimeException e) {
      opened.forEach(v -> v.map.close());
      throw e;
    }
  }

  static Path fileOf(Path dir, int number) {
    return dir.resolve(number == 0 ? FIRST_FILE : "results-v1." + number + ".dat");
  }

  /** Volume {@code number}'s sizing: {@code entries} doubled {@code number} times, within the cap. */
  static long defaultSizing(long entries, int number) {
    long sized = entries;
    for (int i = 0; i < number && sized < MAX_VOLUME_ENTRIES; i++) {
      sized *= 2;
    }
    return Math.min(sized, Math.max(entries, MAX_VOLUME_ENTRIES));
  }

  private static ChronicleMapBuilder<String, byte[]> builder(StoreOptions options, long entries) {
    return ChronicleMapBuilder.of(String.class, byte[].class)
      .name("managedTenantOperationResults")
      .entries(entries)
      .averageKeySize(options.averageKeyBytes())
      .averageValueSize(options.averageValueBytes())
      .maxBloatFactor(SPARE_TIERS)
      .skipCloseOnExitHook(true);
  }

  private static ChronicleMap<String, byte[]> openMap(ChronicleMapBuilder<String, byte[]> builder, Path file,
                                                      boolean unclean) throws IOException {
    return unclean && Files.exists(file)
      ? builder.recoverPersistedTo(file.toFile(), true)
      : builder.createPersistedTo(file.toFile());
  }

  private static Properties readSizings(Path dir) throws IOException {
    Properties sizings = new Properties();
    Path file = dir.resolve(SIZINGS_FILE);
    if (Files.exists(file)) {
      try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        sizings.load(in);
      }
    }
    return sizings;
  }

  /** Notes a file's sizing (rewritten whole under another name, then renamed over the old one). */
  private static synchronized void writeSizing(Path dir, int number, long sized) throws IOException {
    Properties sizings = readSizings(dir);
    sizings.setProperty(Integer.toString(number), Long.toString(sized));
    Path tmp = dir.resolve(SIZINGS_FILE + ".tmp");
    try (var out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      sizings.store(out, "entries each records file was sized for");
    }
    Files.move(tmp, dir.resolve(SIZINGS_FILE), StandardCopyOption.ATOMIC_MOVE);
  }

  private Object stripe(String id) {
    return stripes[(id.hashCode() & 0x7fffffff) % STRIPES];
  }

  private Volume[] live() {
    Volume[] all = volumes;
    if (closed) {
      throw new IllegalStateException("the records are closed");
    }
    return all;
  }

  /** The record's bytes, or null: the newest volumes first (recent records are read most). */
  byte[] get(String id) {
    long finished = movesFinished.get();
    byte[] found = probe(live(), id);
    if (found == null && movesStarted.get() != finished) {
      // A move may have taken the record from an old volume after this looked at the newest: look again under its lock.
      synchronized (stripe(id)) {
        found = probe(live(), id);
      }
    }
    return found;
  }

  private static byte[] probe(Volume[] all, String id) {
    for (int i = all.length - 1; i >= 0; i--) {
      byte[] record = all[i].map.get(id);
      if (record != null) {
        return record;
      }
    }
    return null;
  }

  /**
   * Stores the record unless a volume holds its id.
   *
   * @return null if stored, else the record that holds the id (nothing was written)
   * @throws IllegalStateException if no volume has room
   */
  byte[] putIfAbsent(String id, byte[] record) {
    synchronized (stripe(id)) {
      live();
      Volume target = writable();
      for (Volume volume : volumes) {
        byte[] held = volume == target ? null : volume.map.get(id);
        if (held != null) {
          return held;
        }
      }
      byte[] previous;
      try {
        previous = target.map.putIfAbsent(id, record);
      } catch (IllegalStateException exhausted) {
        // Chronicle ran out of tiers before the count said so (records larger than the sizing assumed).
        Volume next = nextVolume(target, exhausted);
        previous = next.map.putIfAbsent(id, record);
        target = next;
      }
      if (previous == null) {
        target.count.incrementAndGet();
      }
      return previous;
    }
  }

  /**
   * Replaces the record if it still holds {@code expected}, in the volume that holds it; moved to the newest volume
   * if that one has no room.
   *
   * @return false if the record changed or went away (nothing was written)
   */
  boolean replace(String id, byte[] expected, byte[] record) {
    synchronized (stripe(id)) {
      Volume[] all = live();
      for (int i = all.length - 1; i >= 0; i--) {
        Volume holder = all[i];
        if (holder.map.containsKey(id)) {
          if (holder.spareTiers() <= TIERS_KEPT) {
            return move(holder, id, expected, record, new IllegalStateException(holder.file + " has no spare tiers"));
          }
          try {
            return holder.map.replace(id, expected, record);
          } catch (IllegalStateException exhausted) {
            return move(holder, id, expected, record, exhausted);
          }
        }
      }
      return false;
    }
  }

  /** Under the id's lock: the new value to the newest volume, then the old one out of {@code holder}. */
  private boolean move(Volume holder, String id, byte[] expected, byte[] record, IllegalStateException exhausted) {
    if (!Arrays.equals(holder.map.get(id), expected)) {
      return false;
    }
    Volume target = writable();
    if (target == holder) {
      target = nextVolume(holder, exhausted);
    }
    movesStarted.incrementAndGet();
    try {
      noteMove(id);
      target.map.put(id, record);
      target.count.incrementAndGet();
      holder.map.remove(id);
      holder.count.decrementAndGet();
    } finally {
      movesFinished.incrementAndGet();
    }
    LOG.info("Moved record {} from {} to {}: its volume had no room for the update", id, holder.file.getFileName(),
      target.file.getFileName());
    return true;
  }

  /**
   * Removes the record if it still holds {@code expected}, from the volume that holds it.
   *
   * @return false if the record changed or went away (nothing was removed)
   */
  boolean remove(String id, byte[] expected) {
    synchronized (stripe(id)) {
      Volume[] all = live();
      for (int i = all.length - 1; i >= 0; i--) {
        Volume holder = all[i];
        if (holder.map.containsKey(id)) {
          boolean removed = holder.map.remove(id, expected);
          if (removed) {
            holder.count.decrementAndGet();
          }
          return removed;
        }
      }
      return false;
    }
  }

  /**
   * The volume creates go to: the newest, or the prepared one once the newest holds what it is sized for. Starts
   * the next volume's creation when the newest passes 3/4 of its sizing. Never waits for a file.
   *
   * @throws IllegalStateException if the newest is full and no next volume may be created (budget, reserve)
   */
  private Volume writable() {
    Volume[] all = volumes;
    Volume newest = all[all.length - 1];
    long count = newest.count.get();
    int spare = newest.spareTiers();
    if (count < newest.growAt() && spare > TIERS_KEPT + 1) {
      return newest;
    }
    Volume next = prepared;
    if (next == null) {
      prepareNext();
    }
    if (count < newest.sized && spare > TIERS_KEPT) {
      return newest;
    }
    if (next != null) {
      return roll(newest, next);
    }
    if (refused) {
      throw new IllegalStateException("No room for another records file (store.diskBudgetBytes or "
        + "store.minFreeDiskBytes) and " + newest.file.getFileName() + " is full");
    }
    if (spare <= TIERS_KEPT) {
      // Rare: the records outgrew the sizing faster than a file is made. Wait for it rather than risk Chronicle's last tier.
      return nextVolume(newest, new IllegalStateException(newest.file + " has no spare tiers"));
    }
    // The next file is on its way; meanwhile the newest takes writes in its spare tiers.
    return newest;
  }

  /** The next volume for a write that {@code full} refused: the prepared one, or one created now (rare). */
  private Volume nextVolume(Volume full, IllegalStateException cause) {
    for (int attempt = 0; attempt < 2; attempt++) {
      Volume newest = volumes[volumes.length - 1];
      if (newest != full) {
        return newest; // another writer moved creates on meanwhile
      }
      Volume next = prepared;
      if (next != null) {
        return roll(full, next);
      }
      Future<?> creation;
      synchronized (this) {
        if (preparing == null || preparing.isDone()) {
          refusedAtNanos = 0;
          prepareNext();
        }
        creation = preparing;
      }
      if (creation != null) {
        try {
          creation.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          cause.addSuppressed(e);
        }
      }
    }
    Volume newest = volumes[volumes.length - 1];
    if (newest != full) {
      return newest;
    }
    Volume next = prepared;
    if (next == null) {
      throw cause;
    }
    return roll(full, next);
  }

  /** Makes {@code next} the newest volume (if {@code newest} still is; another thread may have done it). */
  private synchronized Volume roll(Volume newest, Volume next) {
    Volume[] all = volumes;
    if (all[all.length - 1] == newest && prepared == next) {
      Volume[] grown = Arrays.copyOf(all, all.length + 1);
      grown[all.length] = next;
      volumes = grown;
      prepared = null;
      LOG.info("Creates now go to {} (sized for {} records); {} holds {}", next.file.getFileName(), next.sized,
        newest.file.getFileName(), newest.count.get());
    }
    return volumes[volumes.length - 1];
  }

  /** Starts creating the next volume on the grower's thread, unless it is under way, ready, or refused within 1 s. */
  private synchronized void prepareNext() {
    if (closed || prepared != null || (preparing != null && !preparing.isDone())
      || (refused && System.nanoTime() - refusedAtNanos < 1_000_000_000L)) {
      return;
    }
    Volume newest = volumes[volumes.length - 1];
    preparing = grower.submit(() -> create(newest));
  }

  /** On the grower's thread: creates the volume after {@code newest} if the budget and the reserve allow it. */
  private void create(Volume newest) {
    int number = newest.number + 1;
    long wanted = Math.min(MAX_VOLUME_ENTRIES, Math.max(newest.sized, options.entries()) * 2);
    long usable = disk.usableBytesNow();
    long onDisk = bytesOnDisk();
    long sized = wanted;
    while (sized > MIN_VOLUME_ENTRIES && !fits(sized, usable, onDisk)) {
      sized /= 2;
    }
    if (!fits(sized, usable, onDisk)) {
      refusedAtNanos = System.nanoTime();
      if (!refused) {
        LOG.error("No room for another records file: {} MiB free (reserve {} MiB), the store takes {} MiB (budget {});"
            + " creates answer 507 once {} is full", usable >> 20, disk.reserveBytes() >> 20, onDisk >> 20,
          options.diskBudgetBytes() == 0 ? "none" : (options.diskBudgetBytes() >> 20) + " MiB", newest.file.getFileName());
      }
      refused = true;
      return;
    }
    Path dir = options.dataDir();
    Path file = fileOf(dir, number);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    long started = System.nanoTime();
    try {
      // Created under another name and renamed once whole, so that a crash never leaves a half-made volume.
      Files.deleteIfExists(tmp);
      builder(options, sized).createPersistedTo(tmp.toFile()).close();
      writeSizing(dir, number, sized);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      Volume volume = new Volume(number, file, sized, builder(options, sized).createPersistedTo(file.toFile()));
      synchronized (this) {
        if (closed) {
          volume.map.close();
          return;
        }
        prepared = volume;
        refused = false;
      }
      LOG.info("Created {} for {} records ({} MiB) in {} ms, ahead of need ({} holds {} of {})", file.getFileName(),
        sized, Files.size(file) >> 20, (System.nanoTime() - started) / 1_000_000, newest.file.getFileName(),
        newest.count.get(), newest.sized);
    } catch (IOException | RuntimeException e) {
      // A full disk, say: the file is not used; the next attempt comes with the next writes (at most once a second).
      refusedAtNanos = System.nanoTime();
      refused = true;
      LOG.error("Could not create {}: {}", file.getFileName(), e.toString());
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // removed at the next open
      }
    }
  }

  private boolean fits(long entries, long usable, long onDisk) {
    long bytes = options.volumeBytes(entries);
    boolean withinReserve = usable - bytes >= disk.reserveBytes();
    boolean withinBudget = options.diskBudgetBytes() == 0 || onDisk + bytes <= options.diskBudgetBytes();
    return withinReserve && withinBudget;
  }

  /** Bytes of the store's map files (records, outbox, index): preallocated, so their length is what they take. */
  long bytesOnDisk() {
    long total = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(options.dataDir(), "*.dat")) {
      for (Path file : files) {
        total += Files.size(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return total;
  }

  /** Writes the id down before a move (one line; a rare event), so that a crash in the middle is resolved at open. */
  private void noteMove(String id) {
    try {
      Files.writeString(options.dataDir().resolve(MOVES_FILE), id + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot note a record's move: " + e.getMessage(), e);
    }
  }

  /** After moves a crash may have interrupted: the newest copy of each moved record is kept, older ones dropped. */
  private void finishMoves() throws IOException {
    Path file = options.dataDir().resolve(MOVES_FILE);
    if (!Files.exists(file)) {
      return;
    }
    Set<String> ids = new LinkedHashSet<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    int dropped = 0;
    Volume[] all = volumes;
    for (String id : ids) {
      boolean newer = false;
      for (int i = all.length - 1; i >= 0; i--) {
        if (all[i].map.containsKey(id)) {
          if (newer) {
            all[i].map.remove(id);
            all[i].count.decrementAndGet();
            dropped++;
          }
          newer = true;
        }
      }
    }
    if (dropped > 0) {
      LOG.warn("Dropped {} older copies of records whose move the previous process did not finish", dropped);
    }
    Files.delete(file);
  }

  /**
   * Calls {@code consumer} with every record, oldest volume first (not a snapshot: concurrent writes may show, and a
   * record moved during the scan may show twice, never not at all).
   */
  void forEach(BiConsumer<String, byte[]> consumer) {
    for (Volume volume : live()) {
      volume.map.forEach(consumer);
    }
  }

  long size() {
    long size = 0;
    for (Volume volume : live()) {
      size += volume.count.get();
    }
    return size;
  }

  /** Records the files in use are sized for, together (they may hold more, in spare tiers). */
  long capacity() {
    long capacity = 0;
    for (Volume volume : volumes) {
      capacity += volume.sized;
    }
    return capacity;
  }

  /** The volumes, oldest first: for logs, sync and tests in this package. */
  List<Volume> volumes() {
    return List.of(volumes);
  }

  /** The volume creates go to, for tests in this package that need to reach below the contract. */
  ChronicleMap<String, byte[]> newestMap() {
    Volume[] all = volumes;
    return all[all.length - 1].map;
  }

  /** Whether the next volume is created and waiting (tests). */
  boolean nextIsReady() {
    return prepared != null;
  }

  /** Forces every volume's written pages to disk. */
  void sync() {
    for (Volume volume : volumes) {
      try (FileChannel channel = FileChannel.open(volume.file, StandardOpenOption.WRITE)) {
        channel.force(false);
      } catch (IOException e) {
        LOG.warn("Could not sync {}: {}", volume.file, e.getMessage());
      }
    }
  }

  /** Stops the grower (waiting for a file being created), then closes every volume. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    grower.shutdown();
    try {
      if (!grower.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("The creation of the next records file did not finish within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Volume next = prepared;
    if (next != null) {
      next.map.close();
    }
    for (Volume volume : volumes) {
      volume.map.close();
    }
  }
}
