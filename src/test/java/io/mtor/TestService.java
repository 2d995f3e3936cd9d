package io.mtor;

import io.mtor.api.ServiceConfig;
import io.mtor.tools.DevToken;
import io.mtor.api.ServiceVerticle;
import io.mtor.store.OperationResultStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.nio.file.Path;
import java.util.UUID;

/** A real service on a free port over a small store in a temporary folder, and a client for it. */
public final class TestService {

  public final Vertx vertx;
  public final ServiceConfig config;
  public final ServiceVerticle verticle;
  public final String deploymentId;
  public final WebClient client;

  private TestService(Vertx vertx, ServiceConfig config, ServiceVerticle verticle, String deploymentId) {
    this.vertx = vertx;
    this.config = config;
    this.verticle = verticle;
    this.deploymentId = deploymentId;
    this.client = WebClient.create(vertx, new WebClientOptions()
      .setDefaultHost("localhost").setDefaultPort(verticle.actualPort()), new PoolOptions().setHttp1MaxSize(64));
  }

  /**
   * A small store (Chronicle reserves the whole file up front), authentication and the rate limit off, and the
   * operations server on a free port: these tests are about other things; {@code AuthTest}, {@code LimitsTest},
   * {@code SecurityTest} and the process tests run with them on, as the service ships.
   */
  public static ServiceConfig config(Path dataDir) {
    return ServiceConfig.fromJson(new JsonObject()
      .put("http", new JsonObject().put("port", 0).put("host", "127.0.0.1"))
      .put("store", new JsonObject().put("dataDir", dataDir.toString()).put("entries", 5_000))
      .put("auth", new JsonObject().put("enabled", false))
      .put("ops", new JsonObject().put("port", 0).put("host", "127.0.0.1"))
      .put("limits", new JsonObject().put("ratePerSecond", 0)));
  }

  /** A store as {@link #config} sizes it, in {@code dataDir}: for tests of what is applied to a store, with no server. */
  public static OperationResultStore openStore(Path dataDir) {
    return OperationResultStore.open(config(dataDir).storeOptions());
  }

  public static Future<TestService> start(Vertx vertx, ServiceConfig config) {
    return start(vertx, config, java.time.Clock.systemUTC());
  }

  /** A service whose records, events and token checks take their time from {@code clock}. */
  public static Future<TestService> start(Vertx vertx, ServiceConfig config, java.time.Clock clock) {
    ServiceVerticle verticle = new ServiceVerticle(clock);
    return vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config.toJson()))
      .map(id -> new TestService(vertx, config, verticle, id));
  }

  public Future<Void> stop() {
    client.close();
    return vertx.undeploy(deploymentId);
  }

  public int port() {
    return verticle.actualPort();
  }

  /** A valid create body with fresh GUIDs, for the development tenant ({@code scripts/token}'s default). */
  public static JsonObject body() {
    return new JsonObject()
      .put("partnerTenantId", DevToken.DEV_TENANT)
      .put("partnerUserId", UUID.randomUUID().toString())
      .put("targetTenantId", UUID.randomUUID().toString())
      .put("managedTenantOperationId", "applyConditionalAccessPolicy")
      .put("requestId", UUID.randomUUID().toString())
      .put("isSuccess", true)
      .put("exception", null)
      .put("executionInfo", "Applied baseline policy to 12 users")
      .put("result", new JsonArray().add("policyId=3f2a").add("usersUpdated=12"));
  }
}
