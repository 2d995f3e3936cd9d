package io.mtor.api;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mtor.Main;
import io.mtor.TestService;
import io.mtor.logging.ServiceLogging;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Health, metrics, the served contract and metadata, and the request log line. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OperationsTest {

  @TempDir
  Path dataDir;
  Vertx vertx;
  TestService service;
  ListAppender<ILoggingEvent> requests;

  @BeforeEach
  void start() {
    vertx = Main.createVertx(2);
    service = TestService.start(vertx, TestService.config(dataDir)
      .with(new JsonObject().put("health", new JsonObject().put("maxAuditBacklog", 5)))).await();
    requests = new ListAppender<>();
    requests.start();
    ((Logger) LoggerFactory.getLogger("io.mtor.requests")).addAppender(requests);
  }

  @AfterEach
  void stop() {
    ((Logger) LoggerFactory.getLogger("io.mtor.requests")).detachAppender(requests);
    service.stop().await();
    vertx.close().await();
  }

  HttpResponse<Buffer> get(String path) {
    return service.client.get(path).send().await();
  }

  int creates;

  /** A create with a client-request-id of its own ({@code ops-1}, {@code ops-2}, …): a repeated one is a retry. */
  HttpResponse<Buffer> create(JsonObject body) {
    return service.client.post("/managedTenantOperationResults").putHeader("content-type", "application/json")
      .putHeader("client-request-id", "ops-" + ++creates).sendJsonObject(body).await();
  }

  HttpResponse<Buffer> ops(String path) {
    return service.client.get(service.verticle.opsPort(), "127.0.0.1", path).send().await();
  }

  @Test
  void theServicePortsHealthIsTerseAndTheOperationsPortReportsEachCheck() {
    assertThat(create(TestService.body()).statusCode()).isEqualTo(201);
    for (String path : List.of("/health/live", "/health/ready")) {
      HttpResponse<Buffer> terse = get(path);
      assertThat(terse.statusCode()).isEqualTo(200);
      // Anyone may ask: the answer says up or down and nothing about the records or tenants.
      assertThat(terse.bodyAsJsonObject()).isEqualTo(new JsonObject().put("status", "UP"));
    }
    HttpResponse<Buffer> live = ops("/health/live");
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.bodyAsJsonObject().getString("outcome")).isEqualTo("UP");
    HttpResponse<Buffer> ready = ops("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.bodyAsJsonObject().getJsonArray("checks").stream().map(c -> ((JsonObject) c).getString("id")))
      .containsExactlyInAnyOrder("store", "auditBacklog");

    // The audit writer dies; changes pile up past the threshold (5): not ready, still alive.
    vertx.undeploy(service.verticle.service().auditDeployment()).await();
    for (int i = 0; i < 6; i++) {
      assertThat(create(TestService.body()).statusCode()).isEqualTo(201);
    }
    HttpResponse<Buffer> behind = ops("/health/ready");
    assertThat(behind.statusCode()).isEqualTo(503);
    assertThat(behind.bodyAsJsonObject().getString("outcome")).isEqualTo("DOWN");
    assertThat(get("/health/ready").statusCode()).isEqualTo(503);
    assertThat(get("/health/ready").bodyAsJsonObject()).isEqualTo(new JsonObject().put("status", "DOWN"));
    assertThat(ops("/health/live").statusCode()).isEqualTo(200);
    assertThat(get("/health/live").statusCode()).isEqualTo(200);
  }

  @Test
  void metricsArePrometheusTextOnTheOperationsPortOnly() {
    assertThat(create(TestService.body()).statusCode()).isEqualTo(201);
    assertThat(create(TestService.body().put("isSuccess", "yes")).statusCode()).isEqualTo(400);
    assertThat(create(TestService.body().put("colour", "red")).statusCode()).isEqualTo(400);
    assertThat(get("/metrics").statusCode()).isNotEqualTo(200);
    HttpResponse<Buffer> metrics = ops("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.getHeader("content-type")).startsWith("text/plain");
    assertThat(metrics.bodyAsString())
      .contains("mtor_results_changes_total{type=\"created\"} 1.0")
      .contains("mtor_validation_failures_total{property=\"isSuccess\"} 1.0")
      .contains("mtor_validation_failures_total{property=\"other\"} 1.0")
      .doesNotContain("colour")
      .contains("mtor_store_records 1.0")
      .contains("mtor_store_capacity_records 5000.0")
      .contains("mtor_store_mapped_bytes")
      .contains("mtor_audit_backlog")
      .contains("mtor_audit_lag_seconds")
      .contains("vertx_http_server_requests_total{code=\"201\",method=\"POST\"")
      .contains("vertx_eventbus_published_total{address=\"managed-tenant-operation-results.created\"")
      .contains("jvm_memory_used_bytes");
  }

  @Test
  void theContractAndTheMetadataAreServed() throws Exception {
    for (String path : List.of("/openapi.yaml", "/beta/openapi.yaml")) {
      HttpResponse<Buffer> contract = get(path);
      assertThat(contract.statusCode()).isEqualTo(200);
      assertThat(contract.getHeader("content-type")).startsWith("application/yaml");
      try (var in = getClass().getClassLoader().getResourceAsStream("openapi.yaml")) {
        assertThat(contract.bodyAsString()).isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    for (String path : List.of("/$metadata", "/beta/$metadata")) {
      HttpResponse<Buffer> metadata = get(path);
      assertThat(metadata.statusCode()).isEqualTo(200);
      assertThat(metadata.getHeader("content-type")).startsWith("application/xml");
      assertThat(metadata.getHeader("OData-Version")).isEqualTo("4.0");
      assertThat(metadata.bodyAsString()).contains("<EntitySet Name=\"managedTenantOperationResults\"")
        .contains("<PropertyRef Name=\"id\"/>").contains("Name=\"targetTenantId\" Type=\"Edm.Guid\"");
    }
  }

  @Test
  void eachRequestLogsOneFlatJsonLineWithoutBodiesOrSecrets() {
    HttpResponse<Buffer> created = create(TestService.body().put("executionInfo", "secret-body-text"));
    String id = created.bodyAsJsonObject().getString("id");
    get("/beta/managedTenantOperationResults/" + id);
    long deadline = System.currentTimeMillis() + 5_000;
    while (requests.list.size() < 2 && System.currentTimeMillis() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(requests.list).hasSizeGreaterThanOrEqualTo(2);
    // Encoded as the service's logback.xml encodes them: what an operator's log shipper reads.
    List<JsonObject> lines = new ArrayList<>();
    try (ServiceLogging logging = ServiceLogging.configure(Map.of("LOG_FORMAT", "json"))) {
      for (ILoggingEvent event : requests.list) {
        String line = logging.line(event);
        assertThat(line.trim()).doesNotContain("\n").doesNotContain("secret-body-text");
        lines.add(new JsonObject(line));
      }
    }
    JsonObject post = lines.get(0);
    // One flat object: every field top-level, none an object or an array.
    post.forEach(field -> assertThat(field.getValue()).as(field.getKey()).isNotInstanceOf(JsonObject.class)
      .isNotInstanceOf(io.vertx.core.json.JsonArray.class).isNotInstanceOf(Map.class).isNotInstanceOf(List.class));
    assertThat(post.fieldNames()).contains("@timestamp", "level", "logger", "message", "thread", "requestId",
      "clientRequestId", "method", "route", "status", "durationMicros").doesNotContain("tenant", "kvpList");
    assertThat(post.getString("logger")).isEqualTo("io.mtor.requests");
    assertThat(post.getString("message")).isEqualTo("request");
    assertThat(post.getString("method")).isEqualTo("POST");
    assertThat(post.getString("clientRequestId")).isEqualTo("ops-1");
    assertThat(post.getString("requestId")).isEqualTo(created.getHeader("request-id"));
    assertThat(post.getString("route")).isEqualTo("/managedTenantOperationResults");
    // Numbers are JSON numbers, so that a pipeline can compare them (jq 'select(.status >= 500)').
    assertThat(post.getValue("status")).isEqualTo(201);
    assertThat(post.getValue("durationMicros")).isInstanceOf(Number.class);
    assertThat(post.getLong("durationMicros")).isPositive();
    assertThat(lines.get(1).getString("route")).isEqualTo("/beta/managedTenantOperationResults/{id}").doesNotContain(id);
    assertThat(lines.get(1).getValue("status")).isEqualTo(200);
  }
}
