package io.mtor.http;

import io.mtor.AuditTrail;
import io.mtor.TestClock;
import io.mtor.TestService;
import io.mtor.events.ResultEvents;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UpdateDeleteTest {

  @TempDir
  Path dataDir;
  TestService service;
  Vertx vertx;
  final TestClock clock = new TestClock();

  @BeforeEach
  void start(Vertx vertx) {
    this.vertx = vertx;
    service = TestService.start(vertx, TestService.config(dataDir), clock).await();
  }

  @AfterEach
  void stop() {
    service.stop().await();
  }

  JsonObject create() {
    HttpResponse<Buffer> created = service.client.post("/managedTenantOperationResults")
      .putHeader("content-type", "application/json").sendJsonObject(TestService.body()).await();
    assertThat(created.statusCode()).isEqualTo(201);
    return created.bodyAsJsonObject();
  }

  HttpResponse<Buffer> patch(String id, JsonObject body, String ifMatch) {
    var request = service.client.patch("/beta/managedTenantOperationResults/" + id).putHeader("content-type", "application/json");
    if (ifMatch != null) {
      request.putHeader("If-Match", ifMatch);
    }
    return request.sendJsonObject(body).await();
  }

  HttpResponse<Buffer> get(String id) {
    return service.client.get("/managedTenantOperationResults/" + id).send().await();
  }

  @Test
  void patchChangesOnlyTheGivenPropertiesAndBumpsLastModified() throws Exception {
    JsonObject created = create();
    clock.advance(java.time.Duration.ofMillis(2));
    HttpResponse<Buffer> updated = patch(created.getString("id"), new JsonObject().put("isSuccess", false)
      .put("exception", "Timeout").put("targetTenantId", "AAAAAAAA-0000-4000-8000-000000000001"), null);
    assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
    JsonObject after = updated.bodyAsJsonObject();
    assertThat(after.getBoolean("isSuccess")).isFalse();
    assertThat(after.getString("exception")).isEqualTo("Timeout");
    assertThat(after.getString("targetTenantId")).isEqualTo("aaaaaaaa-0000-4000-8000-000000000001");
    for (String unchanged : List.of("id", "partnerTenantId", "partnerUserId", "managedTenantOperationId", "requestId",
      "createdDateTime", "executionInfo", "result", "@odata.type")) {
      assertThat(after.getValue(unchanged)).as(unchanged).isEqualTo(created.getValue(unchanged));
    }
    assertThat(Instant.parse(after.getString("lastModifiedDateTime"))).isAfter(Instant.parse(created.getString("createdDateTime")));
    assertThat(updated.getHeader("ETag")).isEqualTo(after.getString("@odata.etag")).isNotEqualTo(created.getString("@odata.etag"));
    JsonObject read = get(created.getString("id")).bodyAsJsonObject();
    read.remove("@odata.context");
    after.remove("@odata.context");
    assertThat(read).isEqualTo(after);
  }

  @Test
  void anUpdateMovesTheRecordBetweenIndexedFilters() {
    JsonObject created = create();
    String oldTenant = created.getString("targetTenantId");
    String newTenant = UUID.randomUUID().toString();
    assertThat(patch(created.getString("id"), new JsonObject().put("targetTenantId", newTenant), null).statusCode()).isEqualTo(200);
    assertThat(list("targetTenantId eq " + oldTenant)).isEmpty();
    assertThat(list("targetTenantId eq " + newTenant)).containsExactly(created.getString("id"));
    assertThat(service.client.delete("/managedTenantOperationResults/" + created.getString("id")).send().await().statusCode()).isEqualTo(204);
    assertThat(list("targetTenantId eq " + newTenant)).isEmpty();
  }

  List<String> list(String filter) {
    JsonObject page = service.client.get("/managedTenantOperationResults").addQueryParam("$filter", filter).send().await()
      .bodyAsJsonObject();
    List<String> ids = new ArrayList<>();
    page.getJsonArray("value").forEach(item -> ids.add(((JsonObject) item).getString("id")));
    return ids;
  }

  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {"{}", "{\"id\":\"other\"}", "{\"createdDateTime\":\"2026-01-01T00:00:00Z\"}",
    "{\"lastModifiedDateTime\":\"2026-01-01T00:00:00Z\"}", "{\"isSucess\":true}", "{\"targetTenantId\":\"nope\"}",
    "{\"managedTenantOperationId\":\"\"}", "{\"result\":[1]}", "[]"})
  void aBadPatchIsA400AndChangesNothing(String body) {
    JsonObject created = create();
    HttpResponse<Buffer> response = service.client.patch("/managedTenantOperationResults/" + created.getString("id"))
      .putHeader("content-type", "application/json").sendBuffer(Buffer.buffer(body)).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("badRequest");
    assertThat(get(created.getString("id")).getHeader("ETag")).isEqualTo(created.getString("@odata.etag"));
  }

  @Test
  void ifMatchIsHonouredOnPatchAndDelete() {
    JsonObject created = create();
    String id = created.getString("id");
    String etag = created.getString("@odata.etag");
    HttpResponse<Buffer> stale = patch(id, new JsonObject().put("isSuccess", false), "W/\"0000\"");
    assertThat(stale.statusCode()).isEqualTo(412);
    assertThat(stale.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("preconditionFailed");
    assertThat(get(id).getHeader("ETag")).isEqualTo(etag);

    HttpResponse<Buffer> current = patch(id, new JsonObject().put("isSuccess", false), etag);
    assertThat(current.statusCode()).isEqualTo(200);
    String newer = current.getHeader("ETag");
    assertThat(patch(id, new JsonObject().put("isSuccess", true), etag).statusCode()).isEqualTo(412);
    assertThat(patch(id, new JsonObject().put("executionInfo", "any"), "*").statusCode()).isEqualTo(200);

    assertThat(service.client.delete("/managedTenantOperationResults/" + id).putHeader("If-Match", newer).send().await()
      .statusCode()).isEqualTo(412);
    assertThat(get(id).statusCode()).isEqualTo(200);
    String latest = get(id).getHeader("ETag");
    assertThat(service.client.delete("/managedTenantOperationResults/" + id).putHeader("If-Match", latest).send().await()
      .statusCode()).isEqualTo(204);
  }

  @Test
  void ifNoneMatchOnGetAnswers304WhileCurrent() {
    JsonObject created = create();
    String id = created.getString("id");
    HttpResponse<Buffer> notModified = service.client.get("/managedTenantOperationResults/" + id)
      .putHeader("If-None-Match", created.getString("@odata.etag")).send().await();
    assertThat(notModified.statusCode()).isEqualTo(304);
    assertThat(notModified.getHeader("ETag")).isEqualTo(created.getString("@odata.etag"));
    patch(id, new JsonObject().put("isSuccess", false), null);
    assertThat(service.client.get("/managedTenantOperationResults/" + id)
      .putHeader("If-None-Match", created.getString("@odata.etag")).send().await().statusCode()).isEqualTo(200);
  }

  @Test
  void preferMinimalOnPatchAnswers204() {
    JsonObject created = create();
    HttpResponse<Buffer> response = service.client.patch("/managedTenantOperationResults/" + created.getString("id"))
      .putHeader("content-type", "application/json").putHeader("Prefer", "return=minimal")
      .sendJsonObject(new JsonObject().put("isSuccess", false)).await();
    assertThat(response.statusCode()).isEqualTo(204);
    assertThat(response.getHeader("Preference-Applied")).isEqualTo("return=minimal");
    assertThat(response.getHeader("ETag")).isEqualTo(get(created.getString("id")).getHeader("ETag"));
  }

  @Test
  void deleteAnswers204ThenTheIdIs404() {
    JsonObject created = create();
    String id = created.getString("id");
    assertThat(service.client.delete("/beta/managedTenantOperationResults/" + id).send().await().statusCode()).isEqualTo(204);
    assertThat(get(id).statusCode()).isEqualTo(404);
    HttpResponse<Buffer> again = service.client.delete("/managedTenantOperationResults/" + id).send().await();
    assertThat(again.statusCode()).isEqualTo(404);
    assertThat(again.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("notFound");
    assertThat(patch(id, new JsonObject().put("isSuccess", true), null).statusCode()).isEqualTo(404);
    // The id is free again.
    assertThat(service.client.post("/managedTenantOperationResults").putHeader("content-type", "application/json")
      .sendJsonObject(TestService.body().put("id", id)).await().statusCode()).isEqualTo(201);
  }

  @Test
  void updatesAndDeletesArePublishedAndAudited() throws Exception {
    List<JsonObject> updated = Collections.synchronizedList(new ArrayList<>());
    List<JsonObject> deleted = Collections.synchronizedList(new ArrayList<>());
    vertx.eventBus().<JsonObject>consumer(ResultEvents.UPDATED, m -> updated.add(m.body())).completion().await();
    vertx.eventBus().<JsonObject>consumer(ResultEvents.DELETED, m -> deleted.add(m.body())).completion().await();
    JsonObject created = create();
    String id = created.getString("id");
    HttpResponse<Buffer> patched = patch(id, new JsonObject().put("isSuccess", false), null);
    assertThat(service.client.delete("/managedTenantOperationResults/" + id).putHeader("client-request-id", "del-1")
      .send().await().statusCode()).isEqualTo(204);
    long deadline = System.currentTimeMillis() + 10_000;
    while ((updated.isEmpty() || deleted.isEmpty() || service.verticle.service().auditBacklog() > 0)
      && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    JsonObject after = patched.bodyAsJsonObject();
    after.remove("@odata.context");
    String tag = (String) after.remove("@odata.etag");
    assertThat(tag).isEqualTo(patched.getHeader("ETag")).isNotEqualTo(created.getString("@odata.etag"));
    // The event carries the entity tag GET and PATCH answered with, beside the resource (as etag).
    assertThat(updated).singleElement().satisfies(e -> {
      assertThat(e.getString("eventType")).isEqualTo("updated");
      assertThat(e.getJsonObject("resource")).isEqualTo(after);
      assertThat(e.getString("etag")).isEqualTo(tag);
      assertThat(e.getString("requestId")).isEqualTo(patched.getHeader("request-id"));
    });
    assertThat(deleted).singleElement().satisfies(e -> {
      assertThat(e.getString("eventType")).isEqualTo("deleted");
      assertThat(e.getString("clientRequestId")).isEqualTo("del-1");
      assertThat(e.getJsonObject("resource")).isEqualTo(after);
      assertThat(e.getString("etag")).isEqualTo(tag);
    });
    assertThat(AuditTrail.events(service.config.auditDir())).extracting(e -> e.getString("eventType"))
      .containsExactly("created", "updated", "deleted");
    // Each line of the trail is its event, tag included.
    assertThat(AuditTrail.events(service.config.auditDir())).extracting(e -> e.getString("etag"))
      .containsExactly(created.getString("@odata.etag"), tag, tag);
    assertThat(AuditTrail.events(service.config.auditDir()).subList(1, 3)).containsExactly(updated.get(0), deleted.get(0));
  }
}
