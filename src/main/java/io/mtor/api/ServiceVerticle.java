package io.mtor.api;

import io.mtor.store.OperationResultStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole service as one verticle: opens the store named by its JSON config ({@link ServiceConfig#toJson()}
 * shape), serves the resource over HTTP, and closes the store after the server has stopped.
 *
 * <pre>{@code
 * vertx.deployVerticle(new ServiceVerticle(), new DeploymentOptions().setConfig(config.toJson()));
 * }</pre>
 */
public final class ServiceVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceVerticle.class);

  private OperationResultStore store;
  private HttpServer server;

  @Override
  public Future<?> start() {
    ServiceConfig config = ServiceConfig.fromJson(config());
    return vertx.executeBlocking(() -> OperationResultStore.open(config.storeOptions()))
      .compose(opened -> {
        store = opened;
        return ManagedTenantOperationResults.application(vertx, config, store);
      })
      .compose(router -> vertx.createHttpServer(new HttpServerOptions()
          .setHost(config.httpHost())
          .setPort(config.httpPort()))
        .requestHandler(router)
        .listen())
      .onSuccess(listening -> {
        server = listening;
        LOG.info("Listening on http://{}:{} with data in {}", config.httpHost(), listening.actualPort(),
          config.dataDir().toAbsolutePath().normalize());
      })
      .onFailure(e -> closeStore());
  }

  /** The port the server listens on (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** The store this verticle owns. */
  public OperationResultStore store() {
    return store;
  }

  @Override
  public Future<?> stop() {
    Future<Void> closed = server == null ? Future.succeededFuture() : server.shutdown();
    return closed.eventually(() -> vertx.executeBlocking(() -> {
      closeStore();
      return null;
    }));
  }

  private void closeStore() {
    if (store != null) {
      store.close();
    }
  }
}
