package io.mtor.api;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.backends.BackendRegistries;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What an operator reads. Anonymous and terse on the service's own port: {@code /health/live} and
 * {@code /health/ready} (a status and nothing else: no record counts, no tenant data). The contract at
 * {@code /openapi.yaml} and the CSDL document at {@code /$metadata} are the resource router's own, so that they follow
 * it wherever it is mounted. Detailed health ({@code /health/ready} with each check's figures) and {@code /metrics}
 * (Prometheus, from vertx-micrometer-metrics) are on the {@linkplain #operations operations router}, which the
 * standalone service serves on a port of its own (loopback by default).
 */
final class OperationsRoutes {

  private OperationsRoutes() {
  }

  static void mount(Vertx vertx, Router app, ResultsService service, ServiceConfig config) {
    HealthChecks ready = readiness(vertx, service, config);
    app.get("/health/live").handler(ctx -> terse(ctx, true));
    app.get("/health/ready").handler(ctx -> ready.checkStatus()
      .onComplete(checked -> terse(ctx, checked.succeeded() && checked.result().getUp(), service.clusterStatus())));
  }

  private static void terse(RoutingContext ctx, boolean up) {
    terse(ctx, up, null);
  }

  /**
   * {@code {"status": "UP"}} or {@code DOWN}; in cluster mode also the node's id, role, the leader's id and the applied
   * index, and why it is held up if it is (no record counts, no tenant data), and up only when the node is ready in the
   * cluster.
   */
  private static void terse(RoutingContext ctx, boolean up, JsonObject cluster) {
    JsonObject body = new JsonObject();
    if (cluster != null) {
      up = up && cluster.getBoolean("ready");
      body.put("nodeId", cluster.getString("nodeId")).put("role", cluster.getString("role"))
        .put("leaderId", cluster.getString("leaderId")).put("appliedIndex", cluster.getLong("appliedIndex"));
      if (cluster.getString("stalled") != null) {
        // Why the node applies nothing: its own store refuses the next entry (disk, audit backlog).
        body.put("stalled", cluster.getString("stalled"));
      }
    }
    ctx.response().setStatusCode(up ? 200 : 503).putHeader("content-type", "application/json")
      .end(new JsonObject().put("status", up ? "UP" : "DOWN").mergeIn(body).toBuffer());
  }

  /** The operator's router: liveness, readiness with each check's figures, and the metrics. */
  static Router operations(Vertx vertx, ResultsService service, ServiceConfig config) {
    Router ops = Router.router(vertx);
    HealthChecks live = HealthChecks.create(vertx).register("eventLoop", promise -> promise.complete(Status.OK()));
    ops.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(live));
    ops.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness(vertx, service, config)));
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      ops.get("/metrics").handler(PrometheusScrapingHandler.create());
      gauges(registry, service, config);
    }
    return ops;
  }

  private static HealthChecks readiness(Vertx vertx, ResultsService service, ServiceConfig config) {
    HealthChecks checks = HealthChecks.create(vertx);
    if (config.cluster().enabled()) {
      checks.register("cluster", promise -> {
        JsonObject status = service.clusterStatus();
        promise.complete(status != null && status.getBoolean("ready") ? Status.OK(status) : Status.KO(status));
      });
    }
    return checks
      .register("store", promise -> promise.complete(service.storeOpen()
        ? Status.OK(new JsonObject().put("records", service.size()).put("recoveredAfterCrash", service.recovered()))
        : Status.KO(new JsonObject().put("reason", "the store is closed"))))
      .register("auditBacklog", promise -> {
        long backlog = service.auditBacklog();
        JsonObject data = new JsonObject().put("pending", backlog).put("threshold", config.health().maxAuditBacklog());
        promise.complete(backlog < config.health().maxAuditBacklog() ? Status.OK(data) : Status.KO(data));
      });
  }

  private static void gauges(MeterRegistry registry, ResultsService service, ServiceConfig config) {
    Gauge.builder("mtor.store.records", service, ResultsService::size).description("Records in the store").register(registry);
    Gauge.builder("mtor.store.capacity.records", service, ResultsService::capacity)
      .description("Records the store's files made so far are sized for (it adds files as it grows)").register(registry);
    Gauge.builder("mtor.store.mapped.bytes", config, c -> mappedBytes(c.store().dataDir()))
      .description("Bytes of the memory-mapped store files (records, outbox, indexes)").baseUnit("bytes").register(registry);
    Gauge.builder("mtor.list.queries.running", service, ResultsService::runningQueries)
      .description("List queries reading the store now").register(registry);
    Gauge.builder("mtor.audit.backlog", service, ResultsService::auditBacklog)
      .description("Changes stored but not yet confirmed by the audit trail").register(registry);
    Gauge.builder("mtor.audit.lag.seconds", service, ResultsService::auditLagSeconds)
      .description("Age of the oldest change the audit trail has not confirmed").baseUnit("seconds").register(registry);
    if (config.cluster().enabled()) {
      Gauge.builder("mtor.cluster.leader", service, s -> "leader".equals(clusterFigure(s, "role")) ? 1 : 0)
        .description("1 while this node is the Raft leader, else 0").register(registry);
      for (String[] figure : new String[][] {{"term", "Raft term"}, {"commitIndex", "Raft commit index"},
        {"appliedIndex", "Last log index applied to this node's store"},
        {"leaderChanges", "Leader changes this node has seen (elections)"}}) {
        Gauge.builder("mtor.cluster." + figure[0].replaceAll("([A-Z])", ".$1").toLowerCase(java.util.Locale.ROOT),
            service, s -> {
              Object value = clusterFigure(s, figure[0]);
              return value instanceof Number n ? n.doubleValue() : Double.NaN;
            })
          .description(figure[1]).register(registry);
      }
    }
  }

  private static Object clusterFigure(ResultsService service, String name) {
    JsonObject status = service.clusterStatus();
    return status == null ? null : status.getValue(name);
  }

  private static double mappedBytes(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".dat")).mapToLong(f -> f.toFile().length()).sum();
    } catch (IOException e) {
      return Double.NaN;
    }
  }

}
