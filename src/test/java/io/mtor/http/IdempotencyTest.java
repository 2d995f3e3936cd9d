package io.mtor.http;

import io.mtor.TestClock;
import io.mtor.TestService;
import io.mtor.events.ResultEvents;
import io.mtor.store.OperationResultStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retried creates make one record: the same {@code Idempotency-Key} (or {@code client-request-id}) and body within
 * the window answer the first create again, with no new record and no new event, also after a restart; the same key
 * with another body is 422.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IdempotencyTest {

  static final String COLLECTION = "/managedTenantOperationResults";

  @TempDir
  Path dataDir;
  Vertx vertx;
  TestService service;
  final TestClock clock = new TestClock();
  final List<JsonObject> created = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start(Vertx vertx) {
    this.vertx = vertx;
    service = TestService.start(vertx, TestService.config(dataDir), clock).await();
    vertx.eventBus().<JsonObject>consumer(ResultEvents.CREATED, m -> created.add(m.body())).completion().await();
  }

  @AfterEach
  void stop() {
    service.stop().await();
  }

  HttpResponse<Buffer> post(JsonObject body, String header, String value) {
    HttpRequest<Buffer> request = service.client.post(COLLECTION).putHeader("content-type", "application/json");
    if (header != null) {
      request.putHeader(header, value);
    }
    return request.sendBuffer(body.toBuffer()).await();
  }

  long count() {
    return service.client.get(COLLECTION + "?$count=true&$top=0").send().await().bodyAsJsonObject()
      .getLong("@odata.count");
  }

  void awaitEvents(int n) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 5_000;
    while (created.size() < n && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(100);
  }

  @Test
  void aRetryWithTheSameKeyAnswersTheFirstCreateAgainAndMakesNothing() throws Exception {
    JsonObject body = TestService.body();
    HttpResponse<Buffer> first = post(body, "Idempotency-Key", "order-42");
    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(first.getHeader("Idempotent-Replayed")).isNull();
    HttpResponse<Buffer> again = post(body, "Idempotency-Key", "order-42");
    assertThat(again.statusCode()).isEqualTo(201);
    assertThat(again.getHeader("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
    assertThat(again.getHeader("Location")).isEqualTo(first.getHeader("Location"));
    awaitEvents(1);
    assertThat(count()).isEqualTo(1);
    assertThat(created).hasSize(1);
  }

  @Test
  void theSameKeyWithAnotherBodyIs422AndChangesNothing() {
    assertThat(post(TestService.body(), "Idempotency-Key", "k-1").statusCode()).isEqualTo(201);
    HttpResponse<Buffer> reused = post(TestService.body(), "Idempotency-Key", "k-1");
    assertThat(reused.statusCode()).isEqualTo(422);
    JsonObject error = reused.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("unprocessableEntity");
    assertThat(error.getString("target")).isEqualTo("Idempotency-Key");
    assertThat(count()).isEqualTo(1);
  }

  @Test
  void aRepeatedClientRequestIdCountsAsAKeyUnlessAnIdempotencyKeyIsSent() {
    JsonObject body = TestService.body();
    HttpResponse<Buffer> first = post(body, "client-request-id", "sdk-7f3a");
    HttpResponse<Buffer> retried = post(body, "client-request-id", "sdk-7f3a");
    assertThat(retried.statusCode()).isEqualTo(201);
    assertThat(retried.bodyAsJsonObject().getString("id")).isEqualTo(first.bodyAsJsonObject().getString("id"));
    assertThat(post(TestService.body(), "client-request-id", "sdk-7f3a").statusCode()).isEqualTo(422);
    assertThat(post(TestService.body(), "client-request-id", "sdk-other").statusCode()).isEqualTo(201);
    assertThat(count()).isEqualTo(2);
  }

  @Test
  void clientRequestIdsAreOnlyIdsWhenSwitchedOff(Vertx vertx) {
    service.stop().await();
    service = TestService.start(vertx, TestService.config(dataDir).with(new JsonObject()
      .put("idempotency", new JsonObject().put("clientRequestId", false))), clock).await();
    assertThat(post(TestService.body(), "client-request-id", "same").statusCode()).isEqualTo(201);
    assertThat(post(TestService.body(), "client-request-id", "same").statusCode()).isEqualTo(201);
    assertThat(count()).isEqualTo(2);
  }

  @Test
  void keysOfDifferentCallersAndKeysPastTheWindowDoNotCollide() {
    JsonObject body = TestService.body();
    assertThat(post(body, "Idempotency-Key", "k").statusCode()).isEqualTo(201);
    clock.advance(Duration.ofHours(25));
    HttpResponse<Buffer> later = post(body, "Idempotency-Key", "k");
    assertThat(later.statusCode()).isEqualTo(201);
    assertThat(later.getHeader("Idempotent-Replayed")).isNull();
    assertThat(count()).isEqualTo(2);
    // Within the new window, the newest record answers.
    HttpResponse<Buffer> again = post(body, "Idempotency-Key", "k");
    assertThat(again.bodyAsJsonObject().getString("id")).isEqualTo(later.bodyAsJsonObject().getString("id"));
  }

  @Test
  void keysSurviveARestart(Vertx vertx) {
    JsonObject body = TestService.body();
    HttpResponse<Buffer> first = post(body, "Idempotency-Key", "before-restart");
    service.stop().await();
    service = TestService.start(vertx, TestService.config(dataDir), clock).await();
    HttpResponse<Buffer> again = post(body, "Idempotency-Key", "before-restart");
    assertThat(again.getHeader("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.bodyAsJsonObject().getString("id")).isEqualTo(first.bodyAsJsonObject().getString("id"));
    assertThat(count()).isEqualTo(1);
  }

  @Test
  void keysStoredWithTheBodyHashInAPointOfItsOwnStillAnswer(Vertx vertx) {
    JsonObject body = TestService.body();
    HttpResponse<Buffer> first = post(body, "Idempotency-Key", "older");
    service.stop().await();
    // Made into a key as the service stored it before the body's hash became its point's payload.
    try (OperationResultStore store = TestService.openStore(dataDir)) {
      String[] key = new String[1];
      store.forEach((k, record) -> key[0] = k);
      String point = store.points(key[0]).get("@idempotency");
      String keyHash = point.substring(0, point.indexOf('\n'));
      String bodyHash = point.substring(point.indexOf('\n') + 1);
      store.index().claimPoints(key[0], Map.of("@idempotency", keyHash, "@idempotencyBody", bodyHash));
      assertThat(store.idsWhere("@idempotency", keyHash)).containsExactly(Map.entry(key[0], ""));
    }
    service = TestService.start(vertx, TestService.config(dataDir), clock).await();
    HttpResponse<Buffer> again = post(body, "Idempotency-Key", "older");
    assertThat(again.getHeader("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.bodyAsJsonObject().getString("id")).isEqualTo(first.bodyAsJsonObject().getString("id"));
    assertThat(post(TestService.body(), "Idempotency-Key", "older").statusCode()).isEqualTo(422);
    assertThat(count()).isEqualTo(1);
  }

  @Test
  void aMalformedKeyIs400() {
    HttpResponse<Buffer> answer = post(TestService.body(), "Idempotency-Key", "x".repeat(256));
    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(count()).isZero();
  }

  /** A client that loses the answer to its create (it closes the connection first) and sends it again. */
  @Test
  void aCreateWhoseAnswerWasLostAndThatIsSentAgainMakesOneRecord() throws Exception {
    byte[] json = TestService.body().encode().getBytes(StandardCharsets.UTF_8);
    String request = "POST " + COLLECTION + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      + "Idempotency-Key: lost-answer\r\nContent-Length: " + json.length + "\r\n\r\n";
    try (Socket socket = new Socket("127.0.0.1", service.port())) {
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.write(json);
      out.flush();
    }
    // The retry may arrive while the first is still being made (409, retry) or after (the first's answer).
    HttpResponse<Buffer> retried;
    do {
      retried = service.client.post(COLLECTION).putHeader("content-type", "application/json")
        .putHeader("Idempotency-Key", "lost-answer").sendBuffer(io.vertx.core.buffer.Buffer.buffer(json)).await();
    } while (retried.statusCode() == 409);
    assertThat(retried.statusCode()).isEqualTo(201);
    awaitEvents(1);
    assertThat(count()).isEqualTo(1);
    assertThat(created).hasSize(1);
  }
}
