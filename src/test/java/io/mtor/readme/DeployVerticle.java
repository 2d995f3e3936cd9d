package io.mtor.readme;

import io.mtor.api.ServiceVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The deployment of the whole service as a verticle, quoted in docs/embedding-and-events.md. */
final class DeployVerticle {

  private DeployVerticle() {
  }

  static Future<String> deploy(Vertx vertx, String dataDir, int port) {
    // README:verticle:begin
    JsonObject config = new JsonObject()
      .put("http", new JsonObject().put("port", port))
      .put("store", new JsonObject().put("dataDir", dataDir).put("entries", 10_000));
    return vertx.deployVerticle(new ServiceVerticle(), new DeploymentOptions().setConfig(config));
    // README:verticle:end
  }
}
