package io.mtor.api;

import io.mtor.http.FrontDoor;
import io.mtor.http.GraphErrors;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The whole service as one verticle: a {@link ResultsService} configured by the verticle's JSON config
 * ({@link ServiceConfig#toJson()} shape) behind HTTP servers on {@code http.instances} event loops sharing
 * one port. Undeploying it stops the servers (in-flight requests finish), then the service.
 *
 * <pre>{@code
 * vertx.deployVerticle(new ServiceVerticle(), new DeploymentOptions().setConfig(config.toJson()));
 * }</pre>
 */
public final class ServiceVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceVerticle.class);

  private final List<String> servers = new ArrayList<>();
  private final Clock clock;
  private ResultsService service;
  private int port;
  private HttpServer opsServer;
  private int opsPort;

  /** The service on the system clock. */
  public ServiceVerticle() {
    this(Clock.systemUTC());
  }

  /** The service with the clock that timestamps records and events (tests move it instead of sleeping). */
  public ServiceVerticle(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    ServiceConfig config = ServiceConfig.fromJson(config());
    return ResultsService.start(vertx, config, clock)
      .compose(started -> {
        service = started;
        return operationsServer(config);
      })
      .compose(v -> servers(config))
      .onSuccess(listening -> LOG.info("Listening on http://{}:{} ({} event loops) with data in {}; operations on "
        + "http://{}:{}", config.http().host(), listening, config.http().instances(),
        config.store().dataDir().toAbsolutePath().normalize(), config.edge().opsHost(), opsPort))
      .onFailure(e -> stop());
  }

  /**
   * One server per instance, each on its own event loop; Vert.x shares the listening socket between
   * servers of one address. It does not share a port 0 (each server would get its own), so port 0 is
   * resolved to a free port first.
   */
  private Future<Integer> servers(ServiceConfig config) {
    int requested = config.http().port();
    if (requested == 0) {
      try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName(config.http().host()))) {
        requested = free.getLocalPort();
      } catch (IOException e) {
        return Future.failedFuture(e);
      }
    }
    HttpServerOptions options = new HttpServerOptions().setHost(config.http().host()).setPort(requested)
      .setMaxHeaderSize(config.limits().maxHeaderBytes())
      .setMaxInitialLineLength(config.limits().maxUrlBytes())
      .setIdleTimeout(config.limits().idleTimeoutSeconds());
    Router router = service.application();
    Set<Integer> bound = ConcurrentHashMap.newKeySet();
    return vertx.deployVerticle(() -> new HttpServerVerticle(router, options, bound),
        new DeploymentOptions().setInstances(config.http().instances()))
      .compose(id -> {
        servers.add(id);
        if (bound.size() != 1) {
          return Future.failedFuture("HTTP servers bound to different ports: " + bound);
        }
        port = bound.iterator().next();
        return Future.succeededFuture(port);
      });
  }

  /** The operations server ({@code /metrics}, detailed health) on its own interface and port. */
  private Future<Void> operationsServer(ServiceConfig config) {
    return vertx.createHttpServer(new HttpServerOptions().setHost(config.edge().opsHost()).setPort(config.opsPort())
        .setMaxHeaderSize(config.limits().maxHeaderBytes()).setMaxInitialLineLength(config.limits().maxUrlBytes())
        .setIdleTimeout(config.limits().idleTimeoutSeconds()))
      .requestHandler(new FrontDoor(service.operations()))
      .invalidRequestHandler(GraphErrors::invalidRequest)
      .listen()
      .map(server -> {
        opsServer = server;
        opsPort = server.actualPort();
        return null;
      });
  }

  /** The operations server's port (useful with port 0). */
  public int opsPort() {
    return opsPort;
  }

  /** The port the servers listen on (useful with port 0). */
  public int actualPort() {
    return port;
  }

  /** The service behind the servers. */
  public ResultsService service() {
    return service;
  }

  @Override
  public Future<?> stop() {
    List<Future<Void>> stopped = new ArrayList<>();
    servers.forEach(id -> stopped.add(vertx.undeploy(id).recover(e -> Future.succeededFuture())));
    servers.clear();
    if (opsServer != null) {
      stopped.add(opsServer.close());
    }
    return Future.join(stopped).eventually(() -> service == null ? Future.succeededFuture() : service.close());
  }

  /** One HTTP server on the event loop of its own verticle instance. */
  private static final class HttpServerVerticle extends VerticleBase {

    private final Router router;
    private final HttpServerOptions options;
    private final Set<Integer> bound;
    private HttpServer server;

    HttpServerVerticle(Router router, HttpServerOptions options, Set<Integer> bound) {
      this.router = router;
      this.options = options;
      this.bound = bound;
    }

    @Override
    public Future<?> start() {
      return vertx.createHttpServer(options).requestHandler(new FrontDoor(router))
        .invalidRequestHandler(GraphErrors::invalidRequest)
        .listen().onSuccess(listening -> {
        server = listening;
        bound.add(listening.actualPort());
      });
    }

    @Override
    public Future<?> stop() {
      return server == null ? Future.succeededFuture() : server.shutdown();
    }
  }
}
