package io.mtor.bench;

import io.mtor.api.ServiceConfig;
import io.mtor.domain.OperationResults;
import io.mtor.store.OperationResultStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fills a data folder with generated records, as the service stores them (entity JSON and the ordered index,
 * through {@code OperationResultStore.insert}), for the data-scale benchmarks:
 * {@code LoadStore <dataDir> --records N [--tenants T] [--ids idsFile]} (or, as before,
 * {@code LoadStore <dataDir> <records> <tenants> [idsFile]}). Records are created 1 ms apart. The store is
 * sized by the same environment as the service ({@code STORE_ENTRIES}); the raw JSON size is printed, and every
 * 100th id goes to {@code idsFile} (for GET benchmarks).
 */
public final class LoadStore {

  private static final int IN_FLIGHT = 1024;

  private LoadStore() {
  }

  /** The tenant GUID the benchmarks filter on: tenant {@code i} of the generated set. */
  public static String tenant(int i) {
    return UUID.nameUUIDFromBytes(("bench-tenant-" + i).getBytes(StandardCharsets.UTF_8)).toString();
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    int records;
    int tenants = 1000;
    String idsFile = null;
    if (args.length > 1 && args[1].startsWith("--")) {
      records = 1_000_000;
      for (int i = 1; i + 1 < args.length; i += 2) {
        switch (args[i]) {
          case "--records" -> records = Integer.parseInt(args[i + 1]);
          case "--tenants" -> tenants = Integer.parseInt(args[i + 1]);
          case "--ids" -> idsFile = args[i + 1];
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
    } else {
      records = Integer.parseInt(args[1]);
      tenants = Integer.parseInt(args[2]);
      idsFile = args.length > 3 ? args[3] : null;
    }
    List<String> sampleIds = new ArrayList<>();
    ServiceConfig config = ServiceConfig.load(null, Map.of("DATA_DIR", dir.toString(), "AUDIT_ENABLED", "false",
      "STORE_ENTRIES", System.getenv().getOrDefault("STORE_ENTRIES", String.valueOf(records * 11L / 10))));
    Random random = new Random(1);
    long rawBytes = 0;
    long started = System.nanoTime();
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    try (OperationResultStore store = OperationResultStore.open(config.storeOptions())) {
      Instant base = Instant.parse("2026-01-01T00:00:00Z");
      for (int i = 0; i < records; i++) {
        JsonObject body = new JsonObject()
          .put("partnerTenantId", UUID.nameUUIDFromBytes(("partner-" + random.nextInt(20)).getBytes(StandardCharsets.UTF_8)).toString())
          .put("partnerUserId", new UUID(random.nextLong(), random.nextLong()).toString())
          .put("targetTenantId", tenant(random.nextInt(tenants)))
          .put("managedTenantOperationId", "applyConditionalAccessPolicy-" + random.nextInt(50))
          .put("requestId", new UUID(random.nextLong(), random.nextLong()).toString())
          .put("isSuccess", random.nextInt(10) != 0)
          .put("exception", random.nextInt(10) == 0 ? "Forbidden: the partner lacks the delegated admin role" : null)
          .put("executionInfo", "Applied baseline policy to " + random.nextInt(500) + " users")
          .put("result", new JsonArray().add("policyId=" + Integer.toHexString(random.nextInt())).add("usersUpdated=12"));
        JsonObject entity = OperationResults.newEntity(body, base.plusMillis(i));
        byte[] json = entity.toBuffer().getBytes();
        rawBytes += json.length;
        // Many writes in flight, as under load: the store's index writer takes them in batches.
        inFlight.acquireUninterruptibly();
        store.insertAsync(entity.getString("id"), json, Map.of(), null, null).whenComplete((done, failure) -> {
          inFlight.release();
          if (failure != null && firstFailure.compareAndSet(null, failure)) {
            failure.printStackTrace();
          }
        });
        if (i == records / 2) {
          System.out.println("sample requestId " + entity.getString("requestId"));
        }
        if (i % 100 == 0) {
          sampleIds.add(entity.getString("id"));
        }
        if ((i + 1) % 100_000 == 0) {
          System.err.printf("%,d records%n", i + 1);
        }
      }
      inFlight.acquireUninterruptibly(IN_FLIGHT);
    }
    if (firstFailure.get() != null) {
      throw new IllegalStateException("a write failed", firstFailure.get());
    }
    if (idsFile != null) {
      Files.write(Path.of(idsFile), sampleIds);
    }
    System.out.printf("loaded %d records (%d tenants) in %.1f s; raw JSON %d bytes%n", records, tenants,
      (System.nanoTime() - started) / 1e9, rawBytes);
  }
}
