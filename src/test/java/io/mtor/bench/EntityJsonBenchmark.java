package io.mtor.bench;

import io.mtor.domain.OperationResults;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Building the entity from a validated create body ({@code OperationResults.newEntity}: server id, timestamps,
 * lowercase GUIDs) and encoding it to the bytes the store keeps and the response carries
 * ({@code JsonObject.toBuffer()}), apart and together, plus the entity tag of the stored bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1) // JVM flags: scripts/bench passes scripts/jvm-flags
public class EntityJsonBenchmark {

  JsonObject body;
  JsonObject entity;
  byte[] stored;
  Instant now;

  @Setup(Level.Trial)
  public void setUp() {
    body = ValidationBenchmark.body();
    now = Instant.now();
    entity = OperationResults.newEntity(body, now);
    stored = entity.toBuffer().getBytes();
  }

  @Benchmark
  public JsonObject newEntity() {
    return OperationResults.newEntity(body, now);
  }

  @Benchmark
  public Buffer encodeEntity() {
    return entity.toBuffer();
  }

  /** What a create does before the store: build, then encode to bytes. */
  @Benchmark
  public byte[] newEntityAndEncode() {
    return OperationResults.newEntity(body, Instant.now()).toBuffer().getBytes();
  }

  @Benchmark
  public String etag() {
    return OperationResults.etag(stored);
  }
}
