package io.mtor.store;

import io.mtor.domain.ResultException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OperationResultStoreTest {

  @TempDir
  Path dir;

  static StoreOptions options(Path dir) {
    return new StoreOptions(dir, 1_000, 36, 256);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void recordsSurviveACleanRestart() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      store.insert("a", bytes("{\"id\":\"a\"}"));
      store.insert("b", bytes("{\"id\":\"b\"}"));
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
      store.insert("a", bytes("first"));
      assertThatThrownBy(() -> store.insert("a", bytes("second")))
        .isInstanceOfSatisfying(ResultException.class, e -> assertThat(e.kind()).isEqualTo(ResultException.Kind.CONFLICT));
      assertThat(store.get("a")).isEqualTo(bytes("first"));
    }
  }

  @Test
  void aSecondOpenOfTheSameFolderIsRefused() {
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThatThrownBy(() -> OperationResultStore.open(options(dir)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("in use");
      store.insert("still-works", bytes("{}"));
    }
  }

  @Test
  void aFullStoreRefusesWritesWithStoreFullAndKeepsWhatItHas() {
    List<String> stored = new ArrayList<>();
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 100, 36, 256))) {
      byte[] value = bytes("x".repeat(256));
      ResultException full = null;
      for (int i = 0; i < 100_000 && full == null; i++) {
        try {
          store.insert("id-" + i, value);
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
    }
    try (OperationResultStore reopened = OperationResultStore.open(new StoreOptions(dir, 100, 36, 256))) {
      assertThat(reopened.size()).isEqualTo(stored.size());
    }
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
      store.insert("after-recovery", bytes("{}"));
      assertThatThrownBy(() -> store.insert("id-0", bytes("{}"))).isInstanceOf(ResultException.class);
    }
    try (OperationResultStore store = OperationResultStore.open(options(dir))) {
      assertThat(store.recovered()).isFalse();
      assertThat(store.size()).isEqualTo(51);
    }
  }

}
