package io.mtor.bench;

import io.mtor.domain.OperationResults;
import io.mtor.store.OperationResultStore;
import io.mtor.store.StoreOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The store alone: {@code OperationResultStore} in a temporary folder sized for 2,000,000 records of ~640 B
 * (no outbox, no secondary indexes), holding {@value #PRELOADED} records of a realistic entity. {@code insert}
 * adds a fresh id each time (what a create does, minus the outbox and indexes; the ids of an iteration are
 * removed after it, untimed, so the map stays near its preloaded size); {@code get} reads a random stored id.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1) // JVM flags: scripts/bench passes scripts/jvm-flags
public class StoreBenchmark {

  static final int PRELOADED = 200_000;

  Path dir;
  OperationResultStore store;
  byte[] stored;
  String[] ids;
  String insertPrefix;
  long inserted;
  long next;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("mtor-jmh-store");
    store = OperationResultStore.open(new StoreOptions(dir, 2_000_000, 36, 640, 0, List.of()));
    stored = OperationResults.newEntity(ValidationBenchmark.body(), Instant.now()).toBuffer().getBytes();
    ids = new String[PRELOADED];
    for (int i = 0; i < PRELOADED; i++) {
      ids[i] = UUID.randomUUID().toString();
      store.insert(ids[i], stored, Map.of(), null, null);
    }
  }

  @Setup(Level.Iteration)
  public void newIteration() {
    // A fresh 36-character prefix each iteration: inserted ids are as long as GUIDs and never repeat.
    insertPrefix = UUID.randomUUID().toString().substring(0, 24);
    inserted = 0;
  }

  @TearDown(Level.Iteration)
  public void removeInserted() {
    for (long i = 0; i < inserted; i++) {
      store.remove(insertId(i), stored, null, null);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    store.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private String insertId(long i) {
    String hex = Long.toHexString(i);
    return insertPrefix + "000000000000".substring(hex.length()) + hex;
  }

  @Benchmark
  public void insert() {
    store.insert(insertId(inserted++), stored, Map.of(), null, null);
  }

  @Benchmark
  public byte[] get() {
    // A cheap scrambled walk over the preloaded ids (a multiplicative step co-prime with their count).
    next = (next + 7_919) % PRELOADED;
    return store.get(ids[(int) next]);
  }
}
