package io.mtor;

import ch.qos.logback.classic.LoggerContext;
import io.mtor.api.ServiceConfig;
import io.mtor.api.ServiceVerticle;
import io.mtor.cluster.EventBusCluster;
import io.mtor.config.ConfigSources;
import io.mtor.http.Meters;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs the service in the foreground: {@code conf/application.yaml} (or the file named by
 * {@code CONFIG_FILE}) overridden by the environment, then by system properties ({@code -Dhttp.port=9000}).
 * SIGTERM and Ctrl-C stop the HTTP server, then close the store, and exit 0. In cluster mode the Vert.x instance is
 * clustered (Hazelcast) before anything is deployed on it.
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** How long a stop may take before the process exits anyway. */
  private static final long STOP_BUDGET_SECONDS = 10;

  private Main() {
  }

  public static void main(String[] args) {
    ServiceConfig config;
    try {
      config = ServiceConfig.load(Path.of(System.getenv().getOrDefault("CONFIG_FILE", "conf/application.yaml")),
        System.getenv(), ConfigSources.systemProperties());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    long started = System.nanoTime();
    LOG.atInfo().addKeyValue("config", config.toJson().encode()).log("Starting");
    createVertx(config).onSuccess(vertx -> run(vertx, config, started)).onFailure(e -> {
      LOG.error("Start-up failed: could not join the event-bus cluster: {}", e.getMessage(), e);
      stopLogging();
      Runtime.getRuntime().halt(1);
    });
  }

  private static void run(Vertx vertx, ServiceConfig config, long started) {
    ServiceVerticle verticle = new ServiceVerticle();
    CountDownLatch stopped = new CountDownLatch(1);
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config.toJson()))
      .onSuccess(id -> {
        // Before the lines that tell a supervisor the service listens: a SIGTERM sent as soon as it reads them finds
        // the hook (else the JVM ends on the signal's default, status 143, without closing the store).
        CountDownLatch stopping = new CountDownLatch(1);
        watchdog(stopping);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          stopping.countDown();
          shutdown(vertx, stopped);
        }, "shutdown"));
        String host = "0.0.0.0".equals(config.http().host()) ? "localhost" : config.http().host();
        // One write: the log (stderr, from its own thread) cannot land inside these lines where both streams are
        // read together (System.out would write a long line in 128-byte pieces).
        System.out.print(String.format("data folder: %s%n"
            + "operations (metrics, detailed health): http://%s:%d/metrics%n"
            + "managedTenantOperationResults listening on http://%s:%d/managedTenantOperationResults%n",
          config.store().dataDir().toAbsolutePath().normalize(), config.edge().opsHost(), verticle.opsPort(), host,
          verticle.actualPort()));
        System.out.flush();
        Runtime runtime = Runtime.getRuntime();
        LOG.atInfo()
          .addKeyValue("startupMillis", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
          .addKeyValue("heapUsedMiB", (runtime.totalMemory() - runtime.freeMemory()) >> 20)
          .addKeyValue("heapMaxMiB", runtime.maxMemory() >> 20)
          .addKeyValue("rssMiB", residentMiB())
          .addKeyValue("java", Runtime.version().toString())
          .log("Ready");
      })
      .onFailure(e -> {
        LOG.error("Start-up failed: {}", e.getMessage(), e);
        vertx.close().onComplete(done -> System.exit(1));
      });
  }

  /**
   * A Vert.x instance with Micrometer metrics on (HTTP requests by route, method and status, the event bus
   * by address, and the JVM; {@code /metrics} serves them in Prometheus format, every label from a closed set:
   * {@link Meters#closeLabels}) and {@code eventLoops} event loops: as many as HTTP servers, so that the audit
   * trail and the service's own consumers share their threads instead of sleeping on loops of their own that
   * every create would have to wake.
   */
  public static Vertx createVertx(int eventLoops) {
    return builder(new VertxOptions().setEventLoopPoolSize(eventLoops)).build();
  }

  /**
   * The service's Vert.x ({@link #createVertx(int)}); in cluster mode clustered with the other nodes' (Hazelcast,
   * {@link EventBusCluster}), for the leader's cluster-wide events. Single-node mode starts no cluster manager.
   */
  static Future<Vertx> createVertx(ServiceConfig config) {
    VertxOptions options = new VertxOptions().setEventLoopPoolSize(config.http().instances());
    if (!config.cluster().enabled()) {
      return Future.succeededFuture(builder(options).build());
    }
    try {
      options.setEventBusOptions(EventBusCluster.eventBus(config.cluster()));
      HazelcastClusterManager manager = EventBusCluster.manager(config.cluster());
      long joining = System.nanoTime();
      return builder(options).withClusterManager(manager).buildClustered().onSuccess(vertx -> LOG.atInfo()
        .addKeyValue("joinMillis", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joining))
        .addKeyValue("members", manager.getNodes().size())
        .log("Event bus clustered (Hazelcast on port {}, event bus on port {})", config.cluster().hazelcastPort(),
          config.cluster().eventBusPort()));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
  }

  private static VertxBuilder builder(VertxOptions options) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Meters.closeLabels(registry);
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
      .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.EB_ADDRESS, Label.EB_SIDE));
    return Vertx.builder().with(options.setMetricsOptions(metrics)).withMetrics(new MicrometerMetricsFactory(registry));
  }

  /**
   * Stops logback, which writes what its appenders hold, when logback is the SLF4J binding (as in the fat jar);
   * with any other binding there is nothing to do, and no logback class is loaded.
   */
  private static void stopLogging() {
    Object factory = LoggerFactory.getILoggerFactory();
    if (factory.getClass().getName().equals("ch.qos.logback.classic.LoggerContext")) {
      ((LoggerContext) factory).stop();
    }
  }

  /** Resident set size from /proc (Linux), or -1. */
  private static long residentMiB() {
    try {
      for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: no figure
    }
    return -1;
  }

  /**
   * A thread started with the service, so that nothing needs to be allocated when it must act: once a stop
   * begins, it ends the process after {@link #STOP_BUDGET_SECONDS} plus a margin whatever the other threads do
   * (a stop stuck behind a full heap or a blocked thread would otherwise never exit). A store left open is
   * recovered at the next start, as after a crash.
   */
  private static void watchdog(CountDownLatch stopping) {
    Thread watchdog = new Thread(() -> {
      try {
        stopping.await();
        Thread.sleep(TimeUnit.SECONDS.toMillis(STOP_BUDGET_SECONDS + 2));
        System.err.println("Stop did not complete within " + (STOP_BUDGET_SECONDS + 2) + " s: halting");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Runtime.getRuntime().halt(1);
    }, "stop-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /**
   * The shutdown order: undeploy (the server stops accepting and drains, running list queries are cancelled,
   * then the store closes), then exit 0, because a SIGTERM that was handled in order is a clean exit, not a
   * failure; 1 if the stop did not complete within its budget.
   */
  private static void shutdown(Vertx vertx, CountDownLatch stopped) {
    boolean clean = false;
    try {
      LOG.info("Shutting down");
      vertx.close().onComplete(done -> stopped.countDown());
      clean = stopped.await(STOP_BUDGET_SECONDS, TimeUnit.SECONDS);
      if (!clean) {
        LOG.warn("Shutdown did not finish within {} s", STOP_BUDGET_SECONDS);
      }
      LOG.info("Stopped");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable e) {
      // Whatever went wrong, the process still ends here with a status that says so (a hook that died would let
      // the JVM end with the signal's 143 instead), and the cause is on stderr.
      clean = false;
      e.printStackTrace();
    } finally {
      try {
        // The log writes in batches: the last lines go out before the process halts.
        stopLogging();
      } catch (Throwable e) {
        System.err.println("Could not flush the log: " + e);
      }
      Runtime.getRuntime().halt(clean ? 0 : 1);
    }
  }
}
