package io.mtor.api;

import io.mtor.http.GraphErrors;
import io.mtor.http.HttpOptions;
import io.mtor.http.RequestIds;
import io.mtor.http.ResultsResource;
import io.mtor.store.OperationResultStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * Entry point for embedders: routers for the managedTenantOperationResults resource.
 *
 * <p>A host mounts the resource router anywhere:
 * {@code host.route("/api/graph/*").subRouter(router)}. The router validates against the OpenAPI contract,
 * answers Graph errors, and works with or without a {@code BodyHandler} already installed by the host.
 */
public final class ManagedTenantOperationResults {

  /** Paths the service answers under besides the root: Graph's version segment. */
  public static final String BETA_PREFIX = "/beta";

  private ManagedTenantOperationResults() {
  }

  /** The resource router: {@code /managedTenantOperationResults} and {@code /managedTenantOperationResults/{id}}. */
  public static Future<Router> router(Vertx vertx, ServiceConfig config, OperationResultStore store) {
    return ResultsResource.router(vertx, store, httpOptions(config));
  }

  /**
   * The service's whole router: the resource at the root and under {@code /beta}, and Graph errors for
   * paths and methods that match nothing.
   */
  public static Future<Router> application(Vertx vertx, ServiceConfig config, OperationResultStore store) {
    HttpOptions options = httpOptions(config);
    return ResultsResource.errors(vertx, options).compose(errors -> router(vertx, config, store).map(resource -> {
      Router app = Router.router(vertx);
      app.route().handler(new RequestIds());
      app.route(BETA_PREFIX + "/*").subRouter(resource);
      app.route("/*").subRouter(resource);
      for (int status : new int[] {400, 404, 405, 413, 414, 415, 431, 500, 501, 503}) {
        app.errorHandler(status, errors);
      }
      app.route().failureHandler(errors);
      return app;
    }));
  }

  static HttpOptions httpOptions(ServiceConfig config) {
    return new HttpOptions(config.bodyLimitBytes(), config.publicBaseUrl());
  }

  /** The Graph error mapper, for hosts that want the same error bodies on their own routes. */
  public static Future<GraphErrors> errorMapper(Vertx vertx, ServiceConfig config) {
    return ResultsResource.errors(vertx, httpOptions(config));
  }
}
