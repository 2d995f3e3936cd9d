package io.mtor.http;

import io.mtor.TestService;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** Every kind of bad request gets its status and a Graph error, and stores nothing. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RejectedRequestTest {

  @TempDir
  static Path dataDir;
  static TestService service;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext test) {
    TestService.start(vertx, TestService.config(dataDir)).onComplete(test.succeeding(s -> {
      service = s;
      test.completeNow();
    }));
  }

  @AfterAll
  static void stop(VertxTestContext test) {
    service.stop().onComplete(test.succeedingThenComplete());
  }

  static JsonObject valid() {
    return TestService.body();
  }

  static Buffer json(JsonObject body) {
    return body.toBuffer();
  }

  static Buffer text(String body) {
    return Buffer.buffer(body);
  }

  /** name, content type, body, status, Graph code, target (or null), words the message must contain. */
  static Stream<Arguments> badBodies() {
    String deep = "[".repeat(20_000) + "]".repeat(20_000);
    return Stream.of(
      arguments("malformed JSON", "application/json", text("{\"partnerTenantId\": "), 400, "badRequest", null, "not valid JSON at line 1, column 21"),
      arguments("malformed on line 3", "application/json", text("{\n  \"isSuccess\": true,\n  \"exception\": nul\n}"), 400, "badRequest", null, "not valid JSON at line 3, column"),
      arguments("trailing garbage", "application/json", text(valid().encode() + "}"), 400, "badRequest", null, "not valid JSON"),
      arguments("two JSON values", "application/json", text(valid().encode() + " {}"), 400, "badRequest", null, "more follows the JSON value"),
      arguments("whitespace only", "application/json", text("  \n "), 400, "badRequest", null, "holds no JSON value"),
      arguments("duplicate property", "application/json", text(valid().encode().replace("\"isSuccess\":true", "\"isSuccess\":true,\"isSuccess\":false")), 400, "badRequest", "/isSuccess", "'isSuccess' appears more than once in the request body at line 1, column"),
      arguments("duplicate nested property", "application/json", text(valid().encode().replace("\"executionInfo\":\"Applied baseline policy to 12 users\"", "\"executionInfo\":{\"a\":1,\"a\":2}")), 400, "badRequest", "/executionInfo/a", "'a' appears more than once"),
      arguments("empty body", "application/json", text(""), 400, "badRequest", null, "empty"),
      arguments("array body", "application/json", text("[]"), 400, "badRequest", "", "object"),
      arguments("string body", "application/json", text("\"hello\""), 400, "badRequest", "", "object"),
      arguments("null body", "application/json", text("null"), 400, "badRequest", null, ""),
      arguments("invalid UTF-8", "application/json", Buffer.buffer(new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'}), 400, "badRequest", null, "not UTF-8: the byte at offset 2 (0xC3)"),
      arguments("overlong UTF-8", "application/json", Buffer.buffer(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'}), 400, "badRequest", null, "not UTF-8: the byte at offset 6"),
      arguments("absurdly deep nesting", "application/json", text(deep), 400, "badRequest", null, "nesting depth (1001) exceeds the maximum allowed (1000)"),
      arguments("text/plain", "text/plain", json(valid()), 415, "unsupportedMediaType", null, "application/json"),
      arguments("no content type", null, json(valid()), 415, "unsupportedMediaType", null, "Content-Type"),
      arguments("too large", "application/json", json(valid().put("executionInfo", "x".repeat(70_000))), 413, "requestEntityTooLarge", null, "65536"),
      arguments("unknown property", "application/json", json(valid().put("partnerTenantID", "x")), 400, "badRequest", "/partnerTenantID", "partnerTenantID"),
      arguments("createdDateTime sent", "application/json", json(valid().put("createdDateTime", "2026-01-01T00:00:00Z")), 400, "badRequest", "/createdDateTime", "read-only"),
      arguments("lastModifiedDateTime sent", "application/json", json(valid().put("lastModifiedDateTime", "2026-01-01T00:00:00Z")), 400, "badRequest", "/lastModifiedDateTime", "read-only"),
      arguments("partnerTenantId not a GUID", "application/json", json(valid().put("partnerTenantId", "not-a-guid")), 400, "badRequest", "/partnerTenantId", "partnerTenantId"),
      arguments("partnerUserId urn GUID", "application/json", json(valid().put("partnerUserId", "urn:uuid:0b6a4b5e-1d2c-4e3f-8a9b-7c6d5e4f3a21")), 400, "badRequest", "/partnerUserId", "partnerUserId"),
      arguments("targetTenantId a number", "application/json", json(valid().put("targetTenantId", 42)), 400, "badRequest", "/targetTenantId", "targetTenantId"),
      arguments("requestId braces", "application/json", json(valid().put("requestId", "{9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c41}")), 400, "badRequest", "/requestId", "requestId"),
      arguments("isSuccess a string", "application/json", json(valid().put("isSuccess", "Boolean")), 400, "badRequest", "/isSuccess", "isSuccess"),
      arguments("isSuccess missing", "application/json", json(remove(valid(), "isSuccess")), 400, "badRequest", "/isSuccess", "isSuccess"),
      arguments("partnerTenantId missing", "application/json", json(remove(valid(), "partnerTenantId")), 400, "badRequest", "/partnerTenantId", "partnerTenantId"),
      arguments("managedTenantOperationId empty", "application/json", json(valid().put("managedTenantOperationId", "")), 400, "badRequest", "/managedTenantOperationId", "managedTenantOperationId"),
      arguments("exception a number", "application/json", json(valid().put("exception", 3)), 400, "badRequest", "/exception", "exception"),
      arguments("executionInfo an object", "application/json", json(valid().put("executionInfo", new JsonObject())), 400, "badRequest", "/executionInfo", "executionInfo"),
      arguments("result a string", "application/json", json(valid().put("result", "String")), 400, "badRequest", "/result", "result"),
      arguments("result with a number", "application/json", json(valid().put("result", new JsonArray().add("ok").add(7))), 400, "badRequest", "/result/1", "result/1"),
      arguments("id with a slash", "application/json", json(valid().put("id", "a/b")), 400, "badRequest", "/id", "id"),
      arguments("id too long", "application/json", json(valid().put("id", "x".repeat(129))), 400, "badRequest", "/id", "id"),
      arguments("id empty", "application/json", json(valid().put("id", "")), 400, "badRequest", "/id", "id"),
      arguments("wrong @odata.type", "application/json", json(valid().put("@odata.type", "#microsoft.graph.user")), 400, "badRequest", "/@odata.type", "@odata.type"),
      arguments("@odata.context sent", "application/json", json(valid().put("@odata.context", "x")), 400, "badRequest", "/@odata.context", "@odata.context"));
  }

  static JsonObject remove(JsonObject body, String property) {
    body.remove(property);
    return body;
  }

  @ParameterizedTest(name = "{index} {0}")
  @MethodSource("badBodies")
  void badBodyIsRejectedWithAGraphErrorAndStoresNothing(String name, String contentType, Buffer body, int status,
                                                         String code, String target, String words, VertxTestContext test) {
    long before = service.verticle.service().size();
    HttpRequest<Buffer> request = service.client.post("/managedTenantOperationResults")
      .putHeader("client-request-id", "case-" + name.replace(' ', '-'));
    if (contentType != null) {
      request.putHeader("content-type", contentType);
    }
    request.sendBuffer(body).onComplete(test.succeeding(response -> test.verify(() -> {
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
      assertThat(response.getHeader("content-type")).startsWith("application/json");
      JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo(code);
      assertThat(error.getString("message")).contains(words).doesNotContain("Exception", "io.vertx", "\tat ");
      if (target != null) {
        assertThat(error.getString("target")).isEqualTo(target);
        assertThat(error.getJsonArray("details")).isNotEmpty();
        for (Object detail : error.getJsonArray("details")) {
          assertThat(((JsonObject) detail).getString("target")).startsWith(target.isEmpty() ? "" : "/");
        }
      }
      assertThat(error.getJsonObject("innerError").getString("request-id")).isEqualTo(response.getHeader("request-id"));
      assertThat(error.getJsonObject("innerError").getString("client-request-id")).isEqualTo("case-" + name.replace(' ', '-'));
      assertThat(service.verticle.service().size()).isEqualTo(before);
      test.completeNow();
    })));
  }

  @Test
  void aBadValueIsReportedOnceWithItsRealReasonNotAsAnUnknownProperty(VertxTestContext test) {
    service.client.post("/managedTenantOperationResults").putHeader("content-type", "application/json")
      .sendJsonObject(valid().put("partnerTenantId", "nope"))
      .onComplete(test.succeeding(response -> test.verify(() -> {
        JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
        assertThat(error.getString("message")).contains("partnerTenantId").contains("GUID")
          .doesNotContain("additional").doesNotContain("not a property");
        assertThat(error.getJsonArray("details")).hasSize(1);
        test.completeNow();
      })));
  }

  @Test
  void everyViolationIsListedInDetails(VertxTestContext test) {
    JsonObject body = remove(valid(), "requestId").put("isSuccess", "yes").put("colour", "red")
      .put("createdDateTime", "x");
    service.client.post("/managedTenantOperationResults").putHeader("content-type", "application/json")
      .sendJsonObject(body)
      .onComplete(test.succeeding(response -> test.verify(() -> {
        JsonArray details = response.bodyAsJsonObject().getJsonObject("error").getJsonArray("details");
        assertThat(details.stream().map(d -> ((JsonObject) d).getString("target")))
          .containsExactlyInAnyOrder("/requestId", "/isSuccess", "/colour", "/createdDateTime");
        test.completeNow();
      })));
  }

  @Test
  void unknownPathIs404AndWrongMethodIs405WithAllow(VertxTestContext test) {
    service.client.get("/managedTenantOperationResultz").send()
      .compose(notFound -> {
        test.verify(() -> {
          assertThat(notFound.statusCode()).isEqualTo(404);
          assertThat(notFound.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("notFound");
        });
        return service.client.request(HttpMethod.PUT, "/beta/managedTenantOperationResults").send();
      })
      .onComplete(test.succeeding(notAllowed -> test.verify(() -> {
        assertThat(notAllowed.statusCode()).isEqualTo(405);
        assertThat(notAllowed.getHeader("allow")).contains("POST");
        assertThat(notAllowed.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("methodNotAllowed");
        assertThat(notAllowed.getHeader("request-id")).isNotBlank();
        test.completeNow();
      })));
  }

  @Test
  void invalidIdInThePathIs400(VertxTestContext test) {
    service.client.get("/managedTenantOperationResults/" + "x".repeat(200)).send()
      .onComplete(test.succeeding(response -> test.verify(() -> {
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("id");
        test.completeNow();
      })));
  }

}
