package io.mtor.api;

import io.mtor.TestService;
import io.mtor.auth.Caller;
import io.mtor.auth.DevSigningKey;
import io.mtor.tools.DevToken;
import io.mtor.events.ResultEvents;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A program in any language subscribes through the TCP bridge, speaking its frame format by hand: without
 * authentication (as these tests' services run), and with it (as the service ships): a bearer token in the
 * register frame, the caller's tenant's events only, TLS off loopback.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BridgeTest {

  @TempDir
  Path dataDir;

  static void send(DataOutputStream out, JsonObject frame) throws IOException {
    byte[] json = frame.encode().getBytes(StandardCharsets.UTF_8);
    out.writeInt(json.length);
    out.write(json);
    out.flush();
  }

  static JsonObject receive(DataInputStream in) throws IOException {
    byte[] json = new byte[in.readInt()];
    in.readFully(json);
    return new JsonObject(new String(json, StandardCharsets.UTF_8));
  }

  @Test
  void aRawTcpClientReceivesCreatedEventsAndCannotPublish(Vertx vertx) throws Exception {
    int bridgePort;
    try (ServerSocket free = new ServerSocket(0)) {
      bridgePort = free.getLocalPort();
    }
    ServiceConfig config = TestService.config(dataDir)
      .with(new JsonObject().put("bridge", new JsonObject().put("enabled", true).put("port", bridgePort)));
    TestService service = TestService.start(vertx, config).await();
    AtomicInteger injected = new AtomicInteger();
    vertx.eventBus().consumer(ResultEvents.CREATED, m -> {
      if (((JsonObject) m.body()).containsKey("forged")) {
        injected.incrementAndGet();
      }
    }).completion().await();
    try (Socket socket = new Socket("127.0.0.1", bridgePort)) {
      socket.setSoTimeout(10_000);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      DataInputStream in = new DataInputStream(socket.getInputStream());
      send(out, new JsonObject().put("type", "register").put("address", ResultEvents.CREATED));
      Thread.sleep(200);
      JsonObject created = service.client.post("/managedTenantOperationResults")
        .putHeader("content-type", "application/json").sendJsonObject(TestService.body()).await().bodyAsJsonObject();

      JsonObject frame = receive(in);
      assertThat(frame.getString("type")).isEqualTo("message");
      assertThat(frame.getString("address")).isEqualTo(ResultEvents.CREATED);
      assertThat(frame.getJsonObject("body").getJsonObject("resource").getString("id")).isEqualTo(created.getString("id"));
      assertThat(frame.getJsonObject("body").getString("eventType")).isEqualTo("created");

      send(out, new JsonObject().put("type", "publish").put("address", ResultEvents.CREATED)
        .put("body", new JsonObject().put("forged", true)));
      JsonObject refused = receive(in);
      assertThat(refused.getString("type")).isEqualTo("err");
      assertThat(refused.getString("message")).isEqualTo("access_denied");
      send(out, new JsonObject().put("type", "register").put("address", ResultEvents.AUDIT_WRITTEN));
      assertThat(receive(in).getString("message")).isEqualTo("access_denied");
    }
    Thread.sleep(200);
    assertThat(injected.get()).isZero();
    service.stop().await();
  }

  static final String TENANT_A = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
  static final String TENANT_B = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

  static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0)) {
      return free.getLocalPort();
    }
  }

  /** The bridge on a free port with authentication on (the development key in the data folder). */
  ServiceConfig authenticated(int bridgePort) {
    return TestService.config(dataDir).with(new JsonObject()
      .put("bridge", new JsonObject().put("enabled", true).put("port", bridgePort))
      .put("auth", new JsonObject().put("enabled", true)));
  }

  /** A token signed by the development key the service trusts (it made it in the data folder at start). */
  String token(Vertx vertx, TestService service, String tenant, String scopes) {
    return DevToken.sign(vertx, DevSigningKey.loadOrCreate(dataDir), service.config.auth(), tenant, scopes, 300);
  }

  /** As {@link DevToken#sign} but with {@code tid} exactly as given (DevToken lowercases it; other issuers may not). */
  String tokenAsIs(Vertx vertx, TestService service, String tenant, String scopes) {
    JsonObject key = DevSigningKey.loadOrCreate(dataDir);
    return JWTAuth.create(vertx, new JWTAuthOptions().addJwk(key)).generateToken(
      new JsonObject().put("tid", tenant).put("oid", DevToken.DEV_USER).put("scp", scopes),
      new JWTOptions().setAlgorithm("ES256").setIssuer(service.config.auth().issuer())
        .addAudience(service.config.auth().audience()).setExpiresInSeconds(300)
        .setHeader(new JsonObject().put("kid", key.getString("kid"))));
  }

  static JsonObject create(TestService service, String token, String partnerTenant) {
    HttpResponse<Buffer> response = service.client.post("/managedTenantOperationResults").bearerTokenAuthentication(token)
      .putHeader("content-type", "application/json").sendJsonObject(TestService.body().put("partnerTenantId", partnerTenant))
      .await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
    return response.bodyAsJsonObject();
  }

  /** A bridge connection: frames out, frames in. */
  static final class Client implements AutoCloseable {
    final Socket socket;
    final DataOutputStream out;
    final DataInputStream in;

    Client(Socket socket) throws IOException {
      this.socket = socket;
      socket.setSoTimeout(10_000);
      out = new DataOutputStream(socket.getOutputStream());
      in = new DataInputStream(socket.getInputStream());
    }

    static Client connect(int port) throws IOException {
      return new Client(new Socket("127.0.0.1", port));
    }

    void register(String address, String authorization) throws IOException {
      JsonObject frame = new JsonObject().put("type", "register").put("address", address);
      if (authorization != null) {
        frame.put("headers", new JsonObject().put("Authorization", authorization));
      }
      send(out, frame);
    }

    JsonObject receive() throws IOException {
      return BridgeTest.receive(in);
    }

    /** Pings and expects the pong as the very next frame: nothing else was written to this connection. */
    void assertNothingElseArrived() throws IOException {
      send(out, new JsonObject().put("type", "ping"));
      assertThat(receive()).isEqualTo(new JsonObject().put("type", "pong"));
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static void assertAccessDenied(JsonObject frame) {
    assertThat(frame.getString("type")).isEqualTo("err");
    assertThat(frame.getString("message")).isEqualTo("access_denied");
  }

  @Test
  void withAuthenticationOnARegisterWithoutAValidTokenIsRefusedAndGetsNoEvents(Vertx vertx) throws Exception {
    int port = freePort();
    TestService service = TestService.start(vertx, authenticated(port)).await();
    String writer = token(vertx, service, DevToken.DEV_TENANT, Caller.READ_WRITE);
    String otherKey = DevToken.sign(vertx, DevSigningKey.loadOrCreate(dataDir.resolve("elsewhere")), service.config.auth(),
      DevToken.DEV_TENANT, Caller.READ_WRITE, 300);
    try (Client anonymous = Client.connect(port); Client basic = Client.connect(port); Client garbage = Client.connect(port);
         Client forged = Client.connect(port); Client subscriber = Client.connect(port)) {
      anonymous.register(ResultEvents.CREATED, null);
      basic.register(ResultEvents.CREATED, "Basic dXNlcjpwYXNz");
      garbage.register(ResultEvents.CREATED, "Bearer not-a-jwt");
      forged.register(ResultEvents.CREATED, "Bearer " + otherKey);
      for (Client refused : new Client[] {anonymous, basic, garbage, forged}) {
        assertAccessDenied(refused.receive());
      }
      subscriber.register(ResultEvents.CREATED, "Bearer " + writer);
      Thread.sleep(200);
      JsonObject created = create(service, writer, DevToken.DEV_TENANT);
      assertThat(subscriber.receive().getJsonObject("body").getJsonObject("resource").getString("id"))
        .isEqualTo(created.getString("id"));
      Thread.sleep(200);
      for (Client refused : new Client[] {anonymous, basic, garbage, forged}) {
        refused.assertNothingElseArrived();
      }

      // A token does not open the way in, nor to other addresses.
      send(subscriber.out, new JsonObject().put("type", "publish").put("address", ResultEvents.CREATED)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + writer)).put("body", new JsonObject().put("forged", true)));
      assertAccessDenied(subscriber.receive());
      send(subscriber.out, new JsonObject().put("type", "send").put("address", ResultEvents.CREATED)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + writer)).put("body", new JsonObject()));
      assertAccessDenied(subscriber.receive());
      subscriber.register(ResultEvents.AUDIT_WRITTEN, "Bearer " + writer);
      assertAccessDenied(subscriber.receive());
      subscriber.assertNothingElseArrived();
    }
    service.stop().await();
  }

  @Test
  void aConnectionReceivesItsTokensTenantsEventsOnly(Vertx vertx) throws Exception {
    int port = freePort();
    TestService service = TestService.start(vertx, authenticated(port)).await();
    String writerA = token(vertx, service, TENANT_A, Caller.READ_WRITE);
    String writerB = token(vertx, service, TENANT_B, Caller.READ_WRITE);
    try (Client a = Client.connect(port); Client b = Client.connect(port)) {
      // Tenant ids compare case-insensitively, as over HTTP (the service stores GUIDs in lowercase).
      a.register(ResultEvents.CREATED, "Bearer " + tokenAsIs(vertx, service, TENANT_A.toUpperCase(java.util.Locale.ROOT),
        Caller.READ));
      b.register(ResultEvents.CREATED, "Bearer " + writerB);
      Thread.sleep(200);
      JsonObject createdB = create(service, writerB, TENANT_B);
      JsonObject createdA = create(service, writerA, TENANT_A);

      JsonObject first = a.receive();
      assertThat(first.getString("type")).isEqualTo("message");
      assertThat(first.getString("address")).isEqualTo(ResultEvents.CREATED);
      assertThat(first.getJsonObject("body").getJsonObject("resource").getString("id")).isEqualTo(createdA.getString("id"));
      assertThat(first.getJsonObject("body").getJsonObject("resource").getString("partnerTenantId")).isEqualTo(TENANT_A);
      assertThat(b.receive().getJsonObject("body").getJsonObject("resource").getString("id")).isEqualTo(createdB.getString("id"));
      Thread.sleep(200);
      a.assertNothingElseArrived();
      b.assertNothingElseArrived();

      // Unregistering stops the events; the connection stays usable.
      send(a.out, new JsonObject().put("type", "unregister").put("address", ResultEvents.CREATED));
      Thread.sleep(200);
      create(service, writerA, TENANT_A);
      Thread.sleep(200);
      a.assertNothingElseArrived();
    }
    service.stop().await();
  }

  @Test
  void aReadOnlyTokenSubscribesAndATokenWithoutReadIsRefused(Vertx vertx) throws Exception {
    int port = freePort();
    TestService service = TestService.start(vertx, authenticated(port)).await();
    String writer = token(vertx, service, TENANT_A, Caller.READ_WRITE);
    try (Client reader = Client.connect(port); Client unprivileged = Client.connect(port)) {
      reader.register(ResultEvents.CREATED, "Bearer " + token(vertx, service, TENANT_A, Caller.READ));
      unprivileged.register(ResultEvents.CREATED, "Bearer " + token(vertx, service, TENANT_A, "User.Read"));
      assertAccessDenied(unprivileged.receive());
      Thread.sleep(200);
      JsonObject created = create(service, writer, TENANT_A);
      assertThat(reader.receive().getJsonObject("body").getJsonObject("resource").getString("id"))
        .isEqualTo(created.getString("id"));
      Thread.sleep(200);
      unprivileged.assertNothingElseArrived();
    }
    service.stop().await();
  }

  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {"0.0.0.0", "10.1.2.3", "::", "bridge.example.com", "127.0.0.256"})
  void aNonLoopbackHostWithoutTlsStopsStartUp(String host, Vertx vertx) {
    JsonObject bridge = new JsonObject().put("bridge", new JsonObject().put("enabled", true).put("host", host));
    assertThatThrownBy(() -> ServiceConfig.load(null, Map.of("BRIDGE_ENABLED", "true", "BRIDGE_HOST", host)))
      .hasMessageContaining("bridge.host").hasMessageContaining("TLS").hasMessageContaining("bridge.tlsCertFile")
      .hasMessageContaining(host);
    assertThatThrownBy(() -> vertx.deployVerticle(new ServiceVerticle(),
      new DeploymentOptions().setConfig(TestService.config(dataDir).toJson().mergeIn(bridge, true))).await())
      .hasMessageContaining("bridge.host").hasMessageContaining("TLS");
    // Off, or with TLS, the host is anyone's choice.
    assertThat(TestService.config(dataDir).with(new JsonObject().put("bridge", new JsonObject().put("host", host)))
      .bridge().host()).isEqualTo(host);
    assertThat(TestService.config(dataDir).with(new JsonObject().put("bridge", bridge.getJsonObject("bridge").copy()
      .put("tlsCertFile", "/etc/bridge/cert.pem").put("tlsKeyFile", "/etc/bridge/key.pem"))).bridge().tls()).isTrue();
  }

  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {"127.0.0.1", "127.9.8.7", "localhost", "LOCALHOST", "::1", "[::1]", "0:0:0:0:0:0:0:1"})
  void aLoopbackHostNeedsNoTls(String host) {
    assertThat(ServiceConfig.load(null, Map.of("BRIDGE_ENABLED", "true", "BRIDGE_HOST", host)).bridge().host()).isEqualTo(host);
  }

  @Test
  void theTlsFilesGoTogether() {
    assertThatThrownBy(() -> ServiceConfig.load(null, Map.of("BRIDGE_TLS_CERT_FILE", "/etc/bridge/cert.pem")))
      .hasMessageContaining("bridge.tlsCertFile").hasMessageContaining("bridge.tlsKeyFile").hasMessageContaining("expected");
    assertThatThrownBy(() -> ServiceConfig.load(null, Map.of("BRIDGE_TLS_KEY_FILE", "/etc/bridge/key.pem")))
      .hasMessageContaining("BRIDGE_TLS_CERT_FILE").hasMessageContaining("BRIDGE_TLS_KEY_FILE");
    ServiceConfig tls = ServiceConfig.load(null, Map.of("BRIDGE_TLS_CERT_FILE", "/c.pem", "BRIDGE_TLS_KEY_FILE", "/k.pem"));
    assertThat(tls.bridge().tlsCertFile()).isEqualTo("/c.pem");
    assertThat(tls.bridge().tlsKeyFile()).isEqualTo("/k.pem");
    assertThat(ServiceConfig.fromJson(tls.toJson())).isEqualTo(tls);
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
      .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  @Test
  void overTlsATokenHolderReceivesEvents(Vertx vertx) throws Exception {
    // A self-signed certificate for 127.0.0.1, made with the JDK's keytool, written out as PEM.
    Path store = dataDir.resolve("bridge.p12");
    char[] password = "changeit".toCharArray();
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
      "-genkeypair", "-alias", "bridge", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=localhost",
      "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", store.toString(), "-storetype", "PKCS12",
      "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor()).as(output).isZero();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(store)) {
      keys.load(in, password);
    }
    Certificate certificate = keys.getCertificate("bridge");
    Path certFile = Files.writeString(dataDir.resolve("bridge-cert.pem"), pem("CERTIFICATE", certificate.getEncoded()));
    Path keyFile = Files.writeString(dataDir.resolve("bridge-key.pem"),
      pem("PRIVATE KEY", ((PrivateKey) keys.getKey("bridge", password)).getEncoded()));

    int port = freePort();
    ServiceConfig config = authenticated(port).with(new JsonObject().put("bridge", new JsonObject()
      .put("tlsCertFile", certFile.toString()).put("tlsKeyFile", keyFile.toString())));
    TestService service = TestService.start(vertx, config).await();
    String writer = token(vertx, service, TENANT_A, Caller.READ_WRITE);

    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("bridge", certificate);
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, trust.getTrustManagers(), null);
    SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    socket.setSSLParameters(parameters);
    try (Client client = new Client(socket)) {
      socket.startHandshake();
      client.register(ResultEvents.CREATED, "Bearer " + writer);
      Thread.sleep(200);
      JsonObject created = create(service, writer, TENANT_A);
      JsonObject frame = client.receive();
      assertThat(frame.getString("type")).isEqualTo("message");
      assertThat(frame.getJsonObject("body").getJsonObject("resource").getString("id")).isEqualTo(created.getString("id"));
    }
    // A plaintext client gets nowhere: its bytes are not a TLS handshake.
    try (Client plain = Client.connect(port)) {
      plain.socket.setSoTimeout(2_000);
      plain.register(ResultEvents.CREATED, "Bearer " + writer);
      assertThatThrownBy(plain::receive).isInstanceOf(IOException.class);
    }
    service.stop().await();
  }
}
