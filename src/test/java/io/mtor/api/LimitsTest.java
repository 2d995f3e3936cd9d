package io.mtor.api;

import io.mtor.TestService;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Limits on headers, idle connections, slow requests, requests in flight, and per-caller rates. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LimitsTest {

  @TempDir
  Path dataDir;
  TestService service;

  TestService start(Vertx vertx, JsonObject limits) {
    service = TestService.start(vertx, TestService.config(dataDir).with(new JsonObject().put("limits", limits))).await();
    return service;
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.stop().await();
    }
  }

  /** Sends raw bytes and reads what comes back until the server closes or the timeout passes. */
  static String raw(int port, String request, int readTimeoutMillis) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(readTimeoutMillis);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder answer = new StringBuilder();
      byte[] buffer = new byte[8192];
      try {
        int n;
        while ((n = in.read(buffer)) > 0) {
          answer.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
          if (answer.indexOf("\r\n\r\n") > 0 && answer.indexOf("}}}") > 0) {
            break;
          }
        }
      } catch (java.net.SocketTimeoutException timedOut) {
        answer.append("<timeout>");
      }
      return answer.toString();
    }
  }

  @Test
  void headersOverTheLimitAre431(Vertx vertx) {
    start(vertx, new JsonObject().put("maxHeaderBytes", 2048));
    HttpResponse<Buffer> response = service.client.get("/managedTenantOperationResults/x")
      .putHeader("x-padding", "y".repeat(3000)).send().await();
    assertThat(response.statusCode()).isEqualTo(431);
    assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("requestHeaderFieldsTooLarge");
  }

  @Test
  void anIdleConnectionIsClosed(Vertx vertx) throws Exception {
    start(vertx, new JsonObject().put("idleTimeoutSeconds", 1));
    long started = System.nanoTime();
    String answer = raw(service.port(), "", 10_000);
    assertThat(answer).isEmpty();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isBetween(800L, 5_000L);
  }

  @Test
  void aBodyThatTricklesInGets408(Vertx vertx) throws Exception {
    start(vertx, new JsonObject().put("requestTimeoutSeconds", 1).put("idleTimeoutSeconds", 30));
    String answer = raw(service.port(), "POST /managedTenantOperationResults HTTP/1.1\r\nHost: x\r\n"
      + "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"partnerTenantId\":", 10_000);
    assertThat(answer).startsWith("HTTP/1.1 408").contains("\"code\":\"requestTimeout\"");
    assertThat(service.verticle.service().size()).isZero();
  }

  @Test
  void beyondTheRequestsInFlightTheServiceAnswers503WithRetryAfter(Vertx vertx) throws Exception {
    start(vertx, new JsonObject().put("maxInFlight", 1).put("requestTimeoutSeconds", 5));
    try (Socket stuck = new Socket("127.0.0.1", service.port())) {
      // One request holds the only slot: its body never completes.
      stuck.getOutputStream().write(("POST /managedTenantOperationResults HTTP/1.1\r\nHost: x\r\n"
        + "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{").getBytes(StandardCharsets.UTF_8));
      stuck.getOutputStream().flush();
      Thread.sleep(300);
      HttpResponse<Buffer> shed = service.client.get("/managedTenantOperationResults/x").send().await();
      assertThat(shed.statusCode()).isEqualTo(503);
      assertThat(shed.getHeader("Retry-After")).isEqualTo("1");
      assertThat(shed.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("serviceUnavailable");
    }
    Thread.sleep(300);
    assertThat(service.client.get("/managedTenantOperationResults/x").send().await().statusCode()).isEqualTo(404);
  }

  @Test
  void aStoreAtItsDiskBudgetAnswers507AndKeepsServingReads(Vertx vertx) {
    service = TestService.start(vertx, TestService.config(dataDir).with(new JsonObject()
      .put("store", new JsonObject().put("entries", 100).put("diskBudgetBytes", 100 * (36 + 640 + 32))))).await();
    String first = null;
    HttpResponse<Buffer> response = null;
    for (int i = 0; i < 20_000; i++) {
      response = service.client.post("/managedTenantOperationResults").putHeader("content-type", "application/json")
        .sendJsonObject(TestService.body()).await();
      if (response.statusCode() != 201) {
        break;
      }
      if (first == null) {
        first = response.bodyAsJsonObject().getString("id");
      }
    }
    assertThat(response.statusCode()).isEqualTo(507);
    assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("insufficientStorage");
    long stored = service.verticle.service().size();
    assertThat(stored).isGreaterThanOrEqualTo(100);
    assertThat(service.client.get("/managedTenantOperationResults/" + first).send().await().statusCode()).isEqualTo(200);
    assertThat(service.client.delete("/managedTenantOperationResults/" + first).send().await().statusCode()).isEqualTo(204);
    assertThat(service.verticle.service().size()).isEqualTo(stored - 1);
  }

  @Test
  void aCallerOverItsRateGets429WithRetryAfter(Vertx vertx) {
    start(vertx, new JsonObject().put("ratePerSecond", 1).put("burst", 2));
    assertThat(service.client.get("/managedTenantOperationResults/x").send().await().statusCode()).isEqualTo(404);
    assertThat(service.client.get("/managedTenantOperationResults/x").send().await().statusCode()).isEqualTo(404);
    HttpResponse<Buffer> limited = service.client.get("/managedTenantOperationResults/x").send().await();
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(Integer.parseInt(limited.getHeader("Retry-After"))).isBetween(1, 2);
    assertThat(limited.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("tooManyRequests");
  }
}
