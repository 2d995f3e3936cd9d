package io.mtor.readme;

// README:embedding:begin
import io.mtor.api.ResultsService;
import io.mtor.api.ServiceConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.Router;

/** A host application with routes of its own that serves the resource under /api/graph. */
public class HostApplication extends VerticleBase {

  private ResultsService results;

  @Override
  public Future<?> start() {
    ServiceConfig config = ServiceConfig.fromJson(config());
    return ResultsService.start(vertx, config).compose(service -> {
      results = service;
      Router router = Router.router(vertx);
      router.get("/status").handler(ctx -> ctx.end("host is up"));
      // The resource, its $metadata and openapi.yaml; any other path under /api/graph is a Graph error.
      router.route("/api/graph/*").subRouter(service.router());
      // Detailed health and metrics for operators only: a second server, on loopback (ops.host, ops.port).
      return vertx.createHttpServer().requestHandler(service.operations())
        .listen(config.edge().opsPort(), config.edge().opsHost())
        .compose(ops -> vertx.createHttpServer().requestHandler(router).listen(config.http().port()));
    });
  }

  @Override
  public Future<?> stop() {
    return results.close();
  }
}
// README:embedding:end
