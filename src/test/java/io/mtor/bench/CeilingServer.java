package io.mtor.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;

/**
 * The ceiling of the stack here: the same Vert.x, one bare HTTP server per event loop (as many as the
 * service runs), answering the service's POST with a fixed 201 entity once the body is read, and its GET
 * with a fixed 200 entity. {@code CeilingServer <port>}; {@code HTTP_INSTANCES} as for the service.
 */
public final class CeilingServer extends VerticleBase {

  static final Buffer ENTITY = Buffer.buffer("{\"@odata.context\":\"http://localhost:8080/$metadata#managedTenantOperationResults/$entity\","
    + "\"@odata.etag\":\"W/\\\"9980411012e52106\\\"\",\"@odata.type\":\"#microsoft.management.services.api.managedTenantOperationResult\","
    + "\"id\":\"353058dd-dba9-4f27-ac80-634ca20df0b8\",\"partnerTenantId\":\"6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\","
    + "\"partnerUserId\":\"0b6a4b5e-1d2c-4e3f-8a9b-7c6d5e4f3a21\",\"targetTenantId\":\"2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31\","
    + "\"managedTenantOperationId\":\"applyConditionalAccessPolicy\",\"requestId\":\"9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c41\","
    + "\"createdDateTime\":\"2026-11-28T15:39:29.1692420Z\",\"lastModifiedDateTime\":\"2026-11-28T15:39:29.1692420Z\","
    + "\"isSuccess\":true,\"exception\":null,\"executionInfo\":\"Applied baseline policy to 12 users\","
    + "\"result\":[\"policyId=3f2a\",\"usersUpdated=12\"]}");

  private final int port;

  CeilingServer(int port) {
    this.port = port;
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer().requestHandler(request -> {
      if (request.method() == HttpMethod.POST) {
        request.body().onSuccess(body -> request.response().setStatusCode(201)
          .putHeader("content-type", "application/json; charset=utf-8")
          .putHeader("location", "http://localhost:8080/managedTenantOperationResults/353058dd-dba9-4f27-ac80-634ca20df0b8")
          .end(ENTITY));
      } else {
        request.response().putHeader("content-type", "application/json; charset=utf-8").end(ENTITY);
      }
    }).listen(port);
  }

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int instances = Integer.parseInt(System.getenv().getOrDefault("HTTP_INSTANCES",
      String.valueOf(Runtime.getRuntime().availableProcessors())));
    Vertx vertx = Vertx.vertx();
    vertx.deployVerticle(() -> new CeilingServer(port), new DeploymentOptions().setInstances(instances))
      .onSuccess(id -> System.out.println("ceiling listening on " + port + " with " + instances + " event loops"))
      .onFailure(e -> {
        e.printStackTrace();
        System.exit(1);
      });
  }
}
