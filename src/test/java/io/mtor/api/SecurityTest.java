package io.mtor.api;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mtor.Main;
import io.mtor.TestService;
import io.mtor.auth.Caller;
import io.mtor.auth.DevSigningKey;
import io.mtor.tools.DevToken;
import io.mtor.http.FrontDoor;
import io.mtor.http.SkipTokens;
import io.mtor.logging.ServiceLogging;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a black-box attack on the running service found, one test (or more) per finding, through the real HTTP
 * server with authentication and tenant isolation on, as the service ships. Tenant A and tenant B each have a
 * read-write token; B also has a read-only one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SecurityTest {

  static final String TENANT_A = "aaaaaaaa-1111-4111-8111-111111111111";
  static final String TENANT_B = "bbbbbbbb-2222-4222-8222-222222222222";
  static final String COLLECTION = "/managedTenantOperationResults";

  @TempDir
  Path dir;
  Vertx vertx;
  TestService service;
  String tokenA;
  String tokenB;
  String readOnlyB;

  @BeforeEach
  void start() {
    vertx = Main.createVertx(2);
    service = TestService.start(vertx, config(new JsonObject())).await();
    tokenA = token(TENANT_A, Caller.READ_WRITE);
    tokenB = token(TENANT_B, Caller.READ_WRITE);
    readOnlyB = token(TENANT_B, Caller.READ);
  }

  @AfterEach
  void stop() {
    service.stop().await();
    vertx.close().await();
  }

  ServiceConfig config(JsonObject overrides) {
    return TestService.config(dir.resolve("data")).with(new JsonObject()
      .put("auth", new JsonObject().put("enabled", true).put("devKey", true))).with(overrides);
  }

  void restart(JsonObject overrides) {
    service.stop().await();
    service = TestService.start(vertx, config(overrides)).await();
  }

  String token(String tenant, String scopes) {
    return DevToken.sign(vertx, DevSigningKey.loadOrCreate(dir.resolve("data")), service.config.auth(), tenant, scopes,
      300);
  }

  static JsonObject body(String tenant) {
    return TestService.body().put("partnerTenantId", tenant);
  }

  HttpResponse<Buffer> send(HttpRequest<Buffer> request, String token, JsonObject body) {
    request.putHeader("Authorization", "Bearer " + token);
    return body == null ? request.send().await()
      : request.putHeader("content-type", "application/json").sendBuffer(body.toBuffer()).await();
  }

  HttpResponse<Buffer> create(String token, JsonObject body) {
    return send(service.client.post(COLLECTION), token, body);
  }

  HttpResponse<Buffer> get(String token, String path) {
    return send(service.client.get(path), token, null);
  }

  HttpResponse<Buffer> ops(String path) {
    return service.client.get(service.verticle.opsPort(), "127.0.0.1", path).send().await();
  }

  static String code(HttpResponse<Buffer> response) {
    return response.bodyAsJsonObject().getJsonObject("error").getString("code");
  }

  // 1. Metric labels come from closed sets.

  @Test
  void inventedMethodsAre501BeforeRoutingAndNeverNameASeries() {
    for (int i = 0; i < 20; i++) {
      HttpResponse<Buffer> answer = service.client.request(HttpMethod.valueOf("ZZMETH" + i), COLLECTION).send().await();
      assertThat(answer.statusCode()).isEqualTo(501);
      assertThat(code(answer)).isEqualTo("notImplemented");
      assertThat(answer.bodyAsString()).doesNotContain("ZZMETH");
    }
    String metrics = ops("/metrics").bodyAsString();
    assertThat(metrics).doesNotContain("ZZMETH");
  }

  @Test
  void validationFailuresAreCountedByContractPropertyNeverByWhatTheClientSent() {
    JsonObject unknown = body(TENANT_A);
    for (int i = 0; i < 50; i++) {
      unknown.put("invented" + i, i);
    }
    assertThat(create(tokenA, unknown).statusCode()).isEqualTo(400);
    JsonArray badItems = new JsonArray();
    for (int i = 0; i < 30; i++) {
      badItems.add(i);
    }
    assertThat(create(tokenA, body(TENANT_A).put("result", badItems)).statusCode()).isEqualTo(400);
    String metrics = ops("/metrics").bodyAsString();
    List<String> labels = metrics.lines().filter(l -> l.startsWith("mtor_validation_failures_total{"))
      .map(l -> l.substring(l.indexOf('"') + 1, l.lastIndexOf('"'))).toList();
    assertThat(labels).containsOnly("other", "result");
  }

  // 2. Expensive work is bounded per caller and process (the mechanism's own tests are in ScansTest).

  @Test
  void theShippedDefaultsLimitRatesAndScans() {
    ServiceConfig defaults = ServiceConfig.defaults(dir);
    assertThat(defaults.limits().ratePerSecond()).isEqualTo(1000);
    assertThat(defaults.limits().burst()).isEqualTo(2000);
    assertThat(defaults.limits().maxScansPerCaller()).isEqualTo(2);
    assertThat(defaults.limits().maxScans()).isEqualTo(4);
    assertThat(defaults.limits().queryBudgetMillis()).isEqualTo(10_000);
  }

  @Test
  void anAddressThatKeepsFailingAuthenticationIsThrottledWithoutCostingSignatureChecks() {
    assertThat(get(tokenA, COLLECTION).statusCode()).isEqualTo(200);
    String forged = tokenA.substring(0, tokenA.lastIndexOf('.') + 1) + "A".repeat(86);
    int unauthorized = 0;
    int throttled = 0;
    for (int i = 0; i < 300; i++) {
      HttpResponse<Buffer> answer = get(forged, COLLECTION);
      if (answer.statusCode() == 401) {
        unauthorized++;
      } else if (answer.statusCode() == 429) {
        throttled++;
        assertThat(answer.getHeader("Retry-After")).isNotNull();
      }
    }
    assertThat(unauthorized + throttled).isEqualTo(300);
    assertThat(throttled).isPositive();
    // A token the service has already accepted still works from that address.
    assertThat(get(tokenA, COLLECTION).statusCode()).isEqualTo(200);
  }

  @Test
  void aSkipBeyondTheContractsBoundIsA400() {
    HttpResponse<Buffer> answer = get(readOnlyB, COLLECTION + "?$skip=40000&$count=true");
    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(answer.bodyAsString()).contains("$skip");
  }

  // 3. $skiptoken is opaque, tamper-evident and bound to the caller and the query.

  String nextLinkToken(String token, String query) {
    HttpResponse<Buffer> page = get(token, COLLECTION + query);
    assertThat(page.statusCode()).as(page.bodyAsString()).isEqualTo(200);
    String next = page.bodyAsJsonObject().getString("@odata.nextLink");
    assertThat(next).isNotNull();
    return URLDecoder.decode(next.substring(next.indexOf("$skiptoken=") + 11), StandardCharsets.UTF_8);
  }

  void createMany(String token, String tenant, int count) {
    for (int i = 0; i < count; i++) {
      assertThat(create(token, body(tenant)).statusCode()).isEqualTo(201);
    }
  }

  @Test
  void aSkipTokenWorksOnlyUnchangedForItsCallerAndItsQuery() {
    restart(new JsonObject().put("list", new JsonObject().put("defaultPageSize", 2)));
    createMany(tokenA, TENANT_A, 5);
    createMany(tokenB, TENANT_B, 5);
    String token = nextLinkToken(tokenA, "?$filter=isSuccess%20eq%20true");
    String follow = COLLECTION + "?$filter=isSuccess%20eq%20true&$skiptoken=";
    assertThat(get(tokenA, follow + enc(token)).statusCode()).isEqualTo(200);
    // $top is only the page size (as in Graph): it is not bound, a client may keep, add or change it.
    assertThat(get(tokenA, COLLECTION + "?$filter=isSuccess%20eq%20true&$top=3&$skiptoken=" + enc(token)).statusCode())
      .isEqualTo(200);

    // Another tenant (even one that can read) cannot use it.
    assertRejected(get(readOnlyB, follow + enc(token)));
    // Another query cannot use it.
    assertRejected(get(tokenA, COLLECTION + "?$filter=isSuccess%20eq%20false&$skiptoken=" + enc(token)));
    assertRejected(get(tokenA, COLLECTION + "?$skiptoken=" + enc(token)));
    // Any change to it is seen.
    String payload = token.substring(0, token.indexOf('.'));
    JsonObject position = new JsonObject(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
    String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(position.put("p", 100_000_000).encode()
      .getBytes(StandardCharsets.UTF_8)) + token.substring(token.indexOf('.'));
    assertRejected(get(tokenA, follow + enc(forged)));
    assertRejected(get(tokenA, follow + enc(token.substring(0, token.length() - 2) + "AA")));
    // The old unsigned form is no longer accepted.
    assertRejected(get(tokenA, follow + enc(payload)));
  }

  @Test
  void aSignedTokenIsStillCheckedForItsBoundsAndItsAge() throws Exception {
    restart(new JsonObject().put("list", new JsonObject().put("defaultPageSize", 1)));
    createMany(tokenA, TENANT_A, 3);
    String token = nextLinkToken(tokenA, "");
    JsonObject position = new JsonObject(new String(Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))),
      StandardCharsets.UTF_8));
    byte[] key = Files.readAllBytes(dir.resolve("data").resolve(SkipTokens.KEY_FILE));
    String binding = TENANT_A + "\u0000$filter=\u0000$orderby=\u0000$select=";
    // Signed with the service's own key (as if it leaked), but asking for more than a page may hold.
    HttpResponse<Buffer> huge = get(tokenA, COLLECTION + "?$skiptoken=" + enc(sign(key, binding, position.copy()
      .put("p", 100_000_000))));
    assertRejected(huge);
    assertRejected(get(tokenA, COLLECTION + "?$skiptoken=" + enc(sign(key, binding, position.copy().put("p", 0)))));
    assertRejected(get(tokenA, COLLECTION + "?$skiptoken=" + enc(sign(key, binding, position.copy().put("p", -1)))));
    // The control: the same signing with sane bounds is accepted, so the rejections above are the bounds.
    assertThat(get(tokenA, COLLECTION + "?$skiptoken=" + enc(sign(key, binding, position.copy()))).statusCode())
      .isEqualTo(200);
    // A $top beyond the maximum page size on the follow-up is capped, as on a first page, not a bound violation.
    HttpResponse<Buffer> capped = get(tokenA, COLLECTION + "?$top=100000000&$skiptoken=" + enc(sign(key, binding,
      position.copy())));
    assertThat(capped.statusCode()).isEqualTo(200);
    assertThat(capped.bodyAsJsonObject().getJsonArray("value")).hasSize(2);
    HttpResponse<Buffer> old = get(tokenA, COLLECTION + "?$skiptoken=" + enc(sign(key, binding, position.copy()
      .put("t", System.currentTimeMillis() / 1000 - 3 * 24 * 3600))));
    assertRejected(old);
    assertThat(old.bodyAsString()).contains("expired");
  }

  static String sign(byte[] key, String binding, JsonObject position) throws Exception {
    if (!position.containsKey("t")) {
      position.put("t", System.currentTimeMillis() / 1000);
    }
    String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(position.encode()
      .getBytes(StandardCharsets.UTF_8));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    mac.update(binding.getBytes(StandardCharsets.UTF_8));
    mac.update((byte) 0);
    return payload + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
      mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII)));
  }

  static void assertRejected(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("target")).isEqualTo("$skiptoken");
  }

  static String enc(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  // 4. A client-chosen id is scoped to the caller's tenant: no existence oracle, no squatting.

  @Test
  void twoTenantsMayUseTheSameIdAndNeitherLearnsOfTheOther() {
    HttpResponse<Buffer> a = create(tokenA, body(TENANT_A).put("id", "a-secret-1").put("executionInfo", "A's"));
    assertThat(a.statusCode()).isEqualTo(201);
    HttpResponse<Buffer> b = create(tokenB, body(TENANT_B).put("id", "a-secret-1").put("executionInfo", "B's"));
    assertThat(b.statusCode()).as(b.bodyAsString()).isEqualTo(201);
    assertThat(get(tokenA, COLLECTION + "/a-secret-1").bodyAsJsonObject().getString("executionInfo")).isEqualTo("A's");
    assertThat(get(tokenB, COLLECTION + "/a-secret-1").bodyAsJsonObject().getString("executionInfo")).isEqualTo("B's");
    // Within a tenant an id is still unique.
    assertThat(create(tokenA, body(TENANT_A).put("id", "a-secret-1")).statusCode()).isEqualTo(409);
    // B's delete removes B's record only.
    assertThat(send(service.client.delete(COLLECTION + "/a-secret-1"), tokenB, null).statusCode()).isEqualTo(204);
    assertThat(get(tokenB, COLLECTION + "/a-secret-1").statusCode()).isEqualTo(404);
    assertThat(get(tokenA, COLLECTION + "/a-secret-1").statusCode()).isEqualTo(200);
    JsonArray listedByB = get(tokenB, COLLECTION).bodyAsJsonObject().getJsonArray("value");
    assertThat(listedByB).isEmpty();
  }

  @Test
  void aDataFolderKeepsItsKeySchemeAndRefusesToStartWithTheOther() {
    assertThat(create(tokenA, body(TENANT_A).put("id", "kept")).statusCode()).isEqualTo(201);
    service.stop().await();
    ServiceConfig global = config(new JsonObject().put("auth", new JsonObject().put("tenantIsolation", false)));
    Throwable failure = null;
    try {
      TestService.start(vertx, global).await();
    } catch (Throwable e) {
      failure = e;
    }
    assertThat(failure).isNotNull();
    assertThat(failure.getMessage()).contains("AUTH_TENANT_ISOLATION");
    service = TestService.start(vertx, config(new JsonObject())).await();
    assertThat(get(tokenA, COLLECTION + "/kept").statusCode()).isEqualTo(200);
  }

  @Test
  void aBodyWithThousandsOfViolationsGetsABoundedAnswer() {
    JsonArray bad = new JsonArray();
    for (int i = 0; i < 30_000; i++) {
      bad.add(1);
    }
    HttpResponse<Buffer> answer = create(tokenA, body(TENANT_A).put("result", bad));
    assertThat(answer.statusCode()).isEqualTo(400);
    JsonArray details = answer.bodyAsJsonObject().getJsonObject("error").getJsonArray("details");
    assertThat(details.size()).isLessThanOrEqualTo(51);
    assertThat(details.getJsonObject(details.size() - 1).getString("code")).isEqualTo("moreViolations");
    assertThat(details.getJsonObject(0).getString("target")).isEqualTo("/result/0");
    // The event loops are free again: a health check answers.
    assertThat(service.client.get("/health/live").send().await().statusCode()).isEqualTo(200);
  }

  // 6. Malformed requests are 400 Graph errors, logged as WARN lines without a stack trace (sampled).

  @Test
  void malformedUrlsAndHostsAre400WithoutAStackTrace() throws Exception {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(logged);
    try {
      for (String request : List.of(
        "GET /managedTenantOperationResults/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /nope/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /managedTenantOperationResults?$filter=%zz HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /managedTenantOperationResults HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET /managedTenantOperationResults HTTP/1.1\r\n\r\n")) {
        String answer = LimitsTest.raw(service.port(), request, 5_000);
        assertThat(answer).as(request).startsWith("HTTP/1.1 400 ");
        assertThat(answer).contains("\"code\":\"badRequest\"").contains("request-id");
      }
      // A flood of them does not flood the log: at most a line a second, each counting those it stands for.
      for (int i = 0; i < 200; i++) {
        assertThat(service.client.request(HttpMethod.valueOf("ZZ" + i), COLLECTION).send().await().statusCode())
          .isEqualTo(501);
      }
    } finally {
      root.detachAppender(logged);
    }
    assertThat(logged.list).noneMatch(event -> event.getLevel() == Level.ERROR);
    assertThat(logged.list).noneMatch(event -> event.getThrowableProxy() != null);
    List<ILoggingEvent> rejections = logged.list.stream()
      .filter(e -> e.getLoggerName().equals(FrontDoor.class.getName())).toList();
    assertThat(rejections).isNotEmpty().hasSizeLessThan(20).allMatch(e -> e.getLevel() == Level.WARN);
  }

  // 7. Input that should not be accepted.

  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {"\n", "\r\n", "\r", "\u2028", "\u0085"})
  void aGuidWithATrailingLineTerminatorIsRefused(String terminator) {
    String guid = "11111111-2222-4333-8444-555555555555";
    for (String property : List.of("requestId", "targetTenantId", "partnerUserId")) {
      HttpResponse<Buffer> answer = create(tokenA, body(TENANT_A).put(property, guid + terminator));
      assertThat(answer.statusCode()).as(property + " " + answer.bodyAsString()).isEqualTo(400);
    }
    HttpResponse<Buffer> chosenId = create(tokenA, body(TENANT_A).put("id", "my-id" + terminator));
    assertThat(chosenId.statusCode()).isEqualTo(400);
    assertThat(get(tokenA, COLLECTION + "?$count=true&$top=0").bodyAsJsonObject().getLong("@odata.count")).isZero();
  }

  @Test
  void overlongUtf8IsRefused() {
    byte[] json = body(TENANT_A).put("executionInfo", "a_b").encode().getBytes(StandardCharsets.UTF_8);
    String text = new String(json, StandardCharsets.ISO_8859_1);
    int at = text.indexOf("a_b") + 1;
    json[at] = (byte) 0xC0;
    byte[] overlong = new byte[json.length + 1];
    System.arraycopy(json, 0, overlong, 0, at + 1);
    overlong[at + 1] = (byte) 0xAF;
    System.arraycopy(json, at + 1, overlong, at + 2, json.length - at - 1);
    HttpResponse<Buffer> answer = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("content-type", "application/json").sendBuffer(Buffer.buffer(overlong)).await();
    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(get(tokenA, COLLECTION + "?$count=true&$top=0").bodyAsJsonObject().getLong("@odata.count")).isZero();
  }

  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {"application/json", "APPLICATION/JSON", "Application/Json; Charset=UTF-8",
    "application/json;charset=\"utf-8\""})
  void jsonIsAcceptedInAnyCase(String contentType) {
    HttpResponse<Buffer> answer = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("content-type", contentType).sendBuffer(body(TENANT_A).toBuffer()).await();
    assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(201);
  }

  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {"application/jsonx", "application/json-patch+json", "application/json; charset=latin1",
    "application/json; boundary=x", "text/json", "text/plain"})
  void otherMediaTypesAre415(String contentType) {
    HttpResponse<Buffer> answer = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("content-type", contentType).sendBuffer(body(TENANT_A).toBuffer()).await();
    assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(415);
  }

  @Test
  void aLiteralPercentCanBeFilteredOn() {
    assertThat(create(tokenA, body(TENANT_A).put("executionInfo", "100%")).statusCode()).isEqualTo(201);
    assertThat(create(tokenA, body(TENANT_A).put("executionInfo", "100")).statusCode()).isEqualTo(201);
    HttpResponse<Buffer> answer = get(tokenA, COLLECTION + "?$filter=" + enc("executionInfo eq '100%'"));
    assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
    assertThat(answer.bodyAsJsonObject().getJsonArray("value")).hasSize(1);
  }

  // 8. Response headers, and links only from hosts the server answers for.

  @Test
  void everyAnswerCarriesNosniffAndNoStore() {
    String id = create(tokenA, body(TENANT_A)).bodyAsJsonObject().getString("id");
    for (HttpResponse<Buffer> answer : List.of(get(tokenA, COLLECTION + "/" + id), get(tokenA, COLLECTION),
      get(tokenA, COLLECTION + "/absent"), service.client.get(COLLECTION).send().await(),
      service.client.get("/health/ready").send().await())) {
      assertThat(answer.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
      assertThat(answer.getHeader("Cache-Control")).isEqualTo("no-store");
    }
  }

  @Test
  void aForgedHostIs421AndChangesNothing() {
    HttpResponse<Buffer> answer = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("Host", "evil.example.com").putHeader("content-type", "application/json")
      .sendBuffer(body(TENANT_A).toBuffer()).await();
    assertThat(answer.statusCode()).isEqualTo(421);
    assertThat(code(answer)).isEqualTo("misdirectedRequest");
    assertThat(answer.bodyAsString()).doesNotContain("evil");
    assertThat(get(tokenA, COLLECTION + "?$count=true&$top=0").bodyAsJsonObject().getLong("@odata.count")).isZero();
  }

  @Test
  void anAllowedHostOrATrustedProxyMakesTheLinks() {
    restart(new JsonObject().put("http", new JsonObject().put("allowedHosts", "api.example.com")));
    HttpResponse<Buffer> allowed = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("Host", "api.example.com:443").putHeader("content-type", "application/json")
      .sendBuffer(body(TENANT_A).toBuffer()).await();
    assertThat(allowed.statusCode()).isEqualTo(201);
    assertThat(allowed.getHeader("Location")).startsWith("http://api.example.com:443/managedTenantOperationResults/");
    // Forwarded headers count only when the operator trusts them.
    HttpResponse<Buffer> untrusted = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("X-Forwarded-Host", "api.example.com").putHeader("X-Forwarded-Proto", "https")
      .putHeader("content-type", "application/json").sendBuffer(body(TENANT_A).toBuffer()).await();
    assertThat(untrusted.getHeader("Location")).startsWith("http://localhost:");

    restart(new JsonObject().put("http", new JsonObject().put("allowedHosts", "api.example.com")
      .put("trustForwardedHeaders", true)));
    HttpResponse<Buffer> proxied = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("X-Forwarded-Host", "api.example.com").putHeader("X-Forwarded-Proto", "https")
      .putHeader("content-type", "application/json").sendBuffer(body(TENANT_A).toBuffer()).await();
    assertThat(proxied.statusCode()).isEqualTo(201);
    assertThat(proxied.getHeader("Location")).startsWith("https://api.example.com/managedTenantOperationResults/");
    HttpResponse<Buffer> forgedForward = service.client.post(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
      .putHeader("X-Forwarded-Host", "evil.example.com").putHeader("content-type", "application/json")
      .sendBuffer(body(TENANT_A).toBuffer()).await();
    assertThat(forgedForward.statusCode()).isEqualTo(421);
  }

  // What held in the attack stays held: a header cannot break out of its log line or its echo.

  @Test
  void aClientRequestIdCannotBreakOutOfTheLogLineOrTheResponse() throws Exception {
    ListAppender<ILoggingEvent> requests = new ListAppender<>();
    requests.start();
    Logger requestLog = (Logger) LoggerFactory.getLogger("io.mtor.requests");
    requestLog.addAppender(requests);
    String hostile = "x\"},{\"status\":\"999\"},{\"tenant\":\"evil";
    HttpResponse<Buffer> answer;
    try {
      answer = service.client.get(COLLECTION).putHeader("Authorization", "Bearer " + tokenA)
        .putHeader("client-request-id", hostile).send().await();
      // The line is written when the response has ended, which the client may see first.
      for (int i = 0; i < 500 && requests.list.isEmpty(); i++) {
        Thread.sleep(10);
      }
    } finally {
      requestLog.detachAppender(requests);
    }
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.getHeader("client-request-id")).isEqualTo(hostile);
    assertThat(requests.list).hasSize(1);
    String line;
    try (ServiceLogging logging = ServiceLogging.configure(Map.of("LOG_FORMAT", "json"))) {
      line = logging.line(requests.list.get(0)).trim();
    }
    assertThat(line).doesNotContain("\n");
    // One status and one tenant field: the header's quotes are escaped inside its own value.
    assertThat(line.split("\"status\":", -1)).hasSize(2);
    assertThat(line.split("\"tenant\":", -1)).hasSize(2);
    JsonObject fields = new JsonObject(line);
    assertThat(fields.getString("clientRequestId")).isEqualTo(hostile);
    assertThat(fields.getValue("status")).isEqualTo(200);
    assertThat(fields.getString("tenant")).isEqualTo(TENANT_A);
    // Control characters are never echoed: the HTTP codec refuses such a header (400, a Graph error).
    String raw = LimitsTest.raw(service.port(), "GET " + COLLECTION + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
      + tokenA + "\r\nclient-request-id: a\u0001b\r\n\r\n", 5_000);
    assertThat(raw).startsWith("HTTP/1.1 400").contains("\"badRequest\"").doesNotContain("\u0001");
  }

  // 9. What anyone may read says nothing about the records.

  @Test
  void anonymousHealthSaysUpOrDownAndNothingElse() {
    createMany(tokenA, TENANT_A, 2);
    HttpResponse<Buffer> ready = service.client.get("/health/ready").send().await();
    assertThat(ready.bodyAsJsonObject()).isEqualTo(new JsonObject().put("status", "UP"));
    assertThat(service.client.get("/metrics").send().await().statusCode()).isNotEqualTo(200);
    assertThat(ops("/health/ready").bodyAsString()).contains("\"records\":2");
  }
}
