package io.mtor.store;

import io.mtor.domain.ResultException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The records in a series of map files: growth, unique ids across files, writes to old files, reopening. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RecordVolumesTest {

  @TempDir
  Path dir;

  /** A first volume of 100 records: 100, 200, 400, 800, ... */
  static StoreOptions options(Path dir) {
    return new StoreOptions(dir, 100, 36, 64, 10_000, List.of());
  }

  /** As {@link #options}, without an outbox (writes without events). */
  static StoreOptions noOutbox(Path dir) {
    return new StoreOptions(dir, 100, 36, 64, 0, List.of());
  }

  /**
   * Inserts {@code id-<n>} records (without events) from {@code from} on until the store has {@code files} files, or
   * fails; returns the next n. Creates outrun the making of a file (the newest then takes them in its spare tiers),
   * so a count of records does not say how many files there are.
   */
  static int growTo(OperationResultStore store, int from, int files) {
    int n = from;
    while (store.records().volumes().size() < files) {
      assertThat(n).as("records before %d files", files).isLessThan(from + 100_000);
      store.insert("id-" + n, record(n), Map.of(), null, null);
      n++;
    }
    return n;
  }

  static byte[] record(int n) {
    return ("{\"n\":" + n + ",\"pad\":\"" + "p".repeat(n % 50) + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theStoreGrowsThroughSeveralVolumesWithEveryRecordReadable() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      for (int i = 0; i < 3_000; i++) {
        store.insert("id-" + i, record(i), Map.of(), "e-" + i, OperationResultStoreTest.EVENT);
        store.acknowledge(List.of("e-" + i));
      }
      // 100 + 200 + 400 + 800 + 1600 >= 3000, but a file takes more than its sizing while the next is being made
      // (its spare tiers): at least two growth steps.
      int records = growTo(store, 3_000, 3);
      List<RecordVolumes.Volume> volumes = store.records().volumes();
      assertThat(volumes.get(0).file.getFileName().toString()).isEqualTo("results-v1.dat");
      assertThat(volumes.get(1).file.getFileName().toString()).isEqualTo("results-v1.1.dat");
      assertThat(volumes.get(2).file.getFileName().toString()).isEqualTo("results-v1.2.dat");
      assertThat(volumes.get(2).sized).isEqualTo(400);
      assertThat(store.size()).isEqualTo(records);
      for (int i = 0; i < records; i++) {
        assertThat(store.get("id-" + i)).isEqualTo(record(i));
      }
      List<String> seen = new ArrayList<>();
      store.forEach((id, bytes) -> seen.add(id));
      assertThat(seen).hasSize(records).doesNotHaveDuplicates();
    }
  }

  @Test
  void concurrentInsertsOfTheSameIdsAcrossVolumesLetExactlyOneWinEach() throws Exception {
    int ids = 2_000;
    AtomicInteger won = new AtomicInteger();
    Map<String, Integer> winners = new ConcurrentHashMap<>();
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int writer = w;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ids; i++) {
          order.add(i);
        }
        Collections.shuffle(order, new java.util.Random(w));
        writers.add(new Thread(() -> {
          for (int i : order) {
            try {
              store.insert("id-" + i, record(writer), Map.of(), "e-" + writer + "-" + i, OperationResultStoreTest.EVENT);
              won.incrementAndGet();
              assertThat(winners.put("id-" + i, writer)).isNull();
            } catch (ResultException e) {
              assertThat(e.kind()).isEqualTo(ResultException.Kind.CONFLICT);
            }
          }
        }));
      }
      writers.forEach(Thread::start);
      for (Thread writer : writers) {
        writer.join();
      }
      assertThat(won.get()).isEqualTo(ids);
      assertThat(store.size()).isEqualTo(ids);
      // The first file holds at most ~920 such records, even in its spare tiers.
      assertThat(store.records().volumes()).hasSizeGreaterThanOrEqualTo(2);
      for (int i = 0; i < ids; i++) {
        String id = "id-" + i;
        assertThat(store.get(id)).isEqualTo(record(winners.get(id)));
        assertThat(store.records().volumes().stream().filter(v -> v.map.containsKey(id))).as(id).hasSize(1);
      }
      // Only the winners' events stay in the outbox.
      assertThat(store.pendingCount()).isEqualTo(ids);
    }
  }

  @Test
  void updatesAndDeletesActOnTheVolumeThatHoldsTheRecord() {
    try (OperationResultStore store = OperationResultStore.open(noOutbox(dir))) {
      int records = growTo(store, 0, 3);
      RecordVolumes.Volume first = store.records().volumes().get(0);
      assertThat(first.map.containsKey("id-0")).isTrue();
      assertThat(store.replace("id-0", record(0), record(7), null, null)).isTrue();
      assertThat(store.get("id-0")).isEqualTo(record(7));
      assertThat(first.map.get("id-0")).isEqualTo(record(7));
      assertThat(store.replace("id-0", record(0), record(8), null, null)).isFalse();
      assertThat(store.remove("id-1", record(2), null, null)).isFalse();
      assertThat(store.remove("id-1", record(1), null, null)).isTrue();
      assertThat(store.get("id-1")).isNull();
      assertThat(store.size()).isEqualTo(records - 1);
      // An id removed from an old volume may be created again (in the newest).
      store.insert("id-1", record(1), Map.of(), null, null);
      assertThat(store.records().newestMap().get("id-1")).isEqualTo(record(1));
      assertThatThrownBy(() -> store.insert("id-2", record(2), Map.of(), null, null)).isInstanceOf(ResultException.class);
      assertThat(store.size()).isEqualTo(records);
    }
  }

  @Test
  void anUpdateThatAnOldFullVolumeCannotHoldMovesTheRecordToTheNewest() {
    byte[] small = record(0);
    byte[] large = ("{\"big\":\"" + "b".repeat(4_000) + "\"}").getBytes(StandardCharsets.UTF_8);
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      store.insert("moved", small, Map.of(), "e-moved", OperationResultStoreTest.EVENT);
      RecordVolumes.Volume first = store.records().volumes().get(0);
      // Below the store's contract: fill the first volume's every segment and spare tier.
      int refused = 0;
      for (int i = 0; refused < 2_000; i++) {
        try {
          first.map.put("filler-" + i, record(i));
        } catch (IllegalStateException exhausted) {
          refused++;
        }
      }
      first.count.set(first.map.longSize());
      assertThat(first.spareTiers()).isLessThanOrEqualTo(RecordVolumes.TIERS_KEPT);
      AtomicInteger before = new AtomicInteger();
      first.map.forEach((id, bytes) -> before.incrementAndGet());
      assertThat(store.replace("moved", small, large, "e-update", OperationResultStoreTest.EVENT))
        .isTrue();
      assertThat(store.get("moved")).isEqualTo(large);
      assertThat(first.map.containsKey("moved")).isFalse();
      assertThat(store.records().volumes()).hasSize(2);
      assertThat(store.records().volumes().get(1).map.get("moved")).isEqualTo(large);
      // Nothing else went: every filler stays (counted by reading).
      AtomicInteger counted = new AtomicInteger();
      first.map.forEach((id, bytes) -> counted.incrementAndGet());
      assertThat(counted.get()).isEqualTo(before.get() - 1);
      long fillers = counted.get();
      assertThat(store.size()).isEqualTo(fillers + 1);
      assertThat(store.remove("moved", large, "e-delete", OperationResultStoreTest.EVENT)).isTrue();
      assertThat(store.size()).isEqualTo(fillers);
      assertThat(store.get("moved")).isNull();
    }
  }

  @Test
  void aMoveThatACrashInterruptedKeepsOnlyTheNewerCopy() throws Exception {
    int records;
    try (OperationResultStore store = OperationResultStore.open(noOutbox(dir))) {
      records = growTo(store, 0, 2);
      List<RecordVolumes.Volume> volumes = store.records().volumes();
      // As if the process had died between the two halves of a move: noted, put in the newest, not yet removed.
      Files.writeString(dir.resolve(RecordVolumes.MOVES_FILE), "id-0\n");
      volumes.get(volumes.size() - 1).map.put("id-0", record(9));
    }
    try (OperationResultStore store = OperationResultStore.open(noOutbox(dir))) {
      assertThat(store.get("id-0")).isEqualTo(record(9));
      assertThat(store.records().volumes().get(0).map.containsKey("id-0")).isFalse();
      assertThat(store.size()).isEqualTo(records);
      assertThat(dir.resolve(RecordVolumes.MOVES_FILE)).doesNotExist();
    }
  }

  @Test
  void aGrownStoreReopensWithEveryVolume() {
    int volumes;
    int records;
    try (OperationResultStore store = OperationResultStore.open(noOutbox(dir))) {
      records = growTo(store, 0, 3);
      volumes = store.records().volumes().size();
    }
    // Sizings are kept as created: a changed store.entries sizes only files created from now on.
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 5_000, 36, 64, 0,
      List.of()))) {
      assertThat(store.recovered()).isFalse();
      assertThat(store.records().volumes()).hasSizeGreaterThanOrEqualTo(volumes);
      assertThat(store.records().volumes().get(0).sized).isEqualTo(100);
      assertThat(store.records().volumes().get(1).sized).isEqualTo(200);
      assertThat(store.size()).isEqualTo(records);
      for (int i = 0; i < records; i++) {
        assertThat(store.get("id-" + i)).isEqualTo(record(i));
      }
      assertThatThrownBy(() -> store.insert("id-3", record(3), Map.of(), null, null))
        .isInstanceOfSatisfying(ResultException.class, e -> assertThat(e.kind()).isEqualTo(ResultException.Kind.CONFLICT));
    }
  }

  @Test
  void aVolumeWhoseCreationACrashInterruptedIsDropped() throws Exception {
    try (OperationResultStore store = OperationResultStore.open(noOutbox(dir))) {
      store.insert("a", record(1), Map.of(), null, null);
    }
    Path partial = dir.resolve("results-v1.1.dat.tmp");
    Files.write(partial, new byte[4096]);
    try (OperationResultStore store = OperationResultStore.open(noOutbox(dir))) {
      assertThat(partial).doesNotExist();
      assertThat(store.get("a")).isEqualTo(record(1));
      assertThat(store.records().volumes()).hasSize(1);
    }
  }

  @Test
  void anOpenThatFailsHalfWayClosesWhatItOpened() throws Exception {
    int records;
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      for (int i = 0; i < 400; i++) {
        store.insert("id-" + i, record(i), Map.of(), "e-" + i, OperationResultStoreTest.EVENT);
      }
      records = growTo(store, 400, 2);
    }
    // The records' volumes open; the outbox after them cannot (a folder where its file should be).
    Path outbox = dir.resolve(OperationResultStore.OUTBOX_FILE);
    Path aside = dir.resolve("outbox-aside");
    Files.move(outbox, aside);
    Files.createDirectory(outbox);
    assertThatThrownBy(() -> OperationResultStore.open(options(dir))).isInstanceOf(RuntimeException.class);
    Files.delete(outbox);
    Files.move(aside, outbox);
    // The folder's lock and every map were let go: the same process opens it again, with everything.
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.records().volumes()).hasSizeGreaterThanOrEqualTo(2);
      assertThat(store.size()).isEqualTo(records);
      assertThat(store.pendingCount()).isEqualTo(400);
    }
  }

  /** A writer process grows the store and dies ({@code halt}) at once; the next open recovers every volume. */
  @Test
  void aCrashAfterGrowthIsRecoveredWithEveryRecord() throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
      .filter(arg -> arg.startsWith("--add-") || arg.startsWith("-Dchronicle")).toList());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), GrowingCrashWriter.class.getName(),
      dir.toString(), "1400"));
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(child.exitValue()).as(output).isEqualTo(137);
    java.util.regex.Matcher written = java.util.regex.Pattern.compile("written (\\d+) records").matcher(output);
    assertThat(written.find()).as(output).isTrue();
    int records = Integer.parseInt(written.group(1));

    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.recovered()).isTrue();
      assertThat(store.records().volumes()).hasSizeGreaterThanOrEqualTo(4);
      assertThat(store.size()).isEqualTo(records);
      for (int i = 0; i < records; i++) {
        assertThat(store.get("id-" + i)).isEqualTo(record(i));
      }
      assertThat(store.pendingCount()).isEqualTo(records);
      store.insert("after-recovery", record(1), Map.of(), "e-after", OperationResultStoreTest.EVENT);
    }
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.recovered()).isFalse();
      assertThat(store.size()).isEqualTo(records + 1);
    }
  }
}
