package io.mtor.api;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole service as one verticle: a {@link ResultsService} configured by the verticle's JSON config
 * ({@link ServiceConfig#toJson()} shape) behind an HTTP server. Undeploying it stops the server (in-flight
 * requests finish), then the service.
 *
 * <pre>{@code
 * vertx.deployVerticle(new ServiceVerticle(), new DeploymentOptions().setConfig(config.toJson()));
 * }</pre>
 */
public final class ServiceVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceVerticle.class);

  private ResultsService service;
  private HttpServer server;

  @Override
  public Future<?> start() {
    ServiceConfig config = ServiceConfig.fromJson(config());
    return ResultsService.start(vertx, config)
      .compose(started -> {
        service = started;
        return vertx.createHttpServer(new HttpServerOptions()
            .setHost(config.httpHost())
            .setPort(config.httpPort()))
          .requestHandler(service.application())
          .listen();
      })
      .onSuccess(listening -> {
        server = listening;
        LOG.info("Listening on http://{}:{} with data in {}", config.httpHost(), listening.actualPort(),
          config.dataDir().toAbsolutePath().normalize());
      })
      .onFailure(e -> {
        if (service != null) {
          service.close();
        }
      });
  }

  /** The port the server listens on (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** The service behind the server. */
  public ResultsService service() {
    return service;
  }

  @Override
  public Future<?> stop() {
    Future<Void> closed = server == null ? Future.succeededFuture() : server.shutdown();
    return closed.eventually(() -> service == null ? Future.succeededFuture() : service.close());
  }
}
