package io.mtor.store;

import io.mtor.domain.ResultException;
import io.mtor.domain.StoredJson;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.PutFlags;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * The ordered index of the records, in LMDB (an embedded copy-on-write B+tree) in a folder of its own
 * ({@value #FOLDER}): for each record, in one write transaction,
 * <ul>
 *   <li>an entry per order ({@code createdDateTime}, {@code lastModifiedDateTime}) and per selector: the record's
 *   scope alone, and the scope with each indexed property's value. The key is
 *   {@code [order][scope][property][value][sort value][id]}, so that the records of one selector lie together in
 *   the order the service sorts them: a page is a seek and a short walk;</li>
 *   <li>a counter per selector, changed only when an entry is really inserted or deleted, so that it equals the
 *   number of records under the selector;</li>
 *   <li>a reverse entry per record key: what the index holds for it, so that {@link #reconcile} can make the
 *   index match a record whatever it held before (idempotent; after a crash, extra work but never a miss);</li>
 *   <li>point entries for pseudo-properties (names starting with {@code @}, e.g. idempotency keys): not in the
 *   record, so added with it ({@link #addPoints}, or in its reconcile) and kept while the record exists. A point's
 *   value may carry a payload ({@link #withPayload}): the entry is found by the value, and holds the payload, which
 *   {@link #pointsWhere} returns with the keys.</li>
 * </ul>
 *
 * <p>The scope is the part of a record key before its {@code /} (the partner tenant, with tenant-scoped keys),
 * else empty; the id is the rest. With a scope, {@code partnerTenantId} is the scope itself and has no entries of its
 * own. Values are stored as they are, but a lowercase GUID takes 16 bytes and a value over {@value #MAX_VALUE}
 * bytes is replaced by a hash of it: readers check every candidate against its record anyway.
 *
 * <p>Sort values are the timestamps as nanoseconds since the epoch, sign-flipped big-endian, so that byte order
 * is the order of instants, which is how the service compares them; ids are ASCII (RFC 3986 unreserved) so their
 * bytes sort as their strings do. A descending walk goes through the timestamps backwards but through the ids of
 * one timestamp forwards, as the service's order ends with {@code id} ascending.
 *
 * <p>LMDB settings: {@code MDB_WRITEMAP|MDB_NOSYNC|MDB_NOMETASYNC|MDB_NOTLS|MDB_NORDAHEAD}. Without syncs a write
 * is in the kernel's page cache when its transaction commits: it survives {@code kill -9}, not a power loss until
 * {@link #sync}. The map starts at {@value #INITIAL_MAP_BYTES} bytes and doubles when full; LMDB allows that only
 * with no transaction open in the process, so every transaction holds a read lock and growth the write lock.
 * Read transactions are kept short: a walk reads a batch per transaction.
 */
public final class OrderedIndex implements AutoCloseable {

  /** The folder in the data folder; its name carries the format version. */
  public static final String FOLDER = "index-v2";
  static final long INITIAL_MAP_BYTES = 64L << 20;
  static final int MAX_VALUE = 100;
  static final String WRITEMAP_PROPERTY = "mtor.index.writemap";

  private static final Logger LOG = LoggerFactory.getLogger(OrderedIndex.class);
  private static final byte CREATED = 'C';
  private static final byte MODIFIED = 'M';
  private static final byte POINT = 'P';
  private static final byte GUID = (byte) 0xFF;
  private static final char PAYLOAD = '\n';
  private static final byte HASHED = (byte) 0xFE;
  private static final String PARTNER = "partnerTenantId";
  private static final byte[] META_PROPERTIES = "properties".getBytes(StandardCharsets.UTF_8);
  private static final byte[] META_BUILT = "built".getBytes(StandardCharsets.UTF_8);
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

  /** The two orders with an index. */
  public enum Order {
    CREATED("createdDateTime", OrderedIndex.CREATED), LAST_MODIFIED("lastModifiedDateTime", MODIFIED);

    /** The property's JSON name. */
    public final String property;
    final byte family;

    Order(String property, byte family) {
      this.property = property;
      this.family = family;
    }

    /** The order on this property, or null. */
    public static Order of(String property) {
      for (Order order : values()) {
        if (order.property.equals(property)) {
          return order;
        }
      }
      return null;
    }
  }

  /** A record's place in an order: its sort value ({@link #sortValue}) and its store key. */
  public record Hit(long sort, String key) {
  }

  private final Env<ByteBuffer> env;
  private final Dbi<ByteBuffer> entries;
  private final Dbi<ByteBuffer> counts;
  private final Dbi<ByteBuffer> reverse;
  private final Dbi<ByteBuffer> meta;
  private final List<String> properties;
  private final ReentrantReadWriteLock growth = new ReentrantReadWriteLock();
  private final Path folder;
  private volatile boolean closed;

  private OrderedIndex(Path folder, Env<ByteBuffer> env, List<String> properties) {
    this.folder = folder;
    this.env = env;
    this.properties = List.copyOf(properties);
    this.entries = env.openDbi("entries", DbiFlags.MDB_CREATE);
    this.counts = env.openDbi("counts", DbiFlags.MDB_CREATE);
    this.reverse = env.openDbi("reverse", DbiFlags.MDB_CREATE);
    this.meta = env.openDbi("meta", DbiFlags.MDB_CREATE);
  }

  /**
   * Opens (creating if needed) the index in {@code dataDir}/{@value #FOLDER} for these indexed properties.
   * {@link #built()} says whether it holds every record: false for a new folder, or when it was built for other
   * properties (then it is emptied).
   */
  public static OrderedIndex open(Path dataDir, List<String> properties) {
    return open(dataDir, properties, INITIAL_MAP_BYTES);
  }

  /** {@link #open(Path, List)} with a map that starts at {@code initialMapBytes} (tests of its growth). */
  static OrderedIndex open(Path dataDir, List<String> properties, long initialMapBytes) {
    Path folder = dataDir.resolve(FOLDER);
    try {
      Files.createDirectories(folder);
      long size = initialMapBytes;
      Path data = folder.resolve("data.mdb");
      if (Files.exists(data)) {
        size = Math.max(size, Files.size(data));
      }
      Env<ByteBuffer> env = Env.create()
        .setMapSize(size)
        .setMaxDbs(4)
        .setMaxReaders(1024)
        .open(folder.toFile(), flags());
      OrderedIndex index;
      try {
        // Reader slots of a process that died (kill -9) would keep LMDB from reusing the pages they pinned.
        int stale = env.readerCheck();
        if (stale > 0) {
          LOG.info("Cleared {} stale index reader slots", stale);
        }
        index = new OrderedIndex(folder, env, properties);
        index.checkProperties();
      } catch (RuntimeException e) {
        env.close();
        throw e;
      }
      return index;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open the index in " + folder + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code MDB_WRITEMAP} (writes go straight to the mapped file instead of through {@code pwrite} of every page a
   * transaction dirtied) unless the system property {@value #WRITEMAP_PROPERTY} is false; both measured in
   * docs/performance.md.
   */
  private static EnvFlags[] flags() {
    List<EnvFlags> flags = new ArrayList<>(List.of(EnvFlags.MDB_NOSYNC, EnvFlags.MDB_NOMETASYNC, EnvFlags.MDB_NOTLS,
      EnvFlags.MDB_NORDAHEAD));
    if (!"false".equals(System.getProperty(WRITEMAP_PROPERTY))) {
      flags.add(EnvFlags.MDB_WRITEMAP);
    }
    return flags.toArray(new EnvFlags[0]);
  }

  /** An index built for another list of properties is emptied: its property codes would mean other things. */
  private void checkProperties() {
    byte[] wanted = String.join(",", properties).getBytes(StandardCharsets.UTF_8);
    write(txn -> {
      ByteBuffer stored = meta.get(txn, direct(META_PROPERTIES));
      if (stored != null && Arrays.equals(bytes(stored), wanted)) {
        return null;
      }
      if (stored != null) {
        LOG.warn("The index in {} was built for other properties: emptying it", folder);
      }
      entries.drop(txn);
      counts.drop(txn);
      reverse.drop(txn);
      meta.drop(txn);
      meta.put(txn, direct(META_PROPERTIES), direct(wanted));
      return null;
    });
  }

  /** Whether the index was completed for every record once ({@link #markBuilt}); a new index is not. */
  public boolean built() {
    return read(txn -> meta.get(txn, direct(META_BUILT)) != null);
  }

  /** Records that {@link #reconcile} has been called for every record. */
  public void markBuilt() {
    write(txn -> {
      meta.put(txn, direct(META_BUILT), direct(new byte[] {1}));
      return null;
    });
  }

  // ---- writes ----

  /**
   * Makes the index match the record stored under {@code key}, which {@code current} reads (null: no record).
   * It is read inside the index's write transaction, so that of concurrent writers of one record the last to
   * reconcile leaves the index as the record is. Idempotent.
   */
  public void reconcile(String key, Function<String, byte[]> current) {
    write(txn -> {
      reconcile(txn, key, current.apply(key));
      return null;
    });
  }

  /** {@link #reconcile} of many records, in transactions of up to {@code batch} records. */
  public void reconcileAll(Iterable<String> keys, Function<String, byte[]> current, int batch) {
    reconcileAll(keys, current, key -> Map.of(), batch);
  }

  /**
   * {@link #reconcileAll(Iterable, Function, int)}, each record claiming the points {@code points} gives for it (as
   * {@link #claimPoints}; empty: none).
   */
  public void reconcileAll(Iterable<String> keys, Function<String, byte[]> current,
                           Function<String, Map<String, String>> points, int batch) {
    List<String> chunk = new ArrayList<>(batch);
    for (String key : keys) {
      chunk.add(key);
      if (chunk.size() == batch) {
        reconcileChunk(chunk, current, points);
        chunk.clear();
      }
    }
    if (!chunk.isEmpty()) {
      reconcileChunk(chunk, current, points);
    }
  }

  private void reconcileChunk(List<String> keys, Function<String, byte[]> current,
                              Function<String, Map<String, String>> points) {
    write(txn -> {
      for (String key : keys) {
        reconcile(txn, key, current.apply(key), points.apply(key));
      }
      return null;
    });
  }

  /** Up to {@code max} of the record keys the index holds something for, in byte order, after {@code after} (null: from the first). */
  public List<String> keys(String after, int max) {
    List<String> keys = new ArrayList<>();
    read(txn -> {
      try (Cursor<ByteBuffer> cursor = reverse.openCursor(txn)) {
        boolean ok = after == null ? cursor.first() : cursor.get(direct(utf8(after)), GetOp.MDB_SET_RANGE);
        for (; ok && keys.size() < max; ok = cursor.next()) {
          String key = StandardCharsets.UTF_8.decode(cursor.key()).toString();
          if (!key.equals(after)) {
            keys.add(key);
          }
        }
      }
      return null;
    });
    return keys;
  }

  /**
   * Adds point entries (pseudo-properties, names starting with {@code @}) for the record {@code key}, before the
   * record is written: a crash after this leaves an extra candidate, never a miss. The record's reverse entry is not
   * changed: the points become the record's own with {@link #claimPoints}, once its write has won (of concurrent
   * creates of one key with different points, only the winner's stay), or go again with {@link #removePoints}.
   *
   * @return those that were not there already (what {@link #removePoints} undoes if the write fails)
   */
  public Map<String, String> addPoints(String key, Map<String, String> points) {
    return points.isEmpty() ? Map.of() : write(txn -> addPoints(txn, key, points));
  }

  /** {@link #addPoints(String, Map)} in the caller's write transaction. */
  Map<String, String> addPoints(Txn<ByteBuffer> txn, String key, Map<String, String> points) {
    Map<String, String> added = new LinkedHashMap<>();
    for (Map.Entry<String, String> point : points.entrySet()) {
      if (!point.getKey().startsWith("@")) {
        throw new IllegalArgumentException("not a pseudo-property: " + point.getKey());
      }
      if (putPoint(txn, point.getKey(), point.getValue(), key)) {
        added.put(point.getKey(), point.getValue());
      }
    }
    return added;
  }

  /**
   * Makes {@code points} the record's own, once its write has won: its reverse entry names exactly them (what
   * {@link #points} reports and a cluster snapshot copies), and an entry of another value it held (left by a crash
   * between a write's points and its record) goes.
   */
  public void claimPoints(String key, Map<String, String> points) {
    if (!points.isEmpty()) {
      write(txn -> {
        claimPoints(txn, key, points);
        return null;
      });
    }
  }

  /** {@link #claimPoints(String, Map)} in the caller's write transaction. */
  void claimPoints(Txn<ByteBuffer> txn, String key, Map<String, String> points) {
    if (points.isEmpty()) {
      return;
    }
    State state = State.decode(reverse.get(txn, direct(utf8(key))), properties);
    Map<String, String> all = claim(txn, key, state.points, points);
    if (!all.equals(state.points)) {
      putState(txn, key, new State(state.hasRecord, state.created, state.modified, state.values, all));
    }
  }

  /** Puts {@code points}' entries for {@code key}, deletes those of other values it held; the points it holds now. */
  private Map<String, String> claim(Txn<ByteBuffer> txn, String key, Map<String, String> held,
                                    Map<String, String> points) {
    Map<String, String> all = new LinkedHashMap<>(held);
    for (Map.Entry<String, String> point : points.entrySet()) {
      String before = all.put(point.getKey(), point.getValue());
      if (before != null && !before.equals(point.getValue())) {
        entries.delete(txn, direct(pointKey(point.getKey(), before, key)));
      }
      putPoint(txn, point.getKey(), point.getValue(), key);
    }
    return all;
  }

  /**
   * Puts a point entry unless it is there (NOOVERWRITE: addPoints may have put it in an earlier transaction, and a
   * plain put would copy its page again to write the same value); whether it was not there.
   */
  private boolean putPoint(Txn<ByteBuffer> txn, String property, String value, String key) {
    int cut = value.indexOf(PAYLOAD);
    ByteBuffer payload = cut < 0 ? EMPTY : direct(utf8(value.substring(cut + 1)));
    return entries.put(txn, direct(pointKey(property, value, key)), payload, PutFlags.MDB_NOOVERWRITE);
  }

  /** A point value that finds its entries by {@code value} and carries {@code payload} (see {@link #pointsWhere}). */
  public static String withPayload(String value, String payload) {
    if (value.indexOf(PAYLOAD) >= 0) {
      throw new IllegalArgumentException("a point value holds no newline");
    }
    return value + PAYLOAD + payload;
  }

  /**
   * Undoes {@link #addPoints} of a write that did not happen, in the caller's write transaction: its entries go,
   * unless the record holds the same value as its own (a create retried with the same key).
   */
  void removePoints(Txn<ByteBuffer> txn, String key, Map<String, String> added) {
    if (added.isEmpty()) {
      return;
    }
    State state = State.decode(reverse.get(txn, direct(utf8(key))), properties);
    added.forEach((property, value) -> {
      if (!value.equals(state.points.get(property))) {
        entries.delete(txn, direct(pointKey(property, value, key)));
      }
    });
  }

  private void putState(Txn<ByteBuffer> txn, String key, State state) {
    if (!state.hasRecord && state.points.isEmpty()) {
      reverse.delete(txn, direct(utf8(key)));
    } else {
      reverse.put(txn, direct(utf8(key)), direct(state.encode(properties)));
    }
  }

  /** Makes the index match {@code record} (null: none) for {@code key}, in the caller's write transaction. */
  void reconcile(Txn<ByteBuffer> txn, String key, byte[] record) {
    reconcile(txn, key, record, Map.of());
  }

  /**
   * {@link #reconcile(Txn, String, byte[])} of a write that won, claiming its {@code points} too (as
   * {@link #claimPoints}): the record's reverse entry is read and written once.
   */
  void reconcile(Txn<ByteBuffer> txn, String key, byte[] record, Map<String, String> points) {
    byte[] keyBytes = utf8(key);
    State old = State.decode(reverse.get(txn, direct(keyBytes)), properties);
    Map<String, String> held = points.isEmpty() ? old.points : claim(txn, key, old.points, points);
    State now = record == null ? State.NONE : State.of(record, properties, held);
    if (now.equals(old) && held.equals(old.points)) {
      return;
    }
    int slash = key.indexOf('/');
    String scope = slash < 0 ? "" : key.substring(0, slash);
    byte[] id = utf8(key.substring(slash + 1));
    Set<Selector> before = selectors(old, scope);
    Set<Selector> after = selectors(now, scope);
    for (Selector s : before) {
      for (Order order : Order.values()) {
        long sort = order == Order.CREATED ? old.created : old.modified;
        if (after.contains(s) && sort == (order == Order.CREATED ? now.created : now.modified)) {
          continue;
        }
        boolean deleted = entries.delete(txn, direct(entryKey(order.family, s.prefix, sort, id)));
        if (deleted && order == Order.CREATED) {
          count(txn, s.prefix, -1);
        }
      }
    }
    for (Selector s : after) {
      for (Order order : Order.values()) {
        long sort = order == Order.CREATED ? now.created : now.modified;
        // NOOVERWRITE: false when the entry is there already (a repeated reconcile), and then it is not counted.
        boolean inserted = entries.put(txn, direct(entryKey(order.family, s.prefix, sort, id)), EMPTY,
          PutFlags.MDB_NOOVERWRITE);
        if (inserted && order == Order.CREATED) {
          count(txn, s.prefix, 1);
        }
      }
    }
    if (record == null) {
      for (Map.Entry<String, String> point : held.entrySet()) {
        entries.delete(txn, direct(pointKey(point.getKey(), point.getValue(), key)));
      }
    }
    putState(txn, key, now);
  }

  private void count(Txn<ByteBuffer> txn, byte[] selector, long delta) {
    ByteBuffer k = direct(selector);
    ByteBuffer v = counts.get(txn, k);
    long n = (v == null ? 0 : v.getLong(0)) + delta;
    if (n <= 0) {
      counts.delete(txn, direct(selector));
    } else {
      counts.put(txn, direct(selector), direct(ByteBuffer.allocate(8).putLong(n).array()));
    }
  }

  /** The selectors a record's state puts it under: its scope, and its scope with each indexed value. */
  private Set<Selector> selectors(State state, String scope) {
    Set<Selector> out = new LinkedHashSet<>();
    if (!state.hasRecord) {
      return out;
    }
    out.add(new Selector(selector(scope, null, null)));
    for (Map.Entry<String, String> value : state.values.entrySet()) {
      if (!(PARTNER.equals(value.getKey()) && !scope.isEmpty())) {
        out.add(new Selector(selector(scope, value.getKey(), value.getValue())));
      }
    }
    return out;
  }

  /** A selector's bytes, as records carry it: {@code [scope][property code][value]}; property null: the scope. */
  private byte[] selector(String scope, String property, String value) {
    ByteBuffer out = ByteBuffer.allocate(2 * (MAX_VALUE + 2) + 1);
    putValue(out, scope);
    if (property == null) {
      out.put((byte) 0);
    } else {
      int code = properties.indexOf(property);
      if (code < 0) {
        throw new IllegalArgumentException("not an indexed property: " + property);
      }
      out.put((byte) (code + 1));
      putValue(out, value);
    }
    return Arrays.copyOf(out.array(), out.position());
  }

  private record Selector(byte[] prefix) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Selector s && Arrays.equals(prefix, s.prefix);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(prefix);
    }
  }

  private static byte[] entryKey(byte family, byte[] selector, long sort, byte[] id) {
    return ByteBuffer.allocate(1 + selector.length + 8 + id.length).put(family).put(selector)
      .putLong(sort ^ Long.MIN_VALUE).put(id).array();
  }

  /** A point entry's key: {@code [P][property][value][record key]}, the value without its payload. */
  private static byte[] pointKey(String property, String value, String key) {
    ByteBuffer out = ByteBuffer.allocate(1 + MAX_VALUE + 2 + MAX_VALUE + 2 + 400);
    out.put(POINT);
    putValue(out, property);
    int cut = value.indexOf(PAYLOAD);
    putValue(out, cut < 0 ? value : value.substring(0, cut));
    out.put(utf8(key));
    return Arrays.copyOf(out.array(), out.position());
  }

  /** A value in a key: a lowercase GUID in 16 bytes, a long value as its hash, else length and UTF-8. */
  private static void putValue(ByteBuffer out, String value) {
    if (isGuid(value)) {
      out.put(GUID);
      for (int i = 0; i < 36; i++) {
        char c = value.charAt(i);
        if (c == '-') {
          continue;
        }
        int high = Character.digit(c, 16);
        int low = Character.digit(value.charAt(++i), 16);
        out.put((byte) (high << 4 | low));
      }
      return;
    }
    byte[] bytes = utf8(value);
    if (bytes.length > MAX_VALUE) {
      out.put(HASHED).put(sha256(bytes), 0, 16);
    } else {
      out.put((byte) bytes.length).put(bytes);
    }
  }

  /** A GUID's 16 bytes as the lowercase text {@link #putValue} took them from. */
  private static String guidString(byte[] guid) {
    String hex = HexFormat.of().formatHex(guid);
    return hex.substring(0, 8) + '-' + hex.substring(8, 12) + '-' + hex.substring(12, 16) + '-' + hex.substring(16, 20)
      + '-' + hex.substring(20);
  }

  private static boolean isGuid(String value) {
    if (value.length() != 36) {
      return false;
    }
    for (int i = 0; i < 36; i++) {
      char c = value.charAt(i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  // ---- reads ----

  /** A timestamp as the index sorts it (nanoseconds since the epoch); {@link Long#MIN_VALUE} when absent or not one. */
  public static long sortValue(String timestamp) {
    if (timestamp == null) {
      return Long.MIN_VALUE;
    }
    try {
      Instant instant = Instant.parse(timestamp);
      return sortValue(instant);
    } catch (DateTimeParseException e) {
      return Long.MIN_VALUE;
    }
  }

  /** An instant as the index sorts it, saturated to the range of nanoseconds in a long. */
  public static long sortValue(Instant instant) {
    try {
      return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
    } catch (ArithmeticException e) {
      return instant.getEpochSecond() < 0 ? Long.MIN_VALUE + 1 : Long.MAX_VALUE;
    }
  }

  /**
   * Up to {@code max} records under a selector in an order, strictly after {@code after} (null: from the start),
   * with sort values within {@code [low, high]}. One short read transaction.
   *
   * @param scope    the records' scope ("" without tenant-scoped keys)
   * @param property an indexed property, or null for the scope alone
   * @param value    the property's value
   */
  public List<Hit> walk(Order order, boolean descending, String scope, String property, String value, Hit after,
                        long low, long high, int max) {
    byte[] selector = selector(scope, property, value);
    byte[] prefix = ByteBuffer.allocate(1 + selector.length).put(order.family).put(selector).array();
    String keyPrefix = scope.isEmpty() ? "" : scope + "/";
    byte[] afterId = after == null ? null : utf8(after.key().substring(keyPrefix.isEmpty() ? 0
      : after.key().indexOf('/') + 1));
    List<Hit> hits = new ArrayList<>(Math.min(max, 1024));
    if (low > high || max <= 0) {
      return hits;
    }
    read(txn -> {
      try (Cursor<ByteBuffer> cursor = entries.openCursor(txn)) {
        if (!descending) {
          boolean resume = after != null && after.sort() >= low;
          boolean found = cursor.get(direct(entryKey(order.family, selector, resume ? after.sort() : low,
            resume ? afterId : new byte[0])), GetOp.MDB_SET_RANGE);
          while (found && hits.size() < max) {
            byte[] k = bytes(cursor.key());
            if (!startsWith(k, prefix)) {
              break;
            }
            long sort = sortOf(k, prefix.length);
            if (sort > high) {
              break;
            }
            if (!(resume && sort == after.sort() && Arrays.equals(k, prefix.length + 8, k.length, afterId, 0,
              afterId.length))) {
              hits.add(new Hit(sort, keyPrefix + idOf(k, prefix.length)));
            }
            found = cursor.next();
          }
          return null;
        }
        // Descending: timestamps backwards, the ids of one timestamp forwards.
        Long group;
        byte[] fromId;
        if (after == null) {
          group = groupAtOrBelow(cursor, order.family, selector, prefix, high);
          fromId = null;
        } else {
          group = after.sort() > high ? groupAtOrBelow(cursor, order.family, selector, prefix, high) : after.sort();
          fromId = after.sort() > high ? null : afterId;
        }
        while (group != null && group >= low && hits.size() < max) {
          boolean found = cursor.get(direct(entryKey(order.family, selector, group, fromId == null ? new byte[0] : fromId)),
            GetOp.MDB_SET_RANGE);
          while (found && hits.size() < max) {
            byte[] k = bytes(cursor.key());
            if (!startsWith(k, prefix) || sortOf(k, prefix.length) != group) {
              break;
            }
            String id = idOf(k, prefix.length);
            if (fromId == null || !Arrays.equals(utf8(id), fromId)) {
              hits.add(new Hit(group, keyPrefix + id));
            }
            found = cursor.next();
          }
          if (hits.size() >= max || group == Long.MIN_VALUE) {
            break;
          }
          group = groupAtOrBelow(cursor, order.family, selector, prefix, group - 1);
          fromId = null;
        }
        return null;
      }
    });
    return hits;
  }

  /** The largest sort value at or below {@code limit} under the prefix, or null. */
  private Long groupAtOrBelow(Cursor<ByteBuffer> cursor, byte family, byte[] selector, byte[] prefix, long limit) {
    boolean found;
    if (limit == Long.MAX_VALUE) {
      byte[] next = prefix.clone();
      if (!increment(next)) {
        found = cursor.last();
      } else {
        found = cursor.get(direct(next), GetOp.MDB_SET_RANGE) ? cursor.prev() : cursor.last();
      }
    } else {
      found = cursor.get(direct(entryKey(family, selector, limit + 1, new byte[0])), GetOp.MDB_SET_RANGE)
        ? cursor.prev() : cursor.last();
    }
    if (!found) {
      return null;
    }
    byte[] k = bytes(cursor.key());
    return startsWith(k, prefix) ? sortOf(k, prefix.length) : null;
  }

  /** The prefix's successor in byte order (false if it has none). */
  private static boolean increment(byte[] bytes) {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] != (byte) 0xFF) {
        bytes[i]++;
        Arrays.fill(bytes, i + 1, bytes.length, (byte) 0);
        return true;
      }
    }
    return false;
  }

  private static long sortOf(byte[] key, int offset) {
    return ByteBuffer.wrap(key, offset, 8).getLong() ^ Long.MIN_VALUE;
  }

  private static String idOf(byte[] key, int offset) {
    return new String(key, offset + 8, key.length - offset - 8, StandardCharsets.UTF_8);
  }

  /** How many records are under the selector (property null: the scope alone). */
  public long count(String scope, String property, String value) {
    byte[] selector = selector(scope, property, value);
    return read(txn -> {
      ByteBuffer v = counts.get(txn, direct(selector));
      return v == null ? 0L : v.getLong(0);
    });
  }

  /** The point entries (pseudo-properties, see {@link #addPoints}) held for the record {@code key}. */
  public Map<String, String> points(String key) {
    return read(txn -> State.decode(reverse.get(txn, direct(utf8(key))), properties).points);
  }

  /**
   * The keys of the records a point entry names under {@code property} and {@code value} (a superset: check each
   * record), in key order, each with its entry's payload ({@link #withPayload}; empty: none).
   */
  public Map<String, String> pointsWhere(String property, String value) {
    byte[] prefix = pointKey(property, value, "");
    Map<String, String> keys = new LinkedHashMap<>();
    read(txn -> {
      try (Cursor<ByteBuffer> cursor = entries.openCursor(txn)) {
        boolean found = cursor.get(direct(prefix), GetOp.MDB_SET_RANGE);
        while (found) {
          byte[] k = bytes(cursor.key());
          if (!startsWith(k, prefix)) {
            break;
          }
          keys.put(new String(k, prefix.length, k.length - prefix.length, StandardCharsets.UTF_8),
            StandardCharsets.UTF_8.decode(cursor.val()).toString());
          found = cursor.next();
        }
      }
      return null;
    });
    return keys;
  }

  /** The reverse entry of {@code key} as stored (null: none), for tests of its form. */
  byte[] reverseEntry(String key) {
    return read(txn -> {
      ByteBuffer stored = reverse.get(txn, direct(utf8(key)));
      return stored == null ? null : bytes(stored);
    });
  }

  /** Stores {@code stored} as the reverse entry of {@code key}, for tests of forms written by earlier versions. */
  void reverseEntry(String key, byte[] stored) {
    write(txn -> reverse.put(txn, direct(utf8(key)), direct(stored)));
  }

  /** The index's entries, counters and reverse entries, for tests: {@code [entries, counts, reverse]}. */
  long[] sizes() {
    return read(txn -> new long[] {entries.stat(txn).entries, counts.stat(txn).entries, reverse.stat(txn).entries});
  }

  /** The map's current size in bytes. */
  long mapSize() {
    return env.info().mapSize;
  }

  // ---- transactions ----

  private <T> T read(Function<Txn<ByteBuffer>, T> work) {
    growth.readLock().lock();
    try {
      check();
      try (Txn<ByteBuffer> txn = env.txnRead()) {
        return work.apply(txn);
      }
    } finally {
      growth.readLock().unlock();
    }
  }

  /** A write transaction; when the map is full, it is aborted, the map doubled, and the work done again. */
  <T> T write(Function<Txn<ByteBuffer>, T> work) {
    while (true) {
      long size = -1;
      growth.readLock().lock();
      try {
        check();
        size = env.info().mapSize;
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
          T result = work.apply(txn);
          txn.commit();
          return result;
        }
      } catch (Env.MapFullException e) {
        // grow below, with no transaction of ours open
      } finally {
        growth.readLock().unlock();
      }
      grow(size);
    }
  }

  private void grow(long seen) {
    growth.writeLock().lock();
    try {
      check();
      long size = env.info().mapSize;
      if (size == seen) {
        env.setMapSize(size * 2);
        LOG.info("Index map grown to {} MiB", size * 2 >> 20);
      }
    } finally {
      growth.writeLock().unlock();
    }
  }

  private void check() {
    if (closed) {
      throw ResultException.storeUnavailable(null);
    }
  }

  /** Forces the index's pages to disk. */
  public void sync() {
    growth.readLock().lock();
    try {
      if (!closed) {
        env.sync(true);
      }
    } finally {
      growth.readLock().unlock();
    }
  }

  @Override
  public void close() {
    growth.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        env.sync(true);
        env.close();
      }
    } finally {
      growth.writeLock().unlock();
    }
  }

  // ---- helpers ----

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Keys and values handed to LMDB must be direct buffers. Allocating one per key cost more than the index writes
   * themselves, so they are slices of a per-thread ring: LMDB reads a key only during the call it is given to, and
   * no caller keeps one for longer than a few others are taken.
   */
  private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(1 << 16));

  private static ByteBuffer direct(byte[] bytes) {
    if (bytes.length > 4096) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
      buffer.put(bytes).flip();
      return buffer;
    }
    ByteBuffer ring = SCRATCH.get();
    if (ring.remaining() < bytes.length) {
      ring.clear();
    }
    ByteBuffer slice = ring.slice();
    slice.put(bytes).flip();
    ring.position(ring.position() + bytes.length);
    return slice;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  /**
   * What the index holds for a record key: whether it indexes a record, and that record's timestamps and indexed
   * values; and the point entries (pseudo-properties) of the key.
   */
  private record State(boolean hasRecord, long created, long modified, Map<String, String> values,
                       Map<String, String> points) {
    static final State NONE = new State(false, 0, 0, Map.of(), Map.of());
    static final byte NO_RECORD = 2;
    static final byte RECORD = 3;
    static final int MAX_UTF8 = 3;

    static State of(byte[] record, List<String> properties, Map<String, String> points) {
      Map<String, String> values = new LinkedHashMap<>();
      for (String property : properties) {
        String value = StoredJson.string(record, property);
        if (value != null) {
          values.put(property, value);
        }
      }
      return new State(true, sortValue(StoredJson.string(record, Order.CREATED.property)),
        sortValue(StoredJson.string(record, Order.LAST_MODIFIED.property)), values, points);
    }

    /**
     * The stored form: a flag ({@link #RECORD} or {@link #NO_RECORD}), the two timestamps, the values (each as its
     * property's code and the value, a GUID in 16 bytes), then the points as name/value pairs. Flags 1 and 0 mark
     * the longer form written before (property names and values as text), which {@link #decode} still reads.
     */
    byte[] encode(List<String> properties) {
      ByteBuffer out = ByteBuffer.allocate(1024);
      out.put(hasRecord ? RECORD : NO_RECORD).putLong(created).putLong(modified);
      out.put((byte) values.size());
      for (Map.Entry<String, String> value : values.entrySet()) {
        out = Pairs.room(out, 4 + MAX_UTF8 * value.getValue().length());
        out.put((byte) properties.indexOf(value.getKey()));
        if (isGuid(value.getValue())) {
          putValue(out, value.getValue());
        } else {
          byte[] bytes = utf8(value.getValue());
          out.put((byte) 0).putShort((short) bytes.length).put(bytes);
        }
      }
      out = Pairs.put(out, points);
      return Arrays.copyOf(out.array(), out.position());
    }

    static State decode(ByteBuffer stored, List<String> properties) {
      if (stored == null) {
        return NONE;
      }
      ByteBuffer in = stored.duplicate();
      byte flag = in.get();
      long created = in.getLong();
      long modified = in.getLong();
      if (flag == 0 || flag == 1) {
        return new State(flag == 1, created, modified, Pairs.read(in), Pairs.read(in));
      }
      Map<String, String> values = new LinkedHashMap<>();
      for (int n = in.get(); n > 0; n--) {
        String property = properties.get(in.get());
        if (in.get() == GUID) {
          byte[] guid = new byte[16];
          in.get(guid);
          values.put(property, guidString(guid));
        } else {
          byte[] bytes = new byte[in.getShort() & 0xFFFF];
          in.get(bytes);
          values.put(property, new String(bytes, StandardCharsets.UTF_8));
        }
      }
      return new State(flag == RECORD, created, modified, values, Pairs.read(in));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof State s && hasRecord == s.hasRecord && created == s.created && modified == s.modified
        && values.equals(s.values) && points.equals(s.points);
    }

    @Override
    public int hashCode() {
      return Objects.hash(hasRecord, created, modified, values, points);
    }
  }
}
