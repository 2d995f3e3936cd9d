package io.mtor.bench;

import io.mtor.TestService;
import io.mtor.domain.OperationResults;
import io.mtor.store.OperationResultStore;
import io.mtor.store.StoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The create path's pieces, each alone: contract validation of a body (the cached validator the service
 * uses), building and encoding the entity, and the store's insert and get. Run with {@code scripts/bench --jmh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HotPathBenchmark {

  Vertx vertx;
  Validator validator;
  JsonObject body;
  Buffer bodyBytes;
  JsonObject entity;
  byte[] stored;
  OperationResultStore store;
  final AtomicLong ids = new AtomicLong();

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    vertx = Vertx.vertx();
    OpenAPIContract contract = OpenAPIContract.from(vertx, "openapi.yaml").await();
    validator = contract.getSchemaRepository().validator(contract.operation("createManagedTenantOperationResult")
      .getRequestBody().getContent().get("application/json").getSchema());
    body = TestService.body();
    bodyBytes = body.toBuffer();
    entity = OperationResults.newEntity(body, Instant.now());
    stored = entity.toBuffer().getBytes();
    Path dir = Files.createTempDirectory("mtor-jmh");
    store = OperationResultStore.open(new StoreOptions(dir, 3_000_000, 36, 640, 0, List.of()));
    for (int i = 0; i < 100_000; i++) {
      store.insert("seed-" + i, stored, Map.of(), null, null);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    store.close();
    vertx.close();
  }

  @Benchmark
  public Object parseAndValidateBody() {
    return validator.validate(new JsonObject(bodyBytes)).getValid();
  }

  @Benchmark
  public byte[] buildAndEncodeEntity() {
    return OperationResults.newEntity(body, Instant.now()).toBuffer().getBytes();
  }

  @Benchmark
  public void storeInsert() {
    store.insert("bench-" + ids.incrementAndGet(), stored, Map.of(), null, null);
  }

  @Benchmark
  public byte[] storeGet() {
    return store.get("seed-" + (ids.incrementAndGet() % 100_000));
  }
}
