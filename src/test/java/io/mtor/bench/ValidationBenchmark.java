package io.mtor.bench;

import io.mtor.http.CompiledSchema;
import io.mtor.http.ResultsResource;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
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

import java.util.concurrent.TimeUnit;

/**
 * Contract validation of a create body, as the service does it ({@code InlineRequestValidator}): the contract
 * from {@code openapi.yaml}, the create operation's {@code application/json} schema, and its validator built
 * once ({@code CompiledSchema}, the library behind compiled checks) and reused. {@code parseAndValidate} adds the JSON parse of the
 * raw body (the service's content analyser does both); {@code validateInvalid} is a rejected body (three
 * violations), whose output unit carries every error.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1) // JVM flags: scripts/bench passes scripts/jvm-flags
public class ValidationBenchmark {

  /** A realistic create body (the README's example, with a failure message). */
  static JsonObject body() {
    return new JsonObject()
      .put("partnerTenantId", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11")
      .put("partnerUserId", "0b6a4b5e-1d2c-4e3f-8a9b-7c6d5e4f3a21")
      .put("targetTenantId", "2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31")
      .put("managedTenantOperationId", "applyConditionalAccessPolicy")
      .put("requestId", "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c41")
      .put("isSuccess", false)
      .put("exception", "Forbidden: the partner lacks the delegated admin role")
      .put("executionInfo", "Applied baseline policy to 12 users")
      .put("result", new JsonArray().add("policyId=3f2a").add("usersUpdated=12"));
  }

  Vertx vertx;
  Validator validator;
  Validator library;
  JsonObject body;
  JsonObject invalid;
  Buffer raw;

  @Setup(Level.Trial)
  public void setUp() {
    vertx = Vertx.vertx();
    OpenAPIContract contract = OpenAPIContract.from(vertx, "openapi.yaml").await();
    JsonSchema schema = contract.operation(ResultsResource.Operations.CREATE).getRequestBody().getContent()
      .get("application/json").getSchema();
    validator = CompiledSchema.validator(contract.getSchemaRepository(), schema);
    library = contract.getSchemaRepository().validator(schema);
    body = body();
    raw = body.toBuffer();
    invalid = body().put("targetTenantId", "2f1e3d4c").put("isSuccess", "yes").put("createdDateTime", "2026-01-01T00:00:00Z");
    if (!validator.validate(body).getValid() || validator.validate(invalid).getValid()) {
      throw new IllegalStateException("the benchmark bodies do not validate as expected");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    vertx.close().await();
  }

  @Benchmark
  public OutputUnit validateParsed() {
    return validator.validate(body);
  }

  @Benchmark
  public OutputUnit parseAndValidate() {
    return validator.validate(new JsonObject(raw));
  }

  /** The same body through the JSON Schema library alone (what the compiled checks spare a valid request). */
  @Benchmark
  public OutputUnit validateParsedLibraryOnly() {
    return library.validate(body);
  }

  @Benchmark
  public OutputUnit validateInvalid() {
    return validator.validate(invalid);
  }
}
