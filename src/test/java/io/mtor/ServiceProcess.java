package io.mtor;

import java.io.IOException;
import io.mtor.tools.DevToken;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged service started with {@code scripts/run} as a separate process, as a user would. */
public final class ServiceProcess implements AutoCloseable {

  public final Process process;
  public final int port;
  private final Path log;
  public final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, String> env;
  private String token;
  private int opsPort;

  private ServiceProcess(Process process, int port, Map<String, String> env, Path log) {
    this.process = process;
    this.log = log;
    this.port = port;
    this.env = env;
  }

  public static ServiceProcess start(Path dataDir, Map<String, String> env) throws IOException, InterruptedException {
    return start(dataDir, env, List.of("scripts/run"));
  }

  /** Starts {@code command} (scripts/run, or java -jar on the fat jar) with the data folder and a free port. */
  public static ServiceProcess start(Path dataDir, Map<String, String> env, List<String> command)
    throws IOException, InterruptedException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    // The output goes to a file, not a pipe: when a process exits, the JDK drains its pipe on another thread and a
    // reader of that pipe can miss the last lines (the stop's own log lines, say).
    Path log = java.nio.file.Files.createTempFile("service-", ".log");
    log.toFile().deleteOnExit();
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().put("DATA_DIR", dataDir.toString());
    builder.environment().put("HTTP_PORT", Integer.toString(port));
    builder.environment().put("HTTP_HOST", "127.0.0.1");
    builder.environment().put("STORE_ENTRIES", "20000");
    builder.environment().put("OPS_PORT", "0");
    builder.environment().putAll(env);
    ServiceProcess service = new ServiceProcess(builder.start(), port, Map.copyOf(builder.environment()), log);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!service.output().contains("listening on http://")) {
      if (!service.process.isAlive() || System.nanoTime() > deadline) {
        service.process.destroyForcibly();
        throw new IllegalStateException("service did not start:\n" + service.output());
      }
      Thread.sleep(20);
    }
    return service;
  }

  /** A token from {@code scripts/token}, with the service's environment (so the same data folder and key). */
  public synchronized String token() throws IOException, InterruptedException {
    if (token == null) {
      token = token(DevToken.DEV_TENANT, null);
    }
    return token;
  }

  /**
   * A token from {@code scripts/token --tenant tenant [--scopes scopes]}, with the service's environment (so the same
   * data folder and key); {@code scopes} null: the script's default (read and write).
   */
  public String token(String tenant, String scopes) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("scripts/token", "--tenant", tenant));
    if (scopes != null) {
      command.addAll(List.of("--scopes", scopes));
    }
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    Process script = builder.redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (script.waitFor() != 0 || out.isEmpty()) {
      throw new IllegalStateException("scripts/token failed: " + out);
    }
    return out.substring(out.lastIndexOf('\n') + 1);
  }

  /** The operations port (/metrics, detailed health), from the line the service prints when it is ready. */
  public synchronized int opsPort() {
    if (opsPort > 0) {
      return opsPort;
    }
    java.util.regex.Matcher m = java.util.regex.Pattern
      .compile("operations \\(metrics, detailed health\\): http://[^:/]+:(\\d+)/metrics").matcher(output());
    if (!m.find()) {
      throw new IllegalStateException("the service printed no operations port:\n" + output());
    }
    opsPort = Integer.parseInt(m.group(1));
    return opsPort;
  }

  /**
   * The Prometheus text of {@code /metrics} on the operations port, tried up to three times as a scraper's next
   * interval would: under the abuse tests' load a scrape has been seen to end in an EOF without an answer (not yet
   * explained; see the closing note of 2026-11-30). A failure that persists still fails the caller.
   */
  public String metrics() throws IOException, InterruptedException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort() + "/metrics"))
            .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          throw new IllegalStateException("/metrics answered " + response.statusCode());
        }
        return response.body();
      } catch (IOException e) {
        last = e;
        Thread.sleep(100);
      }
    }
    throw last;
  }

  /** Everything the process has written to stdout and stderr so far. */
  public String output() {
    try {
      return java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  public HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(url(path)))
      .header("content-type", "application/json")
      .header("authorization", "Bearer " + token())
      .timeout(Duration.ofSeconds(10))
      .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(url(path))).header("authorization", "Bearer " + token())
        .timeout(Duration.ofSeconds(10)).GET().build(),
      HttpResponse.BodyHandlers.ofString());
  }

  /** SIGTERM, then the exit code (or -1 if it did not exit within the bound). */
  public int terminate(long seconds) throws InterruptedException {
    process.destroy();
    return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
  }

  /** SIGKILL. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }

  /**
   * A free port for a cluster node's Raft whose +100 and +200 (the node's Hazelcast and event-bus ports, at the default
   * offsets) are free too.
   */
  public static int freeRaftPort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int port;
      try (ServerSocket socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      }
      if (port + 200 <= 65_535 && free(port + 100) && free(port + 200)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port with +100 and +200 free");
  }

  /** {@code CLUSTER_PEERS} for nodes {@code ids} on loopback, each with a free Raft port ({@link #freeRaftPort}). */
  public static String clusterPeers(List<String> ids) throws IOException {
    StringBuilder peers = new StringBuilder();
    for (String id : ids) {
      peers.append(peers.length() == 0 ? "" : ",").append(id).append("=127.0.0.1:").append(freeRaftPort());
    }
    return peers.toString();
  }

  /** {@code GET /health/ready}'s body, or null when the node does not answer. */
  public io.vertx.core.json.JsonObject readiness() {
    try {
      HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(url("/health/ready")))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return new io.vertx.core.json.JsonObject(answer.body());
    } catch (Exception e) {
      return null;
    }
  }

  /** Waits until {@code /health/ready} says UP; its body. */
  public io.vertx.core.json.JsonObject awaitReady(int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    io.vertx.core.json.JsonObject health = null;
    while (System.nanoTime() < deadline) {
      health = readiness();
      if (health != null && "UP".equals(health.getString("status"))) {
        return health;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not ready after " + seconds + " s: " + health + "\n" + output());
  }

  private static boolean free(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
