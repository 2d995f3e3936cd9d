package io.mtor;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The real packaged service, started by scripts/run, stopped by SIGTERM and by kill -9. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServiceProcessIT {

  @TempDir
  Path dataDir;

  @Test
  void sigtermExitsZeroAndARestartKeepsEveryRecord() throws Exception {
    List<String> ids = new ArrayList<>();
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      assertThat(service.output()).contains("data folder: " + dataDir.toAbsolutePath());
      // Secure by default: no token, no entry; scripts/token's token works.
      HttpResponse<String> anonymous = service.http.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(service.url("/managedTenantOperationResults"))).GET().build(),
        HttpResponse.BodyHandlers.ofString());
      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(java.nio.file.Files.getPosixFilePermissions(dataDir.resolve("dev-signing-key.jwk")))
        .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
          java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> created = service.post("/beta/managedTenantOperationResults", TestService.body().encode());
        assertThat(created.statusCode()).isEqualTo(201);
        ids.add(new JsonObject(created.body()).getString("id"));
      }
      assertThat(service.terminate(10)).as(service.output()).isZero();
    }
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      assertThat(service.output()).doesNotContain("recovering");
      for (String id : ids) {
        assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).isEqualTo(200);
      }
      assertThat(service.terminate(10)).isZero();
    }
  }

  /** The fat jar runs with a plain {@code java -jar} (its manifest opens what Chronicle needs) on each JDK here. */
  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {"", "/usr/lib/jvm/temurin-25-jdk-amd64"})
  void theFatJarRunsWithJavaDashJar(String javaHome) throws Exception {
    String java = javaHome.isEmpty() ? Path.of(System.getProperty("java.home"), "bin", "java").toString()
      : javaHome + "/bin/java";
    Assumptions.assumeTrue(Files.isExecutable(Path.of(java)), "no JDK at " + javaHome);
    Path jar;
    try (Stream<Path> files = Files.list(Path.of("target"))) {
      jar = files.filter(f -> f.toString().endsWith("-fat.jar")).findFirst().orElseThrow();
    }
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of(), List.of(java, "-jar", jar.toString()))) {
      assertThat(service.post("/managedTenantOperationResults", TestService.body().encode()).statusCode()).isEqualTo(201);
      assertThat(service.output()).contains("\"startupMillis\"").contains("\"rssMiB\"");
      assertThat(service.terminate(10)).isZero();
    }
  }

  /**
   * Ten times in a row: concurrent creates, {@code kill -9} at a random moment, restart. Every acknowledged
   * create must be readable and in the audit trail exactly once, and the trail must hold nothing else.
   */
  @Test
  void killDashNineAtRandomMomentsLosesNoAcknowledgedWriteAndNoAuditLine() throws Exception {
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    Random random = new Random();
    for (int round = 0; round < 10; round++) {
      try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
        if (round > 0) {
          assertThat(service.output()).contains("recovering");
        }
        long restarted = System.nanoTime();
        assertThat(service.post("/managedTenantOperationResults", TestService.body().encode()).statusCode()).isEqualTo(201);
        assertThat(Duration.ofNanos(System.nanoTime() - restarted)).isLessThan(Duration.ofSeconds(5));
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
          Thread writer = new Thread(() -> {
            try {
              while (true) {
                HttpResponse<String> created = service.post("/managedTenantOperationResults", TestService.body().encode());
                if (created.statusCode() == 201) {
                  acknowledged.add(new JsonObject(created.body()).getString("id"));
                }
              }
            } catch (Exception stopped) {
              // the process was killed under us
            }
          });
          writer.start();
          writers.add(writer);
        }
        Thread.sleep(300 + random.nextInt(1200));
        service.kill();
        for (Thread writer : writers) {
          writer.join(10_000);
        }
      }
    }
    assertThat(acknowledged).hasSizeGreaterThan(100);
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      for (String id : acknowledged) {
        assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).as(id).isEqualTo(200);
      }
      Path audit = dataDir.resolve("audit");
      long deadline = System.currentTimeMillis() + 30_000;
      while (!new HashSet<>(AuditTrail.createdIds(audit)).containsAll(acknowledged) && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      List<JsonObject> events = AuditTrail.events(audit);
      List<String> audited = AuditTrail.createdIds(audit);
      assertThat(events.stream().map(e -> e.getString("eventId")).distinct()).hasSize(events.size());
      assertThat(audited).doesNotHaveDuplicates().containsAll(acknowledged);
      // The ordered index matches the records after every kill: a list through it (nextLinks) holds every
      // acknowledged record exactly once, and the count from its counters equals what the list holds.
      List<String> listed = new ArrayList<>();
      String next = "/managedTenantOperationResults?$top=1000&$select=id&$count=true";
      long counted = -1;
      while (next != null) {
        JsonObject page = new JsonObject(service.get(next).body());
        if (counted < 0) {
          counted = page.getLong("@odata.count");
        }
        page.getJsonArray("value").forEach(item -> listed.add(((JsonObject) item).getString("id")));
        String link = page.getString("@odata.nextLink");
        next = link == null ? null : link.substring(link.indexOf("/managedTenantOperationResults"));
      }
      assertThat(listed).doesNotHaveDuplicates().containsAll(acknowledged);
      assertThat(counted).isEqualTo(listed.size());
      // Creates that were stored but not acknowledged (killed before the 201 left) may be audited; nothing
      // else may: every audited record exists.
      for (String id : audited) {
        if (!acknowledged.contains(id)) {
          assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).as(id).isEqualTo(200);
        }
      }
      assertThat(service.terminate(10)).isZero();
    }
  }

  /**
   * A stop under load completes within its budget: SIGTERM while sixteen clients keep list queries running (all
   * allowed to run at once, with a long budget) cancels them, closes the store and exits 0.
   */
  @Test
  void sigtermWhileListQueriesRunStopsWithinItsBudget() throws Exception {
    Map<String, String> env = Map.of("RATE_LIMIT_PER_SECOND", "0", "MAX_SCANS", "16", "MAX_SCANS_PER_CALLER", "16",
      "QUERY_BUDGET_MILLIS", "600000");
    try (ServiceProcess service = ServiceProcess.start(dataDir, env)) {
      for (int i = 0; i < 5_000; i++) {
        assertThat(service.post("/managedTenantOperationResults", TestService.body().encode()).statusCode()).isEqualTo(201);
      }
      String query = "/managedTenantOperationResults?$count=true&$orderby=lastModifiedDateTime%20desc"
        + "&$filter=contains(executionInfo,'zz')";
      java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 16; c++) {
        Thread client = new Thread(() -> {
          try {
            while (service.process.isAlive()) {
              service.get(query);
              answered.incrementAndGet();
            }
          } catch (Exception stopped) {
            // the service went away under the client: expected
          }
        });
        client.setDaemon(true);
        client.start();
        clients.add(client);
      }
      while (answered.get() < 32) {
        Thread.sleep(10);
      }
      long signalled = System.nanoTime();
      int exit = service.terminate(20);
      long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
      System.out.printf("stop under list load: exit %d after %d ms (%d list answers before)%n", exit, stopMillis,
        answered.get());
      assertThat(exit).as(service.output()).isZero();
      assertThat(service.output()).contains("\"Stopped\"").doesNotContain("did not finish");
    }
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      assertThat(service.output()).doesNotContain("recovering");
      assertThat(service.terminate(10)).isZero();
    }
  }

  /** A create's idempotency key outlives the process: after a {@code kill -9}, the retry answers the same record. */
  @Test
  void anIdempotencyKeySurvivesKillDashNine() throws Exception {
    String body = TestService.body().encode();
    String id;
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      HttpResponse<String> created = createWithKey(service, body);
      assertThat(created.statusCode()).isEqualTo(201);
      id = new JsonObject(created.body()).getString("id");
      service.kill();
    }
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      HttpResponse<String> retried = createWithKey(service, body);
      assertThat(retried.statusCode()).isEqualTo(201);
      assertThat(retried.headers().firstValue("Idempotent-Replayed")).contains("true");
      assertThat(new JsonObject(retried.body()).getString("id")).isEqualTo(id);
      HttpResponse<String> count = service.get("/managedTenantOperationResults?$count=true&$top=0");
      assertThat(new JsonObject(count.body()).getLong("@odata.count")).isEqualTo(1);
      assertThat(service.terminate(10)).isZero();
    }
  }

  static HttpResponse<String> createWithKey(ServiceProcess service, String body) throws Exception {
    return service.http.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(service.url("/managedTenantOperationResults")))
      .header("content-type", "application/json").header("authorization", "Bearer " + service.token())
      .header("Idempotency-Key", "survives-kill-9").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
      .build(), HttpResponse.BodyHandlers.ofString());
  }
}
