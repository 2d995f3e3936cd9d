package io.mtor.store;

import io.mtor.domain.ResultException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OperationResultStoreTest {

  @TempDir
  Path dir;

  static final byte[] EVENT = "{\"eventType\":\"created\"}".getBytes(StandardCharsets.UTF_8);

  static StoreOptions options(Path dir) {
    return new StoreOptions(dir, 1_000, 36, 256, 1_000, List.of());
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void recordsSurviveACleanRestart() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      store.insert("a", bytes("{\"id\":\"a\"}"), Map.of(), "e-" + "a", EVENT);
      store.insert("b", bytes("{\"id\":\"b\"}"), Map.of(), "e-" + "b", EVENT);
    }
    assertThat(dir.resolve(OperationResultStore.OPEN_MARKER)).doesNotExist();
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.recovered()).isFalse();
      assertThat(store.size()).isEqualTo(2);
      assertThat(store.get("a")).isEqualTo(bytes("{\"id\":\"a\"}"));
      assertThat(store.get("missing")).isNull();
    }
  }

  @Test
  void insertOfAnExistingIdIsAConflictAndKeepsTheFirstValue() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      store.insert("a", bytes("first"), Map.of(), "e-" + "a", EVENT);
      assertThatThrownBy(() -> store.insert("a", bytes("second"), Map.of(), "e-a2", EVENT))
        .isInstanceOfSatisfying(ResultException.class, e -> assertThat(e.kind()).isEqualTo(ResultException.Kind.CONFLICT));
      assertThat(store.get("a")).isEqualTo(bytes("first"));
    }
  }

  @Test
  void eventsWaitInTheOutboxUntilAcknowledgedAndSurviveARestart() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      store.insert("a", bytes("{}"), Map.of(), "e-a", EVENT);
      store.insert("b", bytes("{}"), Map.of(), "e-b", EVENT);
      assertThatThrownBy(() -> store.insert("a", bytes("{}"), Map.of(), "e-a-again", EVENT)).isInstanceOf(ResultException.class);
      assertThat(store.pendingEvents(Long.MAX_VALUE, 10)).extracting(PendingEvent::eventId).containsExactly("e-a", "e-b");
      store.acknowledge(List.of("e-a"));
      assertThat(store.pendingCount()).isEqualTo(1);
    }
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.pendingEvents(Long.MAX_VALUE, 10)).singleElement()
        .satisfies(e -> {
          assertThat(e.eventId()).isEqualTo("e-b");
          assertThat(e.recordId()).isEqualTo("b");
          assertThat(e.event()).isEqualTo(EVENT);
        });
      assertThat(store.pendingEvents(System.currentTimeMillis() - 60_000, 10)).isEmpty();
    }
  }

  @Test
  void theOldestPendingWriteTimeFollowsAcknowledgementsInAnyOrderAndSurvivesARestart() {
    long before = System.currentTimeMillis();
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.oldestPendingMillis()).isEqualTo(-1);
      for (String id : List.of("a", "b", "c")) {
        store.insert(id, bytes("{}"), Map.of(), "e-" + id, EVENT);
      }
      assertThatThrownBy(() -> store.insert("a", bytes("{}"), Map.of(), "e-a-again", EVENT)).isInstanceOf(ResultException.class);
      long oldest = store.pendingEvents(Long.MAX_VALUE, 1).get(0).writtenAtMillis();
      assertThat(store.oldestPendingMillis()).isEqualTo(oldest).isBetween(before, System.currentTimeMillis());
      store.acknowledge(List.of("e-b"));
      assertThat(store.oldestPendingMillis()).isEqualTo(oldest);
      store.acknowledge(List.of("e-a"));
      assertThat(store.oldestPendingMillis()).isEqualTo(store.pendingEvents(Long.MAX_VALUE, 1).get(0).writtenAtMillis());
    }
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.oldestPendingMillis()).isEqualTo(store.pendingEvents(Long.MAX_VALUE, 1).get(0).writtenAtMillis());
      store.acknowledge(List.of("e-c"));
      assertThat(store.oldestPendingMillis()).isEqualTo(-1);
    }
  }

  @Test
  void writtenEventsBehindAWaitingOneAreSweptSoTheirTrackingStaysBounded() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      store.insert("first", bytes("{}"), Map.of(), "e-first", EVENT);
      long first = store.oldestPendingMillis();
      // The first event waits; thousands after it are acknowledged (or, as conflicts, dropped) at once.
      for (int i = 0; i < 2_500; i++) {
        store.insert("r-" + i, bytes("{}"), Map.of(), "e-" + i, EVENT);
        store.acknowledge(List.of("e-" + i));
        assertThatThrownBy(() -> store.insert("first", bytes("{}"), Map.of(), "e-conflict", EVENT))
          .isInstanceOf(ResultException.class);
      }
      assertThat(store.trackedEvents()).isLessThan(3 * 1024);
      assertThat(store.oldestPendingMillis()).isEqualTo(first);
    }
  }

  @Test
  void anEventWhoseRecordWriteNeverHappenedIsDroppedAtTheNextOpen() {
    OperationResultStore crashed = OperationResultStore.open(options(dir));
    crashed.insert("kept", bytes("{}"), Map.of(), "e-kept", EVENT);
    crashed.insert("lost", bytes("{}"), Map.of(), "e-lost", EVENT);
    // As if the process had died after writing the event but before writing the record.
    crashed.chronicleMap().remove("lost");
    crashed.close();
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.pendingEvents(Long.MAX_VALUE, 10)).extracting(PendingEvent::eventId).containsExactly("e-kept");
    }
  }

  @Test
  void aSecondOpenOfTheSameFolderIsRefused() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThatThrownBy(() -> OperationResultStore.open(options(dir)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("in use");
      store.insert("still-works", bytes("{}"), Map.of(), "e-" + "still-works", EVENT);
    }
  }

  @Test
  void aStoreAtItsDiskBudgetRefusesWritesWithStoreFullAndKeepsWhatItHas() {
    List<String> stored = new ArrayList<>();
    long budget = 3L << 20;
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 100, 36, 256, 0, List.of(),
      budget))) {
      byte[] value = bytes("x".repeat(256));
      ResultException full = null;
      for (int i = 0; i < 100_000 && full == null; i++) {
        try {
          store.insert("id-" + i, value, Map.of(), "e-" + "id-" + i, EVENT);
          stored.add("id-" + i);
        } catch (ResultException e) {
          full = e;
        }
      }
      assertThat(full).isNotNull();
      assertThat(full.kind()).isEqualTo(ResultException.Kind.STORE_FULL);
      assertThat(stored).hasSizeGreaterThanOrEqualTo(100);
      for (String id : stored) {
        assertThat(store.get(id)).isEqualTo(value);
      }
      assertThat(store.records().bytesOnDisk()).isLessThanOrEqualTo(budget);
    }
    try (OperationResultStore reopened = OperationResultStore.open(new StoreOptions(dir, 100, 36, 256, 0, List.of(),
      budget))) {
      assertThat(reopened.size()).isEqualTo(stored.size());
    }
  }

  @Test
  void theStoreGrowsPastItsSizingUpToItsDiskBudget() {
    byte[] value = bytes("y".repeat(256));
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 1_000, 36, 256, 0, List.of(), 0))) {
      for (int i = 0; i < 3_000; i++) {
        store.insert("id-" + i, value, Map.of(), null, null);
      }
      assertThat(store.size()).isEqualTo(3_000);
      assertThat(store.records().volumes()).hasSizeGreaterThanOrEqualTo(2);
      store.sync();
    }
    Path tight = dir.resolve("tight");
    int stored = 0;
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(tight, 1_000, 36, 256, 0, List.of(),
      1_000L * (36 + 256 + 32)))) {
      try {
        for (int i = 0; i < 100_000; i++) {
          store.insert("id-" + i, value, Map.of(), null, null);
          stored++;
        }
      } catch (ResultException e) {
        assertThat(e.kind()).isEqualTo(ResultException.Kind.STORE_FULL);
      }
      assertThat(stored).isBetween(1_000, 20_000);
      assertThat(store.get("id-0")).isEqualTo(value);
    }
  }

  /** A real full disk: a small tmpfs (needs root; skipped where mounting is not allowed). */
  @Test
  void aFullDiskRefusesWritesWith507KeepsWhatItHasAndResumesWhenSpaceReturns() throws Exception {
    Path mount = dir.resolve("tmpfs");
    Files.createDirectories(mount);
    Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount.toString()) == 0,
      "cannot mount a tmpfs here");
    try {
      byte[] value = bytes("z".repeat(600));
      int stored = 0;
      ResultException full = null;
      try (OperationResultStore store = OperationResultStore.open(new StoreOptions(mount, 5_000, 36, 640, 1_000,
        List.of("k"), 100L << 20))) {
        for (int i = 0; i < 200_000 && full == null; i++) {
          try {
            store.insert("id-" + i, value, Map.of(), "e-" + i, EVENT);
            store.acknowledge(List.of("e-" + i));
            stored++;
          } catch (ResultException e) {
            full = e;
          }
        }
        assertThat(full).isNotNull();
        assertThat(full.kind()).isEqualTo(ResultException.Kind.STORE_FULL);
        assertThat(stored).isGreaterThan(1_000);
        assertThat(store.get("id-0")).isEqualTo(value);
        assertThat(store.get("id-" + (stored - 1))).isEqualTo(value);
        assertThat(store.size()).isEqualTo(stored);

        assertThat(store.pendingCount()).isZero();

        assertThat(run("mount", "-o", "remount,size=64m", mount.toString())).isZero();
        // A records file refused for want of space is tried again at most once a second, on the thread that makes them.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.get("after-space-returned") == null) {
          try {
            store.insert("after-space-returned", value, Map.of(), "e-after", EVENT);
          } catch (ResultException e) {
            assertThat(e.kind()).isEqualTo(ResultException.Kind.STORE_FULL);
            assertThat(System.nanoTime()).as("writes resume once space returns").isLessThan(deadline);
            Thread.sleep(50);
          }
        }
        assertThat(store.get("after-space-returned")).isEqualTo(value);
        for (int i = 0; i < 2_000; i++) {
          store.insert("more-" + i, value, Map.of(), "e-more-" + i, EVENT);
          store.acknowledge(List.of("e-more-" + i));
        }
      }
      try (OperationResultStore reopened = OperationResultStore.open(new StoreOptions(mount, 5_000, 36, 640, 1_000,
        List.of("k"), 100L << 20))) {
        assertThat(reopened.size()).isEqualTo(stored + 1 + 2_000);
        assertThat(reopened.get("id-0")).isEqualTo(value);
      }
    } finally {
      run("umount", mount.toString());
    }
  }

  /**
   * The reserve on a real small disk (a tmpfs; needs root): creates stop with STORE_FULL while the disk still has
   * room (no write ever meets a full disk), and resume once space returns.
   */
  @Test
  void theReserveStopsCreatesBeforeARealDiskIsFullAndTheyResumeWhenSpaceReturns() throws Exception {
    Path mount = dir.resolve("tmpfs");
    Files.createDirectories(mount);
    Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount.toString()) == 0,
      "cannot mount a tmpfs here");
    try {
      byte[] value = bytes("r".repeat(600));
      long reserve = 8L << 20;
      StoreOptions options = new StoreOptions(mount, 1_000, 36, 640, 1_000, List.of("k"), 0, reserve);
      int stored = 0;
      try (OperationResultStore store = OperationResultStore.open(options)) {
        ResultException full = null;
        for (int i = 0; i < 200_000 && full == null; i++) {
          try {
            store.insert("id-" + i, value, Map.of(), "e-" + i, EVENT);
            store.acknowledge(List.of("e-" + i));
            stored++;
          } catch (ResultException e) {
            full = e;
          }
        }
        assertThat(full).isNotNull();
        assertThat(full.kind()).isEqualTo(ResultException.Kind.STORE_FULL);
        assertThat(stored).isGreaterThan(1_000);
        assertThat(store.records().volumes()).hasSizeGreaterThanOrEqualTo(2);
        assertThat(mount.toFile().getUsableSpace()).as("the disk kept free space").isGreaterThan(reserve / 4);
        assertThat(store.size()).isEqualTo(stored);
        assertThat(store.pendingCount()).isZero();

        assertThat(run("mount", "-o", "remount,size=96m", mount.toString())).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.get("after-space-returned") == null) {
          try {
            store.insert("after-space-returned", value, Map.of(), "e-after", EVENT);
          } catch (ResultException e) {
            assertThat(e.kind()).isEqualTo(ResultException.Kind.STORE_FULL);
            assertThat(System.nanoTime()).as("writes resume once space returns").isLessThan(deadline);
            Thread.sleep(50);
          }
        }
        for (int i = 0; i < 3_000; i++) {
          store.insert("more-" + i, value, Map.of(), "e-more-" + i, EVENT);
          store.acknowledge(List.of("e-more-" + i));
        }
      }
      try (OperationResultStore reopened = OperationResultStore.open(options)) {
        assertThat(reopened.size()).isEqualTo(stored + 1 + 3_000);
      }
    } finally {
      run("umount", mount.toString());
    }
  }

  /**
   * The reserve: a create or an update on a disk with less free space than {@code minFreeDiskBytes} answers
   * STORE_FULL with nothing written (record, event, index entry); reads and deletes go on.
   */
  @Test
  void aReserveLargerThanTheFreeSpaceRefusesWritesWithNothingWritten() {
    byte[] value = bytes("{\"k\":\"v\"}");
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 1_000, 36, 256, 1_000,
      List.of("k")))) {
      store.insert("before", value, Map.of(), "e-before", EVENT);
      store.acknowledge(List.of("e-before"));
    }
    long free = dir.toFile().getUsableSpace();
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 1_000, 36, 256, 1_000,
      List.of("k"), 0, free + (1L << 40)))) {
      assertThatThrownBy(() -> store.insert("refused", value, Map.of(), "e-refused", EVENT))
        .isInstanceOfSatisfying(ResultException.class, e -> assertThat(e.kind()).isEqualTo(ResultException.Kind.STORE_FULL));
      assertThatThrownBy(() -> store.replace("before", value, bytes("{\"k\":\"w\"}"), "e-update", EVENT))
        .isInstanceOfSatisfying(ResultException.class, e -> assertThat(e.kind()).isEqualTo(ResultException.Kind.STORE_FULL));
      assertThat(store.get("refused")).isNull();
      assertThat(store.get("before")).isEqualTo(value);
      assertThat(store.size()).isEqualTo(1);
      assertThat(store.pendingCount()).isZero();
      assertThat(store.index().count("", "k", "v")).isEqualTo(1);
      assertThat(store.index().count("", "k", "w")).isZero();
      assertThat(store.remove("before", value, "e-delete", EVENT)).isTrue();
      assertThat(store.size()).isZero();
    }
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 1_000, 36, 256, 1_000,
      List.of("k"), 0, 1))) {
      store.insert("after", value, Map.of(), "e-after", EVENT);
      assertThat(store.get("after")).isEqualTo(value);
    }
  }

  static int run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getInputStream().readAllBytes();
    return process.waitFor();
  }

  @Test
  void anUncleanExitHoldingASegmentLockIsRecoveredOnTheNextOpen() throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
      .filter(arg -> arg.startsWith("--add-") || arg.startsWith("-Dchronicle")).toList());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), CrashingWriter.class.getName(),
      dir.toString(), "50"));
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(child.exitValue()).as(output).isEqualTo(137);
    assertThat(output).contains("locked");
    assertThat(dir.resolve(OperationResultStore.OPEN_MARKER)).exists();

    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.recovered()).isTrue();
      assertThat(store.size()).isEqualTo(50);
      for (int i = 0; i < 50; i++) {
        assertThat(store.get("id-" + i)).isEqualTo(bytes("{\"n\":" + i + "}"));
      }
      // The segment the dead process had locked takes writes again.
      store.insert("after-recovery", bytes("{}"), Map.of(), "e-" + "after-recovery", EVENT);
      assertThatThrownBy(() -> store.insert("id-0", bytes("{}"), Map.of(), "e-" + "id-0", EVENT)).isInstanceOf(ResultException.class);
    }
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.recovered()).isFalse();
      assertThat(store.size()).isEqualTo(51);
    }
  }

}
