package io.mtor.store;

import io.mtor.domain.OperationResults;
import io.mtor.domain.ResultException;
import io.mtor.store.OrderedIndex.Hit;
import io.mtor.store.OrderedIndex.Order;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ordered index alone and through the store: entries, counters, reconcile, growth, reopen and recovery. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OrderedIndexTest {

  static final List<String> INDEXED = OperationResults.INDEXED;
  static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");
  static final byte[] EVENT = "{\"eventType\":\"created\"}".getBytes(StandardCharsets.UTF_8);

  @TempDir
  Path dir;

  static String guid(String seed) {
    return UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8)).toString();
  }

  /** A record as the service stores it, created {@code second} seconds after T0. */
  static byte[] record(String id, String partner, String target, String operation, long second) {
    return OperationResults.newEntity(new JsonObject().put("id", id).put("partnerTenantId", partner)
        .put("targetTenantId", target).put("managedTenantOperationId", operation).put("requestId", guid("r" + id))
        .put("isSuccess", true), T0.plusSeconds(second))
      .toBuffer().getBytes();
  }

  static StoreOptions options(Path dir, long outbox) {
    return new StoreOptions(dir, 2_000, 36, 512, outbox, INDEXED);
  }

  static List<String> keys(List<Hit> hits) {
    return hits.stream().map(Hit::key).toList();
  }

  static List<Hit> all(OrderedIndex index, Order order, boolean descending, String scope, String property,
                       String value) {
    return index.walk(order, descending, scope, property, value, null, Long.MIN_VALUE, Long.MAX_VALUE, 100_000);
  }

  @Test
  void entriesAndCountsFollowInsertsUpdatesAndDeletes() {
    String p1 = guid("p1");
    String p2 = guid("p2");
    String t1 = guid("t1");
    String t2 = guid("t2");
    try (OperationResultStore store = OperationResultStore.open(options(dir, 0))) {
      // Tenant-scoped keys: the scope is the partner tenant.
      store.insert(p1 + "/c", record("c", p1, t1, "op-1", 3), Map.of(), null, null);
      store.insert(p1 + "/a", record("a", p1, t1, "op-2", 3), Map.of(), null, null);
      store.insert(p1 + "/b", record("b", p1, t2, "op-1", 1), Map.of(), null, null);
      store.insert(p2 + "/a", record("a", p2, t1, "op-1", 2), Map.of(), null, null);
      OrderedIndex index = store.index();
      assertThat(index.count(p1, null, null)).isEqualTo(3);
      assertThat(index.count(p2, null, null)).isEqualTo(1);
      assertThat(index.count(p1, "targetTenantId", t1)).isEqualTo(2);
      assertThat(index.count(p1, "managedTenantOperationId", "op-1")).isEqualTo(2);
      assertThat(index.count("", null, null)).isZero();
      // Ascending: time, then id; descending: time backwards, ids of one time still ascending.
      assertThat(keys(all(index, Order.CREATED, false, p1, null, null))).containsExactly(p1 + "/b", p1 + "/a", p1 + "/c");
      assertThat(keys(all(index, Order.CREATED, true, p1, null, null))).containsExactly(p1 + "/a", p1 + "/c", p1 + "/b");
      assertThat(keys(all(index, Order.CREATED, true, p1, "targetTenantId", t1))).containsExactly(p1 + "/a", p1 + "/c");
      // Keyset: after a hit, in either direction.
      List<Hit> desc = all(index, Order.CREATED, true, p1, null, null);
      assertThat(keys(index.walk(Order.CREATED, true, p1, null, null, desc.get(0), Long.MIN_VALUE, Long.MAX_VALUE, 10)))
        .containsExactly(p1 + "/c", p1 + "/b");
      assertThat(keys(index.walk(Order.CREATED, false, p1, null, null, desc.get(2), Long.MIN_VALUE, Long.MAX_VALUE, 1)))
        .containsExactly(p1 + "/a");
      // Ranges: [low, high] inclusive.
      long second3 = OrderedIndex.sortValue(T0.plusSeconds(3));
      assertThat(keys(index.walk(Order.CREATED, false, p1, null, null, null, second3, Long.MAX_VALUE, 10)))
        .containsExactly(p1 + "/a", p1 + "/c");
      assertThat(keys(index.walk(Order.CREATED, true, p1, null, null, null, Long.MIN_VALUE, second3 - 1, 10)))
        .containsExactly(p1 + "/b");

      // An update moves lastModifiedDateTime and the changed value's entries; counts follow.
      byte[] before = store.get(p1 + "/b");
      JsonObject changed = OperationResults.updated(new JsonObject(io.vertx.core.buffer.Buffer.buffer(before)),
        new JsonObject().put("targetTenantId", t1), OperationResults.timestamp(T0.plusSeconds(10)));
      assertThat(store.replace(p1 + "/b", before, changed.toBuffer().getBytes(), null, null)).isTrue();
      assertThat(index.count(p1, "targetTenantId", t1)).isEqualTo(3);
      assertThat(index.count(p1, "targetTenantId", t2)).isZero();
      assertThat(keys(all(index, Order.LAST_MODIFIED, true, p1, null, null))).first().isEqualTo(p1 + "/b");
      assertThat(keys(all(index, Order.CREATED, false, p1, null, null))).first().isEqualTo(p1 + "/b");

      assertThat(store.remove(p1 + "/a", store.get(p1 + "/a"), null, null)).isTrue();
      assertThat(index.count(p1, null, null)).isEqualTo(2);
      assertThat(index.count(p1, "managedTenantOperationId", "op-2")).isZero();
      assertThat(keys(all(index, Order.LAST_MODIFIED, false, p1, null, null))).containsExactly(p1 + "/c", p1 + "/b");
      // Per record: one entry per order and selector (scope + 3 values; partnerTenantId is the scope), one reverse
      // entry; counters for each selector in use.
      long[] sizes = index.sizes();
      assertThat(sizes[0]).isEqualTo(3 * 2 * 4);
      assertThat(sizes[2]).isEqualTo(3);
    }
  }

  @Test
  void withoutScopedKeysPartnerTenantIdIsASelectorAndLongValuesAreHashed() {
    String p1 = guid("p1");
    String longOperation = "op-" + "x".repeat(300);
    try (OperationResultStore store = OperationResultStore.open(options(dir, 0))) {
      store.insert("a", record("a", p1, guid("t"), longOperation, 1), Map.of(), null, null);
      store.insert("b", record("b", guid("p2"), guid("t"), longOperation, 2), Map.of(), null, null);
      OrderedIndex index = store.index();
      assertThat(index.count("", null, null)).isEqualTo(2);
      assertThat(index.count("", "partnerTenantId", p1)).isEqualTo(1);
      assertThat(keys(all(index, Order.CREATED, true, "", "managedTenantOperationId", longOperation)))
        .containsExactly("b", "a");
    }
  }

  @Test
  void aRefusedCreateWithAnotherIdempotencyKeyLeavesTheRecordItsOwn() {
    try (OperationResultStore store = OperationResultStore.open(options(dir, 0))) {
      byte[] a = record("a", guid("p"), guid("t"), "op", 1);
      store.insert("a", a, Map.of("@key", "k1"), null, null);
      assertThatThrownBy(() -> store.insert("a", a, Map.of("@key", "k2"), null, null))
        .isInstanceOf(ResultException.class);
      // What a copy of the store (a cluster snapshot) takes from the reverse entry is what readers find.
      assertThat(store.points("a")).isEqualTo(Map.of("@key", "k1"));
      assertThat(store.idsWhere("@key", "k1").keySet()).containsExactly("a");
      assertThat(store.idsWhere("@key", "k2").keySet()).isEmpty();
    }
  }

  @Test
  void aPointIsFoundByItsValueAndHoldsItsPayload() {
    Map<String, byte[]> records = new HashMap<>();
    try (OrderedIndex index = OrderedIndex.open(dir, INDEXED)) {
      records.put("a", record("a", guid("p"), guid("t"), "op", 1));
      records.put("b", record("b", guid("p"), guid("t"), "op", 2));
      index.addPoints("a", Map.of("@key", OrderedIndex.withPayload("k", "body-1")));
      index.claimPoints("a", Map.of("@key", OrderedIndex.withPayload("k", "body-1")));
      index.reconcile("a", records::get);
      index.addPoints("b", Map.of("@key", "k"));
      index.reconcile("b", records::get);
      assertThat(index.pointsWhere("@key", "k")).containsExactly(Map.entry("a", "body-1"), Map.entry("b", ""));
      assertThat(index.pointsWhere("@key", "body-1")).isEmpty();
      assertThat(index.points("a")).containsExactly(Map.entry("@key", "k\nbody-1"));
      assertThatThrownBy(() -> OrderedIndex.withPayload("k\n", "x")).isInstanceOf(IllegalArgumentException.class);
      records.remove("a");
      index.reconcile("a", records::get);
      assertThat(index.pointsWhere("@key", "k")).containsExactly(Map.entry("b", ""));
    }
  }

  @Test
  void aReverseEntryIsCompactAndOneInTheLongerEarlierFormIsStillRead() {
    Map<String, byte[]> records = new HashMap<>();
    String p = guid("p");
    try (OrderedIndex index = OrderedIndex.open(dir, INDEXED)) {
      records.put("a", record("a", p, guid("t1"), "op-1", 1));
      String point = OrderedIndex.withPayload("k".repeat(32), "b".repeat(32));
      index.addPoints("a", Map.of("@idempotency", point));
      index.claimPoints("a", Map.of("@idempotency", point));
      index.reconcile("a", records::get);
      // Property codes and GUIDs in 16 bytes: the earlier form (names and values as text, below) takes over 300.
      assertThat(index.reverseEntry("a")).hasSizeLessThan(200);
      assertThat(index.points("a")).containsExactly(Map.entry("@idempotency", point));

      // The same state in the earlier form: flag 1, the timestamps, then name/value pairs.
      long created = OrderedIndex.sortValue(T0.plusSeconds(1));
      Map<String, String> values = new LinkedHashMap<>();
      values.put("targetTenantId", guid("t1"));
      values.put("partnerTenantId", p);
      values.put("managedTenantOperationId", "op-1");
      values.put("requestId", guid("ra"));
      ByteBuffer older = ByteBuffer.allocate(1024).put((byte) 1).putLong(created).putLong(created);
      for (Map<String, String> pairs : List.of(values, Map.of("@idempotency", point))) {
        older.putShort((short) pairs.size());
        pairs.forEach((name, value) -> older.putShort((short) name.length()).put(name.getBytes(StandardCharsets.UTF_8))
          .putInt(value.length()).put(value.getBytes(StandardCharsets.UTF_8)));
      }
      assertThat(older.position()).isGreaterThan(300);
      index.reverseEntry("a", Arrays.copyOf(older.array(), older.position()));
      assertThat(index.points("a")).containsExactly(Map.entry("@idempotency", point));
      long[] before = index.sizes();
      index.reconcile("a", records::get);
      assertThat(index.sizes()).isEqualTo(before);

      // Moved to another target: the entries the older form names go, and the entry is rewritten compact.
      records.put("a", record("a", p, guid("t2"), "op-1", 1));
      index.reconcile("a", records::get);
      assertThat(index.count("", "targetTenantId", guid("t1"))).isZero();
      assertThat(index.count("", "targetTenantId", guid("t2"))).isEqualTo(1);
      assertThat(keys(all(index, Order.CREATED, false, "", "targetTenantId", guid("t1")))).isEmpty();
      assertThat(index.reverseEntry("a")).hasSizeLessThan(200);
      assertThat(index.pointsWhere("@idempotency", "k".repeat(32))).containsExactly(Map.entry("a", "b".repeat(32)));
      records.remove("a");
      index.reconcile("a", records::get);
      assertThat(index.sizes()).containsExactly(0, 0, 0);
    }
  }

  @Test
  void reconcileIsIdempotentAndFollowsWhateverTheRecordIs() {
    Map<String, byte[]> records = new HashMap<>();
    String p = guid("p");
    try (OrderedIndex index = OrderedIndex.open(dir, INDEXED)) {
      records.put("a", record("a", p, guid("t1"), "op", 1));
      for (int i = 0; i < 3; i++) {
        index.reconcile("a", records::get);
      }
      assertThat(index.count("", null, null)).isEqualTo(1);
      assertThat(index.count("", "targetTenantId", guid("t1"))).isEqualTo(1);
      long[] once = index.sizes();
      index.reconcile("a", records::get);
      assertThat(index.sizes()).isEqualTo(once);
      records.put("a", record("a", p, guid("t2"), "op", 1));
      index.reconcile("a", records::get);
      index.reconcile("a", records::get);
      assertThat(index.count("", "targetTenantId", guid("t1"))).isZero();
      assertThat(index.count("", "targetTenantId", guid("t2"))).isEqualTo(1);
      assertThat(index.count("", null, null)).isEqualTo(1);
      // Point entries (pseudo-properties) stay while the record does, and go with it.
      assertThat(index.addPoints("a", Map.of("@key", "k1"))).containsEntry("@key", "k1");
      assertThat(index.addPoints("a", Map.of("@key", "k1"))).isEmpty();
      // The write won: the points become the record's own.
      index.claimPoints("a", Map.of("@key", "k1"));
      index.reconcile("a", records::get);
      assertThat(index.pointsWhere("@key", "k1").keySet()).containsExactly("a");
      records.remove("a");
      index.reconcile("a", records::get);
      index.reconcile("a", records::get);
      assertThat(index.pointsWhere("@key", "k1").keySet()).isEmpty();
      assertThat(index.count("", null, null)).isZero();
      assertThat(index.sizes()).containsExactly(0, 0, 0);
    }
  }

  @Test
  void theMapGrowsWhenFullAndKeepsEverything() {
    Map<String, byte[]> records = new HashMap<>();
    long initial = 256 << 10;
    try (OrderedIndex index = OrderedIndex.open(dir, INDEXED, initial)) {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 3_000; i++) {
        String id = String.format("id-%05d", i);
        records.put(id, record(id, guid("p" + i % 7), guid("t" + i % 50), "op-" + i % 5, i));
        keys.add(id);
      }
      index.reconcileAll(keys.subList(0, 100), records::get, 1_000);
      for (String key : keys.subList(100, keys.size())) {
        index.reconcile(key, records::get);
      }
      assertThat(index.mapSize()).isGreaterThanOrEqualTo(4 * initial);
      assertThat(index.count("", null, null)).isEqualTo(3_000);
      assertThat(keys(all(index, Order.CREATED, false, "", null, null))).containsExactlyElementsOf(keys);
    }
    // A reopened index starts at the size it had grown to.
    try (OrderedIndex index = OrderedIndex.open(dir, INDEXED, initial)) {
      assertThat(index.mapSize()).isGreaterThanOrEqualTo(4 * initial);
      assertThat(index.count("", "managedTenantOperationId", "op-3")).isEqualTo(600);
    }
  }

  @Test
  void aReopenedStoreKeepsItsIndexAndAnOldFolderIsIndexedAtOpen() throws Exception {
    try (OperationResultStore store = OperationResultStore.open(options(dir, 100))) {
      for (int i = 0; i < 50; i++) {
        store.insert("r" + i, record("r" + i, guid("p"), guid("t" + i % 3), "op", i), Map.of(), "e" + i, EVENT);
      }
    }
    try (OperationResultStore store = OperationResultStore.open(options(dir, 100))) {
      assertThat(store.index().built()).isTrue();
      assertThat(store.index().count("", "targetTenantId", guid("t1"))).isEqualTo(17);
    }
    // A data folder from before the ordered index (no index folder; the old index file): built at open.
    deleteTree(dir.resolve(OrderedIndex.FOLDER));
    Files.write(dir.resolve(OperationResultStore.OLD_INDEX_FILE), new byte[16]);
    try (OperationResultStore store = OperationResultStore.open(options(dir, 100))) {
      assertThat(store.index().count("", null, null)).isEqualTo(50);
      assertThat(keys(all(store.index(), Order.CREATED, true, "", null, null))).first().isEqualTo("r49");
    }
    assertThat(dir.resolve(OperationResultStore.OLD_INDEX_FILE)).doesNotExist();
  }

  @Test
  void afterAnUncleanExitTheRecordsNamedByOutboxEventsAreReconciled() throws Exception {
    String p = guid("p");
    try (OperationResultStore store = OperationResultStore.open(options(dir, 100))) {
      store.insert("kept", record("kept", p, guid("t1"), "op", 1), Map.of(), "e-kept", EVENT);
      store.insert("moved", record("moved", p, guid("t1"), "op", 2), Map.of(), "e-moved", EVENT);
      store.insert("gone", record("gone", p, guid("t1"), "op", 3), Map.of(), "e-gone", EVENT);
      // As if the process died between writing these records and their index: the records change, the index not.
      store.chronicleMap().put("moved", record("moved", p, guid("t2"), "op", 2));
      store.chronicleMap().remove("gone");
      store.chronicleMap().put("new", record("new", p, guid("t2"), "op", 4));
      assertThat(store.index().count("", "targetTenantId", guid("t2"))).isZero();
    }
    // "moved" and "gone" have outbox events (unacknowledged): reconciled. "new" has none, which no real write can
    // leave (its event goes first): the outbox path does not look at it, which shows that it reads only the outbox.
    Files.write(dir.resolve(OperationResultStore.OPEN_MARKER), new byte[0]);
    try (OperationResultStore store = OperationResultStore.open(options(dir, 100))) {
      assertThat(store.recovered()).isTrue();
      OrderedIndex index = store.index();
      assertThat(index.count("", "targetTenantId", guid("t1"))).isEqualTo(1);
      assertThat(index.count("", "targetTenantId", guid("t2"))).isEqualTo(1);
      assertThat(keys(all(index, Order.CREATED, false, "", null, null))).containsExactly("kept", "moved");
    }
  }

  @Test
  void afterAnUncleanExitTheKeysOfWrittenCreatesComeBackFromTheirEvents() throws Exception {
    String p = guid("p");
    try (OperationResultStore store = OperationResultStore.open(options(dir, 100))) {
      store.insert("keyed", record("keyed", p, guid("t1"), "op", 1),
        Map.of("@key", OrderedIndex.withPayload("k1", "b1")), "e-keyed", EVENT);
      store.insert("lost", record("lost", p, guid("t1"), "op", 2), Map.of("@key", "k2"), "e-lost", EVENT);
      // As if the process died after writing these records, before the index transaction that takes their keys:
      // the index knows neither. "lost" was then written by another create (its bytes differ from its event's).
      store.index().reconcile("keyed", key -> null);
      store.index().reconcile("lost", key -> null);
      store.chronicleMap().put("lost", record("lost", p, guid("t2"), "op", 2));
      assertThat(store.idsWhere("@key", "k1")).isEmpty();
    }
    Files.write(dir.resolve(OperationResultStore.OPEN_MARKER), new byte[0]);
    try (OperationResultStore store = OperationResultStore.open(options(dir, 100))) {
      assertThat(store.idsWhere("@key", "k1")).containsExactly(Map.entry("keyed", "b1"));
      assertThat(store.points("keyed")).containsExactly(Map.entry("@key", "k1\nb1"));
      assertThat(store.idsWhere("@key", "k2")).isEmpty();
      assertThat(keys(all(store.index(), Order.CREATED, false, "", null, null))).containsExactly("keyed", "lost");
    }
  }

  @Test
  void afterAnUncleanExitWithoutAnOutboxEveryRecordIsReconciled() throws Exception {
    String p = guid("p");
    try (OperationResultStore store = OperationResultStore.open(options(dir, 0))) {
      store.insert("kept", record("kept", p, guid("t1"), "op", 1), Map.of(), null, null);
      store.insert("gone", record("gone", p, guid("t1"), "op", 3), Map.of(), null, null);
      store.chronicleMap().remove("gone");
      store.chronicleMap().put("new", record("new", p, guid("t2"), "op", 4));
    }
    Files.write(dir.resolve(OperationResultStore.OPEN_MARKER), new byte[0]);
    try (OperationResultStore store = OperationResultStore.open(options(dir, 0))) {
      OrderedIndex index = store.index();
      assertThat(keys(all(index, Order.CREATED, false, "", null, null))).containsExactly("kept", "new");
      assertThat(index.count("", null, null)).isEqualTo(2);
      assertThat(index.count("", "targetTenantId", guid("t1"))).isEqualTo(1);
    }
  }

  @Test
  void concurrentWritersOfTheSameRecordsLeaveTheIndexAsTheRecordsAre() throws Exception {
    List<String> targets = List.of(guid("t0"), guid("t1"), guid("t2"));
    try (OperationResultStore store = OperationResultStore.open(options(dir, 0))) {
      for (int i = 0; i < 5; i++) {
        store.insert("r" + i, record("r" + i, guid("p"), targets.get(0), "op", i), Map.of(), null, null);
      }
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int seed = w;
        Thread writer = new Thread(() -> {
          java.util.Random random = new java.util.Random(seed);
          for (int n = 0; n < 300; n++) {
            String id = "r" + random.nextInt(5);
            byte[] before = store.get(id);
            if (before == null) {
              try {
                store.insert(id, record(id, guid("p"), targets.get(random.nextInt(3)), "op", n), Map.of(), null, null);
              } catch (io.mtor.domain.ResultException conflict) {
                // another writer re-created it first
              }
            } else if (random.nextInt(10) == 0) {
              store.remove(id, before, null, null);
            } else {
              JsonObject changed = OperationResults.updated(new JsonObject(io.vertx.core.buffer.Buffer.buffer(before)),
                new JsonObject().put("targetTenantId", targets.get(random.nextInt(3))),
                OperationResults.timestamp(T0.plusMillis(random.nextInt(1_000_000))));
              store.replace(id, before, changed.toBuffer().getBytes(), null, null);
            }
          }
        });
        writer.start();
        writers.add(writer);
      }
      for (Thread writer : writers) {
        writer.join();
      }
      OrderedIndex index = store.index();
      Map<String, Long> byTarget = new HashMap<>();
      List<String> present = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        byte[] stored = store.get("r" + i);
        if (stored != null) {
          present.add("r" + i);
          byTarget.merge(new JsonObject(io.vertx.core.buffer.Buffer.buffer(stored)).getString("targetTenantId"), 1L, Long::sum);
        }
      }
      assertThat(index.count("", null, null)).isEqualTo(present.size());
      for (String target : targets) {
        assertThat(index.count("", "targetTenantId", target)).as(target).isEqualTo(byTarget.getOrDefault(target, 0L));
        assertThat(all(index, Order.LAST_MODIFIED, false, "", "targetTenantId", target)).hasSize(
          byTarget.getOrDefault(target, 0L).intValue());
      }
      assertThat(keys(all(index, Order.CREATED, false, "", null, null))).containsExactlyInAnyOrderElementsOf(present);
      // Each record's lastModifiedDateTime entry is at its record's current value.
      for (Hit hit : all(index, Order.LAST_MODIFIED, false, "", null, null)) {
        assertThat(hit.sort()).isEqualTo(OrderedIndex.sortValue(new JsonObject(io.vertx.core.buffer.Buffer.buffer(
          store.get(hit.key()))).getString("lastModifiedDateTime")));
      }
    }
  }

  static void deleteTree(Path root) throws Exception {
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
  /**
   * Writes from many threads at once go through the index writer in batches: each completes only once its record is
   * listed and counted (a client lists what it was told is created); of two creates of one id exactly one wins, and
   * the loser leaves neither its idempotency point nor its event behind.
   */
  @Test
  void concurrentWritesAreListedWhenTheyCompleteAndOneOfTwoCreatesOfAnIdWins() throws Exception {
    String p1 = guid("p1");
    int ids = 300;
    try (OperationResultStore store = OperationResultStore.open(options(dir, 10_000))) {
      OrderedIndex index = store.index();
      java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(8);
      List<java.util.concurrent.CompletableFuture<String>> writes = new ArrayList<>();
      java.util.Set<String> listedWhenDone = java.util.concurrent.ConcurrentHashMap.newKeySet();
      for (int i = 0; i < ids; i++) {
        for (int twin = 0; twin < 2; twin++) {
          String key = p1 + "/r" + i;
          String eventId = "e-" + i + "-" + twin;
          Map<String, String> points = Map.of("@key", "k-" + i + "-" + twin);
          writes.add(java.util.concurrent.CompletableFuture.supplyAsync(
            () -> store.insertAsync(key, record("r" + key.substring(key.indexOf('/') + 2), p1, guid("t"), "op", 1), points, eventId, EVENT)
              .handle((done, failure) -> {
                if (failure == null && keys(all(index, Order.CREATED, false, p1, null, null)).contains(key)) {
                  listedWhenDone.add(key);
                }
                return failure == null ? eventId : null;
              }), threads).thenCompose(f -> f));
        }
      }
      List<String> won = new ArrayList<>();
      for (java.util.concurrent.CompletableFuture<String> write : writes) {
        String eventId = write.get(30, TimeUnit.SECONDS);
        if (eventId != null) {
          won.add(eventId);
        }
      }
      threads.shutdown();
      assertThat(won).hasSize(ids);
      assertThat(listedWhenDone).hasSize(ids);
      assertThat(index.count(p1, null, null)).isEqualTo(ids);
      // Only the winners' events wait for the audit trail, and only their points are indexed.
      assertThat(store.pendingEvents(Long.MAX_VALUE, 10 * ids)).extracting(PendingEvent::eventId)
        .containsExactlyInAnyOrderElementsOf(won);
      for (int i = 0; i < ids; i++) {
        int winner = won.contains("e-" + i + "-0") ? 0 : 1;
        String key = p1 + "/r" + i;
        assertThat(store.points(key)).as("r%d", i).isEqualTo(Map.of("@key", "k-" + i + "-" + winner));
        assertThat(index.pointsWhere("@key", "k-" + i + "-" + winner).keySet()).as("r%d", i).containsExactly(key);
        assertThat(index.pointsWhere("@key", "k-" + i + "-" + (1 - winner)).keySet()).as("r%d", i).isEmpty();
      }
    }
  }
}
