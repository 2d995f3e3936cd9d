package io.mtor.api;

import io.mtor.AuditTrail;
import io.mtor.TestClock;
import io.mtor.TestService;
import io.mtor.auth.Caller;
import io.mtor.auth.DevSigningKey;
import io.mtor.events.ResultEvents;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Bearer tokens against keys published by a JWKS endpoint (a real Vert.x HTTP server here): every
 * rejection, permissions, partner-tenant isolation, key rotation, and who acted in events.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthTest {

  static final String ISSUER = "https://login.example.com/issuer/v2.0";
  static final String AUDIENCE = "api://mtor-test";
  static final String TENANT_A = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
  static final String TENANT_B = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

  @TempDir
  Path dir;
  Vertx vertx;
  HttpServer jwksServer;
  final JsonArray published = new JsonArray();
  JsonObject ecKey;
  JWTAuth ecSigner;
  JWTAuth rsaSigner;
  JWTAuth untrustedSigner;
  TestService service;
  final TestClock clock = new TestClock();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    ecKey = DevSigningKey.loadOrCreate(dir.resolve("keys-ec"));
    ecSigner = JWTAuth.create(vertx, new JWTAuthOptions().addJwk(ecKey));
    KeyPair rsa = rsaPair();
    rsaSigner = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256")
      .setId("rsa-1").setBuffer(pem("PRIVATE KEY", rsa.getPrivate().getEncoded()))));
    untrustedSigner = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256")
      .setId("rsa-1").setBuffer(pem("PRIVATE KEY", rsaPair().getPrivate().getEncoded()))));
    published.add(DevSigningKey.publicJwk(ecKey)).add(rsaJwk((RSAPublicKey) rsa.getPublic(), "rsa-1"));
    jwksServer = vertx.createHttpServer().requestHandler(request -> request.response()
      .putHeader("content-type", "application/json").end(new JsonObject().put("keys", published.copy()).encode()))
      .listen(0, "127.0.0.1").await();
    ServiceConfig config = TestService.config(dir.resolve("data")).with(new JsonObject().put("auth", new JsonObject()
      .put("enabled", true).put("devKey", false).put("issuer", ISSUER).put("audience", AUDIENCE).put("clockSkewSeconds", 5)
      .put("jwksUrl", "http://127.0.0.1:" + jwksServer.actualPort() + "/discovery/v2.0/keys"))
      // Headers large enough that an oversized token reaches the verifier (and its own bound) instead of a 431.
      .put("limits", new JsonObject().put("maxHeaderBytes", 64 * 1024)));
    service = TestService.start(vertx, config, clock).await();
  }

  @AfterEach
  void stop() {
    service.stop().await();
    jwksServer.close().await();
  }

  static KeyPair rsaPair() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
      .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  /** As Entra ID publishes RSA keys: no {@code alg}. */
  static JsonObject rsaJwk(RSAPublicKey key, String kid) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return new JsonObject().put("kty", "RSA").put("use", "sig").put("kid", kid)
      .put("n", b64.encodeToString(unsigned(key.getModulus().toByteArray())))
      .put("e", b64.encodeToString(unsigned(key.getPublicExponent().toByteArray())));
  }

  static byte[] unsigned(byte[] bytes) {
    return bytes[0] == 0 ? java.util.Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
  }

  static JsonObject claims(String tenant, String scopes) {
    JsonObject claims = new JsonObject().put("tid", tenant).put("oid", "11111111-2222-4333-8444-555555555555");
    return scopes == null ? claims : claims.put("scp", scopes);
  }

  String es256(JsonObject claims) {
    return ecSigner.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setIssuer(ISSUER)
      .addAudience(AUDIENCE).setExpiresInSeconds(300).setHeader(new JsonObject().put("kid", ecKey.getString("kid"))));
  }

  String rs256(JWTAuth signer, JsonObject claims, String issuer, String audience, int expiresIn) {
    return signer.generateToken(claims, new JWTOptions().setAlgorithm("RS256").setIssuer(issuer).addAudience(audience)
      .setExpiresInSeconds(expiresIn).setHeader(new JsonObject().put("kid", "rsa-1")));
  }

  /** An ES256 token as {@link #es256} makes it, but with extra header parameters and optionally no {@code exp}. */
  String es256(JsonObject claims, JsonObject header, boolean withExpiry) {
    return ecSigner.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setIssuer(ISSUER)
      .addAudience(AUDIENCE).setExpiresInSeconds(withExpiry ? 300 : 0)
      .setHeader(header.copy().put("kid", ecKey.getString("kid"))));
  }

  /** The token with its signature segment replaced by {@code signature}. */
  static String withSignature(String token, byte[] signature) {
    return token.substring(0, token.lastIndexOf('.') + 1) + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
  }

  static byte[] signatureOf(String token) {
    return Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
  }

  /** An ECDSA R||S (JWS) signature re-encoded as ASN.1 DER, as the JCA signs: SEQUENCE { INTEGER r, INTEGER s }. */
  static byte[] der(byte[] rs) {
    int half = rs.length / 2;
    byte[] r = new java.math.BigInteger(1, java.util.Arrays.copyOfRange(rs, 0, half)).toByteArray();
    byte[] s = new java.math.BigInteger(1, java.util.Arrays.copyOfRange(rs, half, rs.length)).toByteArray();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0x30);
    out.write(2 + r.length + 2 + s.length);
    out.write(0x02);
    out.write(r.length);
    out.writeBytes(r);
    out.write(0x02);
    out.write(s.length);
    out.writeBytes(s);
    return out.toByteArray();
  }

  /** The order n of P-256. */
  static final java.math.BigInteger P256_N =
    new java.math.BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

  /** The malleated twin of a P-256 R||S signature: (r, n - s), just as valid. */
  static byte[] otherS(byte[] rs) {
    java.math.BigInteger s = new java.math.BigInteger(1, java.util.Arrays.copyOfRange(rs, 32, 64));
    byte[] twin = P256_N.subtract(s).toByteArray();
    byte[] out = java.util.Arrays.copyOf(rs, 64);
    java.util.Arrays.fill(out, 32, 64, (byte) 0);
    int from = Math.max(0, twin.length - 32);
    System.arraycopy(twin, from, out, 64 - (twin.length - from), twin.length - from);
    return out;
  }

  String tokenFor(String tenant) {
    return es256(claims(tenant, Caller.READ_WRITE));
  }

  HttpResponse<Buffer> send(HttpRequest<Buffer> request, String authorization, JsonObject body) {
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    return body == null ? request.send().await()
      : request.putHeader("content-type", "application/json").sendJsonObject(body).await();
  }

  HttpResponse<Buffer> create(String token, String partnerTenant) {
    return send(service.client.post("/managedTenantOperationResults"), "Bearer " + token,
      TestService.body().put("partnerTenantId", partnerTenant));
  }

  static String segment(JsonObject json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  static String hmacToken(Vertx vertx, JsonObject claims) {
    JWTAuth hmac = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
      .setBuffer("a-shared-secret-that-must-not-work-here")));
    return hmac.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER).addAudience(AUDIENCE));
  }

  static Stream<Arguments> rejections() {
    long now = System.currentTimeMillis() / 1000;
    JsonObject valid = claims(TENANT_A, Caller.READ_WRITE);
    String none = segment(new JsonObject().put("alg", "none").put("typ", "JWT")) + "."
      + segment(valid.copy().put("iss", ISSUER).put("aud", AUDIENCE).put("exp", now + 300)) + ".";
    return Stream.of(
      arguments("no Authorization header", (Function<AuthTest, String>) t -> null, "empty"),
      arguments("Basic credentials", (Function<AuthTest, String>) t -> "Basic dXNlcjpwYXNz", "Bearer <token>"),
      arguments("Bearer without a token", (Function<AuthTest, String>) t -> "Bearer ", "Bearer <token>"),
      arguments("not a JWT", (Function<AuthTest, String>) t -> "Bearer not-a-jwt-at-all", "malformed"),
      arguments("garbage segments", (Function<AuthTest, String>) t -> "Bearer e30.e30.e30", "validation failure"),
      arguments("alg none", (Function<AuthTest, String>) t -> "Bearer " + none, "validation failure"),
      arguments("alg none without signature", (Function<AuthTest, String>) t -> "Bearer " + none.substring(0, none.length() - 1), "validation failure"),
      arguments("HMAC with a shared secret", (Function<AuthTest, String>) t -> "Bearer " + hmacToken(t.vertx, valid), "trusted key"),
      arguments("RS256 by an untrusted key", (Function<AuthTest, String>) t -> "Bearer " + t.rs256(t.untrustedSigner, valid,
        ISSUER, AUDIENCE, 300), "signature"),
      arguments("wrong issuer", (Function<AuthTest, String>) t -> "Bearer " + t.rs256(t.rsaSigner, valid,
        "https://evil.example.com", AUDIENCE, 300), "issuer"),
      arguments("wrong audience", (Function<AuthTest, String>) t -> "Bearer " + t.rs256(t.rsaSigner, valid, ISSUER,
        "api://something-else", 300), "audience"),
      arguments("expired", (Function<AuthTest, String>) t -> "Bearer " + t.rs256(t.rsaSigner, valid.copy()
        .put("exp", now - 120).put("iat", now - 600), ISSUER, AUDIENCE, 0), "expired"),
      arguments("not valid yet", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("nbf", now + 300)),
        "not valid yet"),
      arguments("no tenant", (Function<AuthTest, String>) t -> "Bearer " + t.es256(new JsonObject().put("scp", Caller.READ_WRITE)),
        "tenant"),
      arguments("no expiry", (Function<AuthTest, String>) t -> "Bearer " + t.es256(claims(TENANT_A, Caller.READ_WRITE), new JsonObject(), false),
        "no expiry (exp)"),
      arguments("tid not a GUID", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("tid", "not-a-guid")),
        "tenant (tid) is not valid"),
      arguments("tid a number", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("tid", 12345)),
        "tenant (tid) is not valid"),
      arguments("tid a wildcard", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("tid", "*")),
        "tenant (tid) is not valid"),
      arguments("tid an array", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("tid", new JsonArray().add("a"))),
        "tenant (tid) is not valid"),
      arguments("tid with CR LF", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("tid", "a\r\nb")),
        "tenant (tid) is not valid"),
      arguments("tid a GUID and a newline", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("tid", TENANT_A + "\n")),
        "tenant (tid) is not valid"),
      arguments("unknown critical header", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy(),
        new JsonObject().put("crit", new JsonArray().add("exp-custom")).put("exp-custom", true), true), "critical"),
      arguments("DER ES256 signature", (Function<AuthTest, String>) t -> {
        String token = t.es256(valid.copy());
        return "Bearer " + withSignature(token, der(signatureOf(token)));
      }, "signature does not verify"),
      arguments("padded base64url signature", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy()) + "==",
        "malformed"),
      arguments("oversized token", (Function<AuthTest, String>) t -> "Bearer " + t.es256(valid.copy().put("pad", "x".repeat(17 * 1024))),
        "too large"));
  }

  @ParameterizedTest(name = "{index} {0}")
  @MethodSource("rejections")
  void aBadTokenIs401InvalidAuthenticationTokenAndChangesNothing(String name, Function<AuthTest, String> authorization,
                                                                  String words) throws Exception {
    String header = authorization.apply(this);
    long before = service.verticle.service().size();
    for (HttpRequest<Buffer> request : List.of(service.client.post("/managedTenantOperationResults"),
      service.client.get("/managedTenantOperationResults"), service.client.get("/beta/managedTenantOperationResults/x"))) {
      HttpResponse<Buffer> response = send(request, header, request.method().name().equals("POST")
        ? TestService.body().put("partnerTenantId", TENANT_A) : null);
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(401);
      JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("InvalidAuthenticationToken");
      assertThat(error.getString("message")).contains(words);
      assertThat(response.getHeader("WWW-Authenticate")).startsWith("Bearer realm=");
      // RFC 6750 section 3.1: a request without a token gets a challenge without an error code.
      assertThat(response.getHeader("WWW-Authenticate").contains("error=\"invalid_token\""))
        .isEqualTo(header != null && !header.isBlank());
      if (header != null && header.length() > 20) {
        String token = header.substring(7);
        assertThat(response.bodyAsString()).doesNotContain(token).doesNotContain(token.substring(token.lastIndexOf('.') + 1 > 0
          ? token.lastIndexOf('.') + 1 : 0).isEmpty() ? "\u0000" : token.substring(token.lastIndexOf('.') + 1));
        assertThat(response.headers().toString()).doesNotContain(token);
      }
    }
    assertThat(service.verticle.service().size()).isEqualTo(before);
  }

  @Test
  void bothRs256AndEs256TokensFromTheJwksAreAccepted() {
    assertThat(create(tokenFor(TENANT_A), TENANT_A).statusCode()).isEqualTo(201);
    assertThat(create(rs256(rsaSigner, claims(TENANT_A, Caller.READ_WRITE), ISSUER, AUDIENCE, 300), TENANT_A).statusCode())
      .isEqualTo(201);
  }

  @Test
  void ecdsaSignaturesMustBeRawRAndSButAHighSTwinIsAccepted() {
    String token = tokenFor(TENANT_A);
    byte[] rs = signatureOf(token);
    assertThat(rs).hasSize(64);
    HttpResponse<Buffer> der = create(withSignature(token, der(rs)), TENANT_A);
    assertThat(der.statusCode()).as(der.bodyAsString()).isEqualTo(401);
    assertThat(der.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("signature does not verify");
    // Pinned on purpose: RFC 7518 does not require low S, the JDK signs high S half the time, and a twin buys nothing.
    String twin = withSignature(token, otherS(rs));
    assertThat(twin).isNotEqualTo(token);
    assertThat(create(twin, TENANT_A).statusCode()).isEqualTo(201);
    assertThat(create(token, TENANT_A).statusCode()).isEqualTo(201);
  }

  @Test
  void aForbiddenMessageNeverEchoesAnAttackerChosenTenant() {
    for (String tid : List.of("<img src=x onerror=alert(1)>", "evil\r\nSet-Cookie: a=b", "not-a-guid", TENANT_B + "\n")) {
      HttpResponse<Buffer> response = create(es256(claims(tid, Caller.READ_WRITE)), TENANT_A);
      assertThat(response.statusCode()).as(tid).isEqualTo(401);
      assertThat(response.bodyAsString()).as(tid).doesNotContain(tid).doesNotContain("onerror").doesNotContain("Set-Cookie")
        .doesNotContain("not-a-guid");
      assertThat(response.headers().toString()).as(tid).doesNotContain("onerror").doesNotContain("Set-Cookie")
        .doesNotContain("not-a-guid");
    }
    HttpResponse<Buffer> forbidden = create(tokenFor(TENANT_B.toUpperCase(java.util.Locale.ROOT)), TENANT_A);
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.bodyAsJsonObject().getJsonObject("error").getString("message")).contains(TENANT_B);
  }

  @Test
  void anUppercaseTenantIsNormalisedToLowercase() throws Exception {
    List<JsonObject> events = Collections.synchronizedList(new ArrayList<>());
    vertx.eventBus().<JsonObject>consumer(ResultEvents.CREATED, m -> events.add(m.body())).completion().await();
    assertThat(create(tokenFor(TENANT_A.toUpperCase(java.util.Locale.ROOT)), TENANT_A).statusCode()).isEqualTo(201);
    long deadline = System.currentTimeMillis() + 10_000;
    while (events.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(events.get(0).getJsonObject("actor").getString("tenantId")).isEqualTo(TENANT_A);
  }

  @Test
  void withoutTenantIsolationTidMustStillBeShortPrintableText() {
    service.stop().await();
    ServiceConfig config = TestService.config(dir.resolve("data-shared")).with(new JsonObject().put("auth", new JsonObject()
      .put("enabled", true).put("devKey", false).put("issuer", ISSUER).put("audience", AUDIENCE).put("clockSkewSeconds", 5)
      .put("tenantIsolation", false)
      .put("jwksUrl", "http://127.0.0.1:" + jwksServer.actualPort() + "/discovery/v2.0/keys")));
    service = TestService.start(vertx, config).await();
    assertThat(create(es256(claims("contoso.example", Caller.READ_WRITE)), TENANT_A).statusCode()).isEqualTo(201);
    assertThat(create(es256(claims("t".repeat(64), Caller.READ_WRITE)), TENANT_A).statusCode()).isEqualTo(201);
    for (Object tid : List.<Object>of("t".repeat(65), " ", "", "a\r\nb", "a\u0000b", "caf\u00e9", 12345, new JsonArray().add("a"))) {
      HttpResponse<Buffer> response = create(es256(claims(TENANT_A, Caller.READ_WRITE).put("tid", tid)), TENANT_A);
      assertThat(response.statusCode()).as(String.valueOf(tid)).isEqualTo(401);
      assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("tenant (tid) is not valid");
    }
  }

  @Test
  void permissionsComeFromScpOrRolesAndAreChecked() {
    String none = es256(claims(TENANT_A, null));
    String read = es256(claims(TENANT_A, "User.Read " + Caller.READ));
    String app = es256(new JsonObject().put("tid", TENANT_A).put("appid", "app-1").put("roles", new JsonArray().add(Caller.READ_WRITE)));
    String id = create(app, TENANT_A).bodyAsJsonObject().getString("id");
    long before = service.verticle.service().size();
    for (String token : List.of(none, read)) {
      HttpResponse<Buffer> denied = create(token, TENANT_A);
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("Authorization_RequestDenied");
      assertThat(send(service.client.patch("/managedTenantOperationResults/" + id), "Bearer " + token,
        new JsonObject().put("isSuccess", false)).statusCode()).isEqualTo(403);
      assertThat(send(service.client.delete("/managedTenantOperationResults/" + id), "Bearer " + token, null).statusCode())
        .isEqualTo(403);
    }
    assertThat(send(service.client.get("/managedTenantOperationResults/" + id), "Bearer " + none, null).statusCode()).isEqualTo(403);
    assertThat(send(service.client.get("/managedTenantOperationResults/" + id), "Bearer " + read, null).statusCode()).isEqualTo(200);
    assertThat(service.verticle.service().size()).isEqualTo(before);
  }

  @Test
  void aTenantCannotSeeListCountUpdateOrDeleteAnotherTenantsRecords() {
    String a = tokenFor(TENANT_A);
    String b = tokenFor(TENANT_B);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(create(a, TENANT_A).bodyAsJsonObject().getString("id"));
    }
    create(b, TENANT_B);
    String id = ids.get(0);
    HttpResponse<Buffer> forged = create(b, TENANT_A);
    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(forged.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("Authorization_RequestDenied");

    HttpResponse<Buffer> hidden = send(service.client.get("/managedTenantOperationResults/" + id), "Bearer " + b, null);
    assertThat(hidden.statusCode()).isEqualTo(404);
    assertThat(hidden.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("notFound");
    assertThat(send(service.client.patch("/managedTenantOperationResults/" + id), "Bearer " + b,
      new JsonObject().put("isSuccess", false)).statusCode()).isEqualTo(404);
    assertThat(send(service.client.delete("/managedTenantOperationResults/" + id), "Bearer " + b, null).statusCode()).isEqualTo(404);
    assertThat(send(service.client.patch("/managedTenantOperationResults/" + id), "Bearer " + a,
      new JsonObject().put("partnerTenantId", TENANT_B)).statusCode()).isEqualTo(403);

    for (String filter : List.of("", "$filter=partnerTenantId eq " + TENANT_A, "$filter=isSuccess eq true or isSuccess eq false")) {
      HttpRequest<Buffer> list = service.client.get("/managedTenantOperationResults").addQueryParam("$count", "true");
      if (!filter.isEmpty()) {
        list.addQueryParam("$filter", filter.substring("$filter=".length()));
      }
      JsonObject page = send(list, "Bearer " + b, null).bodyAsJsonObject();
      assertThat(page.getJsonArray("value")).as(filter).allSatisfy(item ->
        assertThat(((JsonObject) item).getString("partnerTenantId")).isEqualTo(TENANT_B));
      assertThat(page.getLong("@odata.count")).as(filter).isEqualTo(filter.contains(TENANT_A) ? 0 : 1);
    }
    JsonObject own = send(service.client.get("/managedTenantOperationResults").addQueryParam("$count", "true"), "Bearer " + a, null)
      .bodyAsJsonObject();
    assertThat(own.getLong("@odata.count")).isEqualTo(3);
    assertThat(send(service.client.get("/managedTenantOperationResults/" + id), "Bearer " + a, null).statusCode()).isEqualTo(200);
  }

  @Test
  void theMetadataAndTheContractNeedNoTokenAndAnUnknownPathIs401ThenA404() {
    for (String path : List.of("/$metadata", "/beta/$metadata", "/openapi.yaml", "/beta/openapi.yaml")) {
      HttpResponse<Buffer> document = send(service.client.get(path), null, null);
      assertThat(document.statusCode()).as(path).isEqualTo(200);
      assertThat(document.getHeader("request-id")).isNotBlank();
    }
    // The token is checked before the path: without one, nothing tells what exists under the mount.
    for (String path : List.of("/nothing-here", "/beta/nothing-here")) {
      HttpResponse<Buffer> anonymous = send(service.client.get(path), null, null);
      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(anonymous.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("InvalidAuthenticationToken");
      HttpResponse<Buffer> notFound = send(service.client.get(path), "Bearer " + tokenFor(TENANT_A), null);
      assertThat(notFound.statusCode()).isEqualTo(404);
      assertThat(notFound.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("notFound");
    }
    HttpResponse<Buffer> notAllowed = send(service.client.put("/beta/managedTenantOperationResults"),
      "Bearer " + tokenFor(TENANT_A), null);
    assertThat(notAllowed.statusCode()).isEqualTo(405);
    assertThat(notAllowed.getHeader("Allow").split(", ")).containsExactlyInAnyOrder("GET", "POST");
  }

  @Test
  void keysRotatedAtTheJwksEndpointAreTrustedWithoutARestart() throws Exception {
    JsonObject rotated = DevSigningKey.loadOrCreate(dir.resolve("keys-rotated"));
    JWTAuth rotatedSigner = JWTAuth.create(vertx, new JWTAuthOptions().addJwk(rotated));
    String oldToken = tokenFor(TENANT_A);
    String newToken = rotatedSigner.generateToken(claims(TENANT_A, Caller.READ_WRITE), new JWTOptions().setAlgorithm("ES256")
      .setIssuer(ISSUER).addAudience(AUDIENCE).setExpiresInSeconds(300).setHeader(new JsonObject().put("kid", rotated.getString("kid"))));
    assertThat(create(oldToken, TENANT_A).statusCode()).isEqualTo(201);
    published.clear();
    published.add(DevSigningKey.publicJwk(rotated));
    // The endpoint is read again for an unknown key at most once a second.
    clock.advance(java.time.Duration.ofMillis(1_100));
    assertThat(create(newToken, TENANT_A).statusCode()).isEqualTo(201);
    assertThat(create(oldToken, TENANT_A).statusCode()).isEqualTo(401);
  }

  @Test
  void eventsAndTheAuditTrailRecordWhoActedButNeverTheToken() throws Exception {
    List<JsonObject> events = Collections.synchronizedList(new ArrayList<>());
    vertx.eventBus().<JsonObject>consumer(ResultEvents.CREATED, m -> events.add(m.body())).completion().await();
    String token = tokenFor(TENANT_A);
    assertThat(create(token, TENANT_A).statusCode()).isEqualTo(201);
    long deadline = System.currentTimeMillis() + 10_000;
    while ((events.isEmpty() || service.verticle.service().auditBacklog() > 0) && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    JsonObject actor = events.get(0).getJsonObject("actor");
    assertThat(actor.getString("tenantId")).isEqualTo(TENANT_A);
    assertThat(actor.getString("objectId")).isEqualTo("11111111-2222-4333-8444-555555555555");
    assertThat(AuditTrail.events(service.config.auditDir())).singleElement()
      .satisfies(line -> assertThat(line.getJsonObject("actor")).isEqualTo(actor));
    for (Path file : Files.list(service.config.auditDir()).toList()) {
      assertThat(Files.readString(file)).doesNotContain(token).doesNotContain(token.substring(token.lastIndexOf('.') + 1));
    }
  }

}
