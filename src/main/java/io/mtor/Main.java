package io.mtor;

import io.mtor.api.ServiceConfig;
import io.mtor.api.ServiceVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs the service in the foreground: {@code conf/application.yaml} (or the file named by
 * {@code CONFIG_FILE}) overridden by the environment. SIGTERM and Ctrl-C stop the HTTP server, then close
 * the store, and exit 0.
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) {
    ServiceConfig config;
    try {
      config = ServiceConfig.load(Path.of(System.getenv().getOrDefault("CONFIG_FILE", "conf/application.yaml")),
        System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    long started = System.nanoTime();
    Vertx vertx = Vertx.vertx();
    ServiceVerticle verticle = new ServiceVerticle();
    CountDownLatch stopped = new CountDownLatch(1);
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config.toJson()))
      .onSuccess(id -> {
        String host = "0.0.0.0".equals(config.httpHost()) ? "localhost" : config.httpHost();
        System.out.printf("data folder: %s%n", config.dataDir().toAbsolutePath().normalize());
        System.out.printf("managedTenantOperationResults listening on http://%s:%d/managedTenantOperationResults%n",
          host, verticle.actualPort());
        System.out.flush();
        LOG.info("Ready in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(vertx, stopped), "shutdown"));
      })
      .onFailure(e -> {
        LOG.error("Start-up failed: {}", e.getMessage(), e);
        vertx.close().onComplete(done -> System.exit(1));
      });
  }

  /**
   * The shutdown order: undeploy (the server stops accepting and drains, then the store closes), then
   * exit 0, because a SIGTERM that was handled in order is a clean exit, not a failure.
   */
  private static void shutdown(Vertx vertx, CountDownLatch stopped) {
    LOG.info("Shutting down");
    vertx.close().onComplete(done -> stopped.countDown());
    try {
      if (!stopped.await(10, TimeUnit.SECONDS)) {
        LOG.warn("Shutdown did not finish within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.info("Stopped");
    Runtime.getRuntime().halt(0);
  }
}
