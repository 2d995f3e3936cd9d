package io.mtor.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Times every create of one writer thread on the store alone (no HTTP, no index) while it grows through records
 * files, for docs/performance.md: {@code GrowthPause <dataDir> <firstFileEntries> <records>}. Prints the growth events
 * (next file ready, creates moved on) with their times, the whole run's p50/p99/p99.9/max, the slowest creates with
 * their times, and the max while a next file was being created and within 200 ms of each event against the max
 * elsewhere.
 */
public final class GrowthPause {

  private GrowthPause() {
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    long entries = Long.parseLong(args[1]);
    int records = Integer.parseInt(args[2]);
    byte[] value = ("{\"partnerTenantId\":\"6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11\",\"executionInfo\":\""
      + "x".repeat(520) + "\"}").getBytes(StandardCharsets.UTF_8);
    long[] at = new long[records];
    long[] took = new long[records];
    boolean[] creating = new boolean[records];
    List<String> events = new ArrayList<>();
    List<Long> eventTimes = new ArrayList<>();
    Files.createDirectories(dir);
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, entries, 36, 640, 0, List.of(),
      0, 1L << 30))) {
      RecordVolumes volumes = store.records();
      int files = volumes.volumes().size();
      boolean ready = false;
      boolean creatingNow = false;
      long start = System.nanoTime();
      for (int i = 0; i < records; i++) {
        String id = UUID.randomUUID().toString();
        long before = System.nanoTime();
        store.insert(id, value, Map.of(), null, null);
        long after = System.nanoTime();
        at[i] = before - start;
        took[i] = after - before;
        creating[i] = creatingNow;
        if ((i & 63) == 0) {
          boolean nowReady = volumes.nextIsReady();
          int nowFiles = volumes.volumes().size();
          if (nowReady && !ready) {
            events.add(String.format("next file ready at create %d", i));
            eventTimes.add(after - start);
          }
          if (nowFiles != files) {
            events.add(String.format("creates moved on to file %d at create %d", nowFiles - 1, i));
            eventTimes.add(after - start);
          }
          ready = nowReady;
          files = nowFiles;
          List<RecordVolumes.Volume> all = volumes.volumes();
          RecordVolumes.Volume newest = all.get(all.size() - 1);
          creatingNow = !nowReady && newest.count.get() >= newest.growAt();
        }
      }
      System.out.printf("%d creates in %.1f s into %d files (first sized for %d)%n", records,
        (System.nanoTime() - start) / 1e9, volumes.volumes().size(), entries);
    }
    for (int e = 0; e < events.size(); e++) {
      System.out.printf("  %7.3f s  %s%n", eventTimes.get(e) / 1e9, events.get(e));
    }
    long[] sorted = took.clone();
    Arrays.sort(sorted);
    System.out.printf("all creates: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms%n", q(sorted, 0.5),
      q(sorted, 0.99), q(sorted, 0.999), sorted[sorted.length - 1] / 1e6);
    long nearMax = 0;
    long creatingMax = 0;
    long elsewhereMax = 0;
    int creatingCount = 0;
    for (int i = 0; i < records; i++) {
      boolean near = false;
      for (long t : eventTimes) {
        near |= Math.abs(at[i] - t) < 200_000_000L;
      }
      if (creating[i]) {
        creatingMax = Math.max(creatingMax, took[i]);
        creatingCount++;
      }
      if (near) {
        nearMax = Math.max(nearMax, took[i]);
      } else if (!creating[i]) {
        elsewhereMax = Math.max(elsewhereMax, took[i]);
      }
    }
    System.out.printf("max while a next file was being created (%d creates) %.3f ms; within 200 ms of a growth event "
      + "%.3f ms; elsewhere %.3f ms%n", creatingCount, creatingMax / 1e6, nearMax / 1e6, elsewhereMax / 1e6);
    Integer[] order = new Integer[records];
    for (int i = 0; i < records; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(took[b], took[a]));
    for (int k = 0; k < 5; k++) {
      System.out.printf("  slow create #%d: %.3f ms at %.3f s%n", order[k], took[order[k]] / 1e6, at[order[k]] / 1e9);
    }
  }

  private static double q(long[] sorted, double quantile) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1e6;
  }
}
