package io.mtor;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged service, with the shipped defaults except a first records file of 100 records, grows through
 * several files under concurrent creates with no 507; a {@code kill -9} the moment a growth step makes its next
 * file loses no acknowledged create and no audit line, and the restarted service grows on. (Small: the secondary
 * index's own map is still sized from {@code store.entries}.)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class StoreGrowthIT {

  private static final Map<String, String> TINY_FIRST_FILE = Map.of("STORE_ENTRIES", "100");

  @TempDir
  Path dataDir;

  @Test
  void createsGrowTheStoreWithout507AndAKillDuringAGrowthStepLosesNothing() throws Exception {
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    List<Integer> refusals = new ArrayList<>();
    long started = System.nanoTime();
    try (ServiceProcess service = ServiceProcess.start(dataDir, TINY_FIRST_FILE)) {
      // Files of 100, 200 and 400 records: the fourth (results-v1.3.dat) is made once the third is 3/4 full,
      // after about 600 creates; kill the process the moment it appears, writers still running, before or while
      // creates move on to it.
      Path fourth = dataDir.resolve("results-v1.3.dat");
      Writers writers = Writers.start(service, acknowledged, 4);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.exists(fourth) && !Files.exists(dataDir.resolve("results-v1.3.dat.tmp"))) {
        assertThat(System.nanoTime()).as("a fourth records file within 60 s:\n" + service.output()).isLessThan(deadline);
        assertThat(writers.refused).as("answers other than 201 and 429").isEmpty();
        Thread.sleep(1);
      }
      service.kill();
      writers.stop();
      refusals.addAll(writers.refused);
      log(started, "killed after " + acknowledged.size() + " acknowledged creates", service);
    }
    assertThat(refusals).as("answers other than 201 and 429").isEmpty();
    assertThat(acknowledged).hasSizeGreaterThan(400);
    assertThat(recordsFiles()).as("at least two growth steps before the kill").hasSizeGreaterThanOrEqualTo(3);

    try (ServiceProcess service = ServiceProcess.start(dataDir, TINY_FIRST_FILE)) {
      assertThat(service.output()).contains("recovering");
      log(started, "restarted", service);
      for (String id : acknowledged) {
        assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).as(id).isEqualTo(200);
      }
      auditedExactlyOnce(service, acknowledged);
      log(started, "all read and audited once", null);

      // The restarted service grows on, into the file the killed one was making (made again or found made).
      Set<String> more = ConcurrentHashMap.newKeySet();
      Writers writers = Writers.start(service, more, 4);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.exists(dataDir.resolve("results-v1.3.dat"))) {
        assertThat(System.nanoTime()).as("the fourth records file within 60 s").isLessThan(deadline);
        Thread.sleep(10);
      }
      // Past the roll into the fourth file: the first three hold 100 + 200 + 400 records.
      while (acknowledged.size() + more.size() < 800) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.sleep(10);
      }
      writers.stop();
      assertThat(writers.refused).as("answers other than 201 and 429").isEmpty();
      for (String id : more) {
        assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).as(id).isEqualTo(200);
      }
      Set<String> all = new HashSet<>(acknowledged);
      all.addAll(more);
      auditedExactlyOnce(service, all);
      assertThat(service.terminate(10)).as(service.output()).isZero();
      log(started, more.size() + " more creates after the restart, all read and audited once; stopped", service);
    }
  }

  /** The phase and the service's lines about its records files, for the reader of the test's output. */
  private static void log(long started, String phase, ServiceProcess service) {
    System.out.printf("StoreGrowthIT %5d ms: %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), phase);
    if (service != null) {
      service.output().lines().filter(l -> l.contains("results-v1") || l.contains("startupMillis"))
        .forEach(l -> System.out.println("  " + l));
    }
  }

  private List<Path> recordsFiles() throws Exception {
    try (Stream<Path> files = Files.list(dataDir)) {
      return files.filter(f -> f.getFileName().toString().matches("results-v1(\\.\\d+)?\\.dat")).toList();
    }
  }

  /** Every acknowledged create is in the audit trail once; every audited create exists. */
  private void auditedExactlyOnce(ServiceProcess service, Set<String> acknowledged) throws Exception {
    Path audit = dataDir.resolve("audit");
    long deadline = System.currentTimeMillis() + 30_000;
    while (!new HashSet<>(AuditTrail.createdIds(audit)).containsAll(acknowledged)
      && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    List<String> audited = AuditTrail.createdIds(audit);
    assertThat(audited).doesNotHaveDuplicates().containsAll(acknowledged);
    for (String id : audited) {
      if (!acknowledged.contains(id)) {
        // stored but killed before its 201 left: it may be audited, and then it exists
        assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).as(id).isEqualTo(200);
      }
    }
  }

  /** Clients creating records in a loop; a 429 (the per-caller rate) is waited out, anything else but 201 noted. */
  private static final class Writers {
    final List<Thread> threads = new ArrayList<>();
    final ConcurrentLinkedQueue<Integer> refused = new ConcurrentLinkedQueue<>();
    final AtomicBoolean running = new AtomicBoolean(true);

    static Writers start(ServiceProcess service, Set<String> acknowledged, int count) {
      Writers writers = new Writers();
      for (int w = 0; w < count; w++) {
        Thread thread = new Thread(() -> {
          try {
            while (writers.running.get()) {
              HttpResponse<String> created = service.post("/managedTenantOperationResults", TestService.body().encode());
              if (created.statusCode() == 201) {
                acknowledged.add(new JsonObject(created.body()).getString("id"));
              } else if (created.statusCode() == 429) {
                Thread.sleep(50);
              } else {
                writers.refused.add(created.statusCode());
              }
            }
          } catch (Exception stopped) {
            // the process was killed under us
          }
        });
        thread.start();
        writers.threads.add(thread);
      }
      return writers;
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread thread : threads) {
        thread.join(15_000);
      }
    }
  }
}
