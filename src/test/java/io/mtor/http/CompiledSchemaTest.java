package io.mtor.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The compiled checks that let valid requests skip the JSON Schema library: they may only say yes where the
 * library says yes (else an invalid body would be stored), and they should say yes to every valid body (else the
 * fast path is never taken). Checked against the library on generated bodies, as parsed from bytes (nested maps
 * and lists) and as built (nested JsonObjects), and on the edge cases of each keyword.
 */
class CompiledSchemaTest {

  static Vertx vertx;
  static OpenAPIContract contract;
  static SchemaRepository repository;

  @BeforeAll
  static void load() {
    vertx = Vertx.vertx();
    contract = OpenAPIContract.from(vertx, ResultsResource.CONTRACT).await();
    repository = contract.getSchemaRepository();
  }

  @AfterAll
  static void close() {
    vertx.close().await();
  }

  @Test
  void everyRequestSchemaOfTheContractIsCompiled() {
    List<String> notCompiled = new ArrayList<>();
    for (Operation operation : contract.operations()) {
      for (Parameter parameter : operation.getParameters()) {
        if (!(CompiledSchema.validator(repository, parameter.getSchema()) instanceof CompiledSchema)) {
          notCompiled.add(operation.getOperationId() + " " + parameter.getName());
        }
      }
      if (operation.getRequestBody() != null) {
        operation.getRequestBody().getContent().forEach((type, media) -> {
          if (!(CompiledSchema.validator(repository, media.getSchema()) instanceof CompiledSchema)) {
            notCompiled.add(operation.getOperationId() + " body " + type);
          }
        });
      }
    }
    assertThat(notCompiled).isEmpty();
  }

  @Test
  void createBodiesGetTheLibrarysVerdict() {
    Random random = new Random(20261128);
    Pair create = pair(body(ResultsResource.Operations.CREATE));
    for (int i = 0; i < 20_000; i++) {
      JsonObject body = ContractPropertiesTest.valid(random);
      if (random.nextBoolean()) {
        ContractPropertiesTest.mutate(body, random);
      }
      create.agreeBuiltAndParsed(body);
    }
    assertThat(create.accepted).as("valid bodies taking the fast path").isGreaterThan(10_000);
  }

  @Test
  void updateBodiesGetTheLibrarysVerdict() {
    Random random = new Random(42);
    Pair update = pair(body(ResultsResource.Operations.UPDATE));
    for (int i = 0; i < 20_000; i++) {
      JsonObject body = ContractPropertiesTest.valid(random);
      for (String property : new ArrayList<>(body.fieldNames())) {
        if (random.nextInt(3) > 0) {
          body.remove(property);
        }
      }
      if (random.nextInt(4) == 0) {
        ContractPropertiesTest.mutate(body, random);
      }
      update.agreeBuiltAndParsed(body);
    }
    assertThat(update.accepted).isGreaterThan(5_000);
  }

  @Test
  void edgesOfEachKeyword() {
    Pair create = pair(body(ResultsResource.Operations.CREATE));
    String emoji = "\uD83D\uDE00";
    List<Object> values = new ArrayList<>(List.of("", "x", "x".repeat(1024), "x".repeat(1025), emoji.repeat(1024),
      emoji.repeat(1025), emoji.repeat(512) + "x", "\uD83D".repeat(1024), "\uD83D".repeat(1025), 1, 1L, 1.0, true,
      new JsonArray(), new JsonObject()));
    values.add(null);
    for (String property : ContractPropertiesTest.PROPERTIES) {
      for (Object value : values) {
        create.agree(ContractPropertiesTest.valid(new Random(7)).put(property, value));
      }
      create.agree(ContractPropertiesTest.valid(new Random(7)).put("result", new JsonArray().add("a").add(value(values, property))));
    }
    for (String guid : List.of("6D2B8BA4-0C5B-4B7E-9D4A-9A1C1F0E5A11", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a1",
      "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\n", " 6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11", "6d2b8ba40c5b4b7e9d4a9a1c1f0e5a11",
      "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a1g", "6d2b8ba4-0c5b-4b7e-9d4a_9a1c1f0e5a11", "6d2b8ba40-c5b-4b7e-9d4a-9a1c1f0e5a11",
      "\uFF16d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11-", "------------------------------------",
      "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\r\n", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\r", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\u2028",
      "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\n\n", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\t", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a\r\n")) {
      create.agree(ContractPropertiesTest.valid(new Random(7)).put("targetTenantId", guid));
    }
    for (String id : List.of("a", "A._~-9", "x".repeat(128), "x".repeat(129), "a b", "a\n", "é", "")) {
      create.agree(ContractPropertiesTest.valid(new Random(7)).put("id", id));
    }
    for (Object type : List.of("#microsoft.graph.managedTenantOperationResult", "#microsoft.graph.other", "", 1)) {
      create.agree(ContractPropertiesTest.valid(new Random(7)).put("@odata.type", type));
    }
    create.agree(new JsonObject());
    create.agree(new JsonArray());
    create.agree("text");
    create.agree(null);
  }

  @Test
  void integerParametersGetTheLibrarysVerdict() {
    Parameter skip = contract.operation(ResultsResource.Operations.LIST).getParameters().stream()
      .filter(p -> p.getName().equals("$skip")).findFirst().orElseThrow();
    Pair pair = pair(skip.getSchema());
    for (Object value : List.of(0, -1, 5, 10_000, 10_001, 0L, 10_000L, 10_001L, Long.MAX_VALUE, 5.0, 5.5, -0.0,
      BigInteger.TEN, BigInteger.TWO.pow(70), "5", true)) {
      pair.check(value);
    }
    // Whole numbers held in integer types; 5.0 and -0.0, which the library also takes, are left to it.
    assertThat(pair.accepted).isEqualTo(6);
  }

  private static Object value(List<Object> values, String seed) {
    return values.get(Math.floorMod(seed.hashCode(), values.size()));
  }

  private static JsonSchema body(String operationId) {
    return contract.operation(operationId).getRequestBody().getContent().get("application/json").getSchema();
  }

  private static Pair pair(JsonSchema schema) {
    Validator compiled = CompiledSchema.validator(repository, schema);
    assertThat(compiled).isInstanceOf(CompiledSchema.class);
    return new Pair((CompiledSchema) compiled, repository.validator(schema));
  }

  /** The compiled checks and the library on one schema; counts what took the fast path. */
  private static final class Pair {
    final CompiledSchema compiled;
    final Validator library;
    int accepted;

    Pair(CompiledSchema compiled, Validator library) {
      this.compiled = compiled;
      this.library = library;
    }

    /** {@link #agree} on the body as built (nested JsonObjects) and as parsed from bytes (nested maps, lists). */
    void agreeBuiltAndParsed(JsonObject body) {
      agree(body);
      agree(Json.decodeValue(Buffer.buffer(body.encode().getBytes(StandardCharsets.UTF_8))));
    }

    /** Same verdict, and the fast path taken exactly when the library accepts. */
    void agree(Object instance) {
      assertThat(check(instance)).as("fast path on valid %s", Json.encode(instance))
        .isEqualTo(library.validate(instance).getValid());
    }

    /** Same verdict; the fast path never accepts what the library rejects. Returns whether it was taken. */
    boolean check(Object instance) {
      boolean valid = library.validate(instance).getValid();
      boolean fast = compiled.accepts(instance);
      assertThat(!fast || valid).as("fast path accepts %s, the library rejects it", Json.encode(instance)).isTrue();
      assertThat(compiled.validate(instance).getValid()).isEqualTo(valid);
      if (fast) {
        accepted++;
      }
      return fast;
    }
  }
}
