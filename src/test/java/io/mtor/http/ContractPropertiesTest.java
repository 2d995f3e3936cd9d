package io.mtor.http;

import io.mtor.TestService;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property-based: generated bodies (valid ones, near-valid ones with one violation, random bytes) against
 * the running service, with the contract itself (its JSON Schema validator) as the oracle. Valid is 201,
 * invalid is 400 naming what is wrong, never a 5xx, and the store grows by exactly the number of 201s.
 * The cases come from a seeded generator (reproducible; {@code -Dproperty.seed=N} replays a run):
 * {@code property.cases} of them, 500 by default and 10,000 under {@code -Pci}.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ContractPropertiesTest {

  static final Object NOT_JSON = new Object();
  static final List<String> PROPERTIES = List.of("partnerTenantId", "partnerUserId", "targetTenantId",
    "managedTenantOperationId", "requestId", "isSuccess", "exception", "executionInfo", "result");
  static final List<Object> WRONG_VALUES = List.of(42, 3.5, true, "not-a-guid", new JsonObject().put("a", 1),
    new JsonArray().add(1), "");

  @TempDir
  static Path dataDir;
  static Vertx vertx;
  static TestService service;
  static Validator oracle;
  static ResponseValidator responses;
  static final AtomicLong created = new AtomicLong();
  static long initialSize;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    service = TestService.start(vertx, TestService.config(dataDir)
      .with(new JsonObject().put("store", new JsonObject().put("entries", 20_000)))).await();
    OpenAPIContract contract = OpenAPIContract.from(vertx, ResultsResource.CONTRACT).await();
    oracle = contract.getSchemaRepository().validator(contract.operation(ResultsResource.Operations.CREATE)
      .getRequestBody().getContent().get("application/json").getSchema());
    responses = ResponseValidator.create(vertx, contract);
    initialSize = service.verticle.service().size();
  }

  @AfterAll
  static void stop() {
    assertThat(service.verticle.service().size() - initialSize).as("store growth equals the 201s").isEqualTo(created.get());
    service.stop().await();
    vertx.close().await();
  }

  @TestFactory
  Stream<DynamicTest> everyBodyIsAnsweredAsTheContractSays() {
    long seed = Long.getLong("property.seed", System.nanoTime());
    int cases = Integer.getInteger("property.cases", 500);
    Random random = new Random(seed);
    return IntStream.range(0, cases).mapToObj(i -> {
      byte[] body = body(random);
      return DynamicTest.dynamicTest("seed " + seed + " case " + i, () -> check(body));
    });
  }

  static void check(byte[] body) {
    Object parsed;
    try {
      parsed = Json.decodeValue(Buffer.buffer(body));
    } catch (DecodeException | IllegalStateException notJson) {
      parsed = NOT_JSON;
    }
    boolean valid = parsed != NOT_JSON && parsed != null && oracle.validate(parsed).getValid();
    HttpResponse<Buffer> response = service.client.post("/managedTenantOperationResults")
      .putHeader("content-type", "application/json").sendBuffer(Buffer.buffer(body)).await();
    String described = new String(body, StandardCharsets.UTF_8) + " -> " + response.bodyAsString();
    int status = response.statusCode();
    assertThat(status).as(described).isLessThan(500);
    // The answer itself is what the contract declares for its status.
    assertThat(responses.validate(ValidatableResponse.create(status, response.body(), "application/json"),
      ResultsResource.Operations.CREATE).transform(done -> io.vertx.core.Future.succeededFuture(
        done.succeeded() ? "" : done.cause().getMessage())).await()).as(described).isEmpty();
    if (valid) {
      assertThat(status).as(described).isIn(201, 409);
      if (status == 201) {
        created.incrementAndGet();
      }
      return;
    }
    assertThat(status).as(described).isEqualTo(400);
    JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("badRequest");
    if (parsed instanceof JsonObject) {
      // A schema violation names the property: its JSON pointer is the target, its name is in the message.
      assertThat(error.getJsonArray("details")).as(described).isNotEmpty();
      String target = error.getString("target");
      assertThat(target).as(described).isNotNull();
      if (!target.isEmpty()) {
        String property = target.substring(1).split("/")[0].replace("~1", "/").replace("~0", "~");
        assertThat(error.getString("message")).as(described).contains(property);
      }
    }
  }

  /** 40% valid, 50% one violation, 10% random bytes. */
  static byte[] body(Random random) {
    int kind = random.nextInt(10);
    if (kind == 0) {
      byte[] bytes = new byte[random.nextInt(300)];
      random.nextBytes(bytes);
      return bytes;
    }
    JsonObject body = valid(random);
    if (kind >= 5) {
      mutate(body, random);
    }
    return body.encode().getBytes(StandardCharsets.UTF_8);
  }

  static JsonObject valid(Random random) {
    JsonArray result = new JsonArray();
    for (int i = random.nextInt(4); i > 0; i--) {
      result.add(text(random));
    }
    JsonObject body = new JsonObject()
      .put("partnerTenantId", guid(random)).put("partnerUserId", guid(random)).put("targetTenantId", guid(random))
      .put("managedTenantOperationId", text(random)).put("requestId", guid(random)).put("isSuccess", random.nextBoolean())
      .put("exception", random.nextInt(3) == 0 ? null : text(random))
      .put("executionInfo", random.nextInt(3) == 0 ? null : text(random))
      .put("result", result);
    if (random.nextInt(3) == 0) {
      body.put("id", string(random, "ABCxyz019._~-", 1 + random.nextInt(random.nextBoolean() ? 10 : 128)));
    }
    if (random.nextInt(3) == 0) {
      body.put("@odata.type", random.nextBoolean() ? "#microsoft.management.services.api.managedTenantOperationResult"
        : "#microsoft.graph.managedTenantOperationResult");
    }
    return body;
  }

  /** One violation: a missing, mistyped, malformed, unknown or read-only property, or a bad id. */
  static void mutate(JsonObject body, Random random) {
    String property = PROPERTIES.get(random.nextInt(PROPERTIES.size()));
    switch (random.nextInt(4)) {
      case 0 -> body.remove(property);
      case 1 -> body.put(property, WRONG_VALUES.get(random.nextInt(WRONG_VALUES.size())));
      case 2 -> body.put(List.of("createdDateTime", "lastModifiedDateTime", "@odata.context", "partnerTenantID", "colour")
        .get(random.nextInt(5)), "2026-01-01T00:00:00Z");
      default -> body.put("id", List.of("a/b", "", "x".repeat(129), "sp ace", "é").get(random.nextInt(5)));
    }
  }

  static String guid(Random random) {
    String guid = new UUID(random.nextLong(), random.nextLong()).toString();
    return random.nextBoolean() ? guid : guid.toUpperCase();
  }

  /** Any text, control characters and non-ASCII included. */
  static String text(Random random) {
    StringBuilder text = new StringBuilder();
    for (int i = 1 + random.nextInt(30); i > 0; i--) {
      text.append(random.nextInt(4) == 0 ? (char) random.nextInt(0x3000) : (char) (0x20 + random.nextInt(0x5f)));
    }
    return text.toString();
  }

  static String string(Random random, String alphabet, int length) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < length; i++) {
      text.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return text.toString();
  }
}
