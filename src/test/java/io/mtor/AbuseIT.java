package io.mtor;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Abuse against the real packaged service (scripts/run, a separate process, the shipped defaults, a fresh data
 * folder): floods of invented methods and of invalid bodies must not grow the metrics or the heap, and expensive
 * list queries must be shared out fairly, never starve another tenant and stop when their clients leave.
 *
 * <p>No assertion on speed: figures (B's latencies, the time for queries to stop) are printed for the report; the
 * only time bounds are functional ones (an answer at all, work stopping at all).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AbuseIT {

  static final String TENANT_A = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
  static final String TENANT_B = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
  static final String READ = "ManagedTenants.Read.All";
  static final String READ_WRITE = "ManagedTenants.ReadWrite.All";
  static final String COLLECTION = "/managedTenantOperationResults";
  /** Invented methods are {@code ZZ} and eight capital letters; invented properties {@code zzp} and a number. */
  static final Pattern INVENTED = Pattern.compile("(?i)zz[a-z]{8}|zzp\\d+|result/\\d+");
  /** The most expensive list query the contract allows: a filter that reads every record, a sort, a deep $skip. */
  static final String EXPENSIVE = COLLECTION + "?$count=true&$skip=9000&$orderby=lastModifiedDateTime%20desc"
    + "&$filter=contains(executionInfo,'x')";
  /** The creates of a second stay below RATE_LIMIT_PER_SECOND's default (1000) so that loading meets no 429. */
  static final double CREATES_PER_SECOND = 990;

  @TempDir
  Path dataDir;

  // ---------------------------------------------------------------------------------------------------------------
  // a. metric series stay bounded

  @Test
  void inventedMethodsAndPropertiesGrowNeitherTheMetricsNorTheHeap() throws Exception {
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      String token = service.token();
      Set<String> cold = series(service.metrics());
      // A short warm-up of both kinds (with invented names too) before the baselines, so that what the first
      // requests allocate once (lazily built validators, Netty's and the logger's buffers) is not taken for growth,
      // and so that the series any first request of a kind adds (one family per status, route and method label:
      // about 13 series each, plus the GC pauses "Diagnostic Command" causes) are in the baseline: what is measured
      // is what the volume and the variety of names add. The cold figure and the whole difference are printed.
      assertThat(flood(service.port, 2_000)).containsOnlyKeys(501);
      assertThat(badCreates(service, token, 0, 200)).containsOnlyKeys(400);
      Heap before = heapAfterGc(service.process);
      Set<String> warm = series(service.metrics());
      int logBefore = service.output().length();

      long started = System.nanoTime();
      Map<Integer, Integer> methods = flood(service.port, 200_000);
      long flooded = System.nanoTime();
      Map<Integer, Integer> creates = badCreates(service, token, 1_000, 5_000);
      long created = System.nanoTime();
      System.out.printf("AbuseIT: 200,000 invented methods in %.1f s %s, 5,000 invalid creates in %.1f s %s%n",
        (flooded - started) / 1e9, methods, (created - flooded) / 1e9, creates);
      assertThat(methods).isEqualTo(Map.of(501, 200_000));
      assertThat(creates).isEqualTo(Map.of(400, 5_000));

      String text = service.metrics();
      Set<String> after = series(text);
      Heap heap = heapAfterGc(service.process);
      Set<String> warmedUp = new TreeSet<>(warm);
      warmedUp.removeAll(cold);
      Set<String> added = new TreeSet<>(after);
      added.removeAll(warm);
      long logBytes = service.output().length() - (long) logBefore;
      System.out.printf("AbuseIT: metric series: %d at start, %d after the warm-up (+%d: %s), %d after the flood (+%d)%s%n",
        cold.size(), warm.size(), warmedUp.size(), families(warmedUp), after.size(), added.size(),
        added.isEmpty() ? "" : ":\n  " + String.join("\n  ", added));
      System.out.printf("AbuseIT: heap used after a full GC (jcmd GC.run, then GC.heap_info, least of 3 samples a "
          + "second apart): before %.1f MiB (old %.1f), after %.1f MiB (old %.1f); jvm_memory_used_bytes{area=heap} "
          + "now %.1f MiB%n", before.used() / 1048576.0, before.old() / 1048576.0, heap.used() / 1048576.0,
        heap.old() / 1048576.0, heapFromMetrics(text) / 1048576.0);
      System.out.printf("AbuseIT: the service wrote %,d characters of log for the 205,000 requests (%.0f a request)%n",
        logBytes, logBytes / 205_000.0);

      assertThat(after.size()).as("series after the flood").isLessThanOrEqualTo(warm.size() + 30);
      assertThat(after.stream().filter(s -> INVENTED.matcher(s).find())).as("series naming an invented name").isEmpty();
      // Only contract properties, (body) and "other" label validation failures.
      assertThat(after.stream().filter(s -> s.startsWith("mtor_validation_failures_total{"))
        .map(s -> s.replaceAll(".*property=\"([^\"]*)\".*", "$1")))
        .isSubsetOf("partnerTenantId", "partnerUserId", "targetTenantId", "managedTenantOperationId", "requestId",
          "isSuccess", "exception", "executionInfo", "result", "id", "createdDateTime", "lastModifiedDateTime",
          "(body)", "other");
      // Within 10% of the heap before, plus 8 MiB of slack: the live heap of this service is small (tens of MiB),
      // and 10% of it is within what one scrape, one request log batch or a Netty arena chunk moves.
      assertThat(heap.used()).as("heap after a full GC, bytes").isLessThanOrEqualTo(before.used() * 11 / 10 + (8L << 20));
      assertThat(service.terminate(10)).isZero();
    }
  }

  /** Sends {@code count} requests with invented methods, one per connection (the service closes after a 501). */
  static Map<Integer, Integer> flood(int port, int count) throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      Thread thread = new Thread(() -> {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (next.getAndIncrement() < count) {
          StringBuilder method = new StringBuilder("ZZ");
          for (int i = 0; i < 8; i++) {
            method.append((char) ('A' + random.nextInt(26)));
          }
          String request = method + " " + COLLECTION + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n";
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            // Read to the end: the server closes first, so the TIME_WAITs are on its side, not on our ports.
            byte[] answer = socket.getInputStream().readAllBytes();
            statuses.merge(status(answer), 1, Integer::sum);
          } catch (IOException e) {
            statuses.merge(-1, 1, Integer::sum);
            if (errors.size() < 10) {
              errors.add(e.toString());
            }
          }
        }
      }, "flood-" + t);
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    if (!errors.isEmpty()) {
      System.out.println("AbuseIT: flood errors (first 10): " + errors);
    }
    return statuses;
  }

  static int status(byte[] answer) {
    String head = new String(answer, 0, Math.min(answer.length, 12), StandardCharsets.US_ASCII);
    return head.startsWith("HTTP/1.") && head.length() == 12 ? Integer.parseInt(head.substring(9, 12)) : -2;
  }

  /**
   * {@code count} creates with the write token whose bodies are valid but for an unknown property {@code zzp<n>} (a
   * new name each time) and a {@code result} of 1 to 200 numbers (each index a violation), from eight threads at
   * {@link #CREATES_PER_SECOND} at most (the per-caller rate limit would otherwise answer 429).
   */
  static Map<Integer, Integer> badCreates(ServiceProcess service, String token, int first, int count)
    throws InterruptedException {
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();
    long start = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        for (int i; (i = next.getAndIncrement()) < count; ) {
          int n = first + i;
          JsonArray result = new JsonArray();
          for (int k = 0; k <= n % 200; k++) {
            result.add(k);
          }
          JsonObject body = TestService.body().put("zzp" + n, 1).put("result", result);
          try {
            pace(start, i);
            HttpResponse<String> response = service.http.send(HttpRequest.newBuilder(URI.create(service.url(COLLECTION)))
              .header("content-type", "application/json").header("authorization", "Bearer " + token)
              .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
              HttpResponse.BodyHandlers.ofString());
            statuses.merge(response.statusCode(), 1, Integer::sum);
          } catch (IOException | InterruptedException e) {
            statuses.merge(-1, 1, Integer::sum);
          }
        }
      }, "bad-creates-" + t);
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    return statuses;
  }

  /** Waits until request {@code i} of a run that began at {@code start} is due at {@link #CREATES_PER_SECOND}. */
  static void pace(long start, int i) throws InterruptedException {
    long wait = start + (long) (i * 1e9 / CREATES_PER_SECOND) - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  /** The series of a Prometheus text: each non-comment line without its value. */
  static Set<String> series(String text) {
    return text.lines().filter(l -> !l.isBlank() && !l.startsWith("#"))
      .map(l -> l.substring(0, l.lastIndexOf(' '))).collect(Collectors.toCollection(TreeSet::new));
  }

  /** The label sets of some series, each once, without the meter names: what a difference consists of. */
  static Set<String> families(Set<String> series) {
    return series.stream().map(s -> s.contains("{") ? s.substring(s.indexOf('{')) : "{}")
      .collect(Collectors.toCollection(TreeSet::new));
  }

  static double heapFromMetrics(String text) {
    return text.lines().filter(l -> l.startsWith("jvm_memory_used_bytes{") && l.contains("area=\"heap\""))
      .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** Heap in use (all generations) and in the old generation, in bytes. */
  record Heap(long used, long old) {
  }

  /**
   * The heap in use right after a full collection. The service has no GC endpoint, so the JDK's own {@code jcmd}
   * asks its JVM (the process scripts/run exec'd into) for one ({@code GC.run}, a System.gc(): a full, compacting
   * collection with the parallel collector scripts/jvm-flags picks) and then reads {@code GC.heap_info}. What the
   * service allocates between the two commands (a scrape, a timer) shows in the young generation, so this takes the
   * least of three samples a second apart.
   */
  static Heap heapAfterGc(Process service) throws IOException, InterruptedException {
    String jcmd = jcmd(service);
    String pid = Long.toString(service.pid());
    Heap least = null;
    for (int i = 0; i < 3; i++) {
      if (i > 0) {
        Thread.sleep(1_000);
      }
      run(jcmd, pid, "GC.run");
      Heap heap = parseHeapInfo(run(jcmd, pid, "GC.heap_info"));
      if (least == null || heap.used() < least.used()) {
        least = heap;
      }
    }
    return least;
  }

  /** Each generation's line of GC.heap_info reads {@code <name> total <n>K, used <n>K}. */
  static Heap parseHeapInfo(String info) {
    Matcher m = Pattern.compile("(?m)^\\s*(\\S.*?)\\s+total (\\d+)K, used (\\d+)K").matcher(info);
    long used = 0;
    long old = 0;
    boolean found = false;
    while (m.find()) {
      found = true;
      long bytes = Long.parseLong(m.group(3)) << 10;
      used += bytes;
      if (m.group(1).contains("Old") || m.group(1).contains("tenured")) {
        old += bytes;
      }
    }
    if (!found) {
      throw new IllegalStateException("no heap figures in GC.heap_info:\n" + info);
    }
    return new Heap(used, old);
  }

  /** The jcmd of the JDK the service runs on (beside its java), else this JVM's, else the one on the PATH. */
  static String jcmd(Process service) {
    for (String candidate : new String[] {
      service.info().command().map(java -> Path.of(java).resolveSibling("jcmd").toString()).orElse(""),
      Path.of(System.getProperty("java.home"), "bin", "jcmd").toString()}) {
      if (!candidate.isEmpty() && Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return "jcmd";
  }

  static String run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // b. expensive queries are fair and stoppable

  /**
   * Records of tenant A. The issue asks for about 40,000; at the default rate limit loading them took 51 s here (2
   * cores shared with other builds) and one expensive query over them 3.8 s alone, so that the test ran past two
   * minutes: 20,000 keep it well under, and the query reads every one of them all the same (scripts/bench-abuse
   * loads 40,000 by default).
   */
  static final int RECORDS = 20_000;

  @Test
  void expensiveQueriesAreSharedOutNeverStarveAnotherTenantAndStopWhenTheirClientsLeave() throws Exception {
    // STORE_ENTRIES: the shipped default (ServiceProcess sizes the store for 20,000 records); everything else is
    // as shipped, the per-caller rate limit and the list-query bounds included.
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of("STORE_ENTRIES", "100000"))) {
      try {
        fairAndStoppable(service);
      } catch (Throwable e) {
        System.out.println("AbuseIT: the service's last lines:\n" + tail(service.output(), 60));
        throw e;
      }
    }
  }

  static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  private static void fairAndStoppable(ServiceProcess service) throws Exception {
    String writeA = service.token(TENANT_A, READ_WRITE);
    String readA = service.token(TENANT_A, READ);
    String writeB = service.token(TENANT_B, READ_WRITE);
    String readB = service.token(TENANT_B, READ);

    long loadStart = System.nanoTime();
    load(service, writeA, RECORDS);
    System.out.printf("AbuseIT: loaded %,d records of tenant A in %.1f s%n", RECORDS, (System.nanoTime() - loadStart) / 1e9);
    HttpResponse<String> createdB = send(service, "POST", COLLECTION, writeB, record(TENANT_B, 0).encode());
    assertThat(createdB.statusCode()).as(createdB.body()).isEqualTo(201);
    String idB = new JsonObject(createdB.body()).getString("id");

    // The query alone: what one costs, and that it answers what it should.
    long alone = System.nanoTime();
    HttpResponse<String> one = send(service, "GET", EXPENSIVE, readA, null);
    System.out.printf("AbuseIT: the expensive query alone: %d in %d ms%n", one.statusCode(),
      TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - alone));
    assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
    assertThat(new JsonObject(one.body()).getLong("@odata.count")).isEqualTo(RECORDS);
    assertThat(new JsonObject(one.body()).getJsonArray("value")).hasSize(100);

    // 16 clients of tenant A hammer the query for 10 s while B reads its record.
    String request = get(service.port, EXPENSIVE, readA);
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    long hammerEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Conn[] conns = new Conn[16];
    CountDownLatch sent = new CountDownLatch(conns.length);
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < conns.length; c++) {
      int me = c;
      Thread client = new Thread(() -> {
        try {
          hammer(service.port, request, hammerEnd, statuses, wrong, conns, me);
          // The last request, left in flight: the test closes the connection under it.
          conns[me] = reconnectIfNeeded(conns[me], service.port);
          conns[me].write(request);
        } catch (IOException | RuntimeException e) {
          wrong.add("client " + me + ": " + e);
        } finally {
          sent.countDown();
        }
      }, "client-a-" + c);
      client.start();
      clients.add(client);
    }
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    Map<Integer, Integer> statusesB = new ConcurrentHashMap<>();
    Thread tenantB = new Thread(() -> {
      String getB = get(service.port, COLLECTION + "/" + idB, readB);
      Conn conn = null;
      long start = System.nanoTime();
      // Paced at one GET every 2 ms (at most 500 a second: under B's own rate limit of 1000).
      for (int i = 0; System.nanoTime() < hammerEnd; i++) {
        try {
          pace(start, i, 2_000_000);
          conn = reconnectIfNeeded(conn, service.port);
          long t0 = System.nanoTime();
          Response r = conn.exchange(getB);
          latencies.add(System.nanoTime() - t0);
          statusesB.merge(r.status(), 1, Integer::sum);
        } catch (IOException | InterruptedException e) {
          statusesB.merge(-1, 1, Integer::sum);
          wrong.add("tenant B: " + e);
          conn = null;
        }
      }
      closeQuietly(conn);
    }, "tenant-b");
    tenantB.start();
    tenantB.join();
    assertThat(sent.await(60, TimeUnit.SECONDS)).as("the 16 clients finished their requests").isTrue();

    // They leave with their last requests in flight: once a query runs, close every connection at once.
    int runningBefore = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (runningBefore == 0 && System.nanoTime() < deadline) {
      runningBefore = running(service);
      Thread.sleep(runningBefore == 0 ? 10 : 0);
    }
    for (Conn conn : conns) {
      closeQuietly(conn);
    }
    long left = System.nanoTime();
    int running = runningBefore;
    while (running > 0 && System.nanoTime() - left < TimeUnit.SECONDS.toNanos(5)) {
      Thread.sleep(20);
      running = running(service);
    }
    long stoppedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - left);
    for (Thread client : clients) {
      client.join(10_000);
    }

    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    System.out.printf("AbuseIT: the 16 clients' answers: %s%n", new java.util.TreeMap<>(statuses));
    System.out.printf("AbuseIT: tenant B: %,d GETs %s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", sorted.size(),
      statusesB, percentile(sorted, 50), percentile(sorted, 99), sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1) / 1e6);
    System.out.printf("AbuseIT: %d list queries running when the clients left; %s after %d ms (polled every 20 ms)%n",
      runningBefore, running == 0 ? "none running" : running + " still running", stoppedMillis);

    assertThat(wrong).as("answers other than 200, or 429/503 with Retry-After, and errors").isEmpty();
    assertThat(statuses.keySet()).as("statuses of the 16").isSubsetOf(200, 429, 503);
    assertThat(statuses.getOrDefault(200, 0)).as("answered queries").isPositive();
    assertThat(statusesB).as("tenant B's GETs").containsOnlyKeys(200);
    assertThat(runningBefore).as("list queries running when the clients left").isPositive();
    assertThat(running).as("list queries running 5 s after the clients left").isZero();
    // The slots are free again: A's query is answered, not refused.
    HttpResponse<String> again = send(service, "GET", EXPENSIVE, readA, null);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(service.terminate(10)).isZero();
  }

  /**
   * One of the 16: sends the query back to back on a kept-alive connection until {@code end}. After a 429 or 503 it
   * waits 50 ms, not the Retry-After second: an impatient client, which keeps the service's slots full.
   */
  static void hammer(int port, String request, long end, Map<Integer, Integer> statuses,
                     ConcurrentLinkedQueue<String> wrong, Conn[] conns, int me) throws IOException {
    while (System.nanoTime() < end) {
      conns[me] = reconnectIfNeeded(conns[me], port);
      Response r;
      try {
        r = conns[me].exchange(request);
      } catch (SocketTimeoutException e) {
        statuses.merge(-1, 1, Integer::sum);
        wrong.add("no answer within 30 s");
        closeQuietly(conns[me]);
        continue;
      }
      statuses.merge(r.status(), 1, Integer::sum);
      if (r.status() == 200) {
        JsonObject page = new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
        if (page.getLong("@odata.count") != RECORDS || page.getJsonArray("value").size() != 100) {
          wrong.add("a 200 with @odata.count " + page.getLong("@odata.count") + " and "
            + page.getJsonArray("value").size() + " records");
        }
      } else if (r.status() == 429 || r.status() == 503) {
        if (r.headers().get("retry-after") == null) {
          wrong.add(r.status() + " without Retry-After: " + new String(r.body(), StandardCharsets.UTF_8));
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      } else {
        wrong.add(r.status() + ": " + new String(r.body(), StandardCharsets.UTF_8));
      }
    }
  }

  static int running(ServiceProcess service) throws IOException, InterruptedException {
    return service.metrics().lines().filter(l -> l.startsWith("mtor_list_queries_running "))
      .mapToInt(l -> (int) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
      .orElseThrow(() -> new IllegalStateException("no mtor_list_queries_running on /metrics"));
  }

  static double percentile(List<Long> sorted, int p) {
    return sorted.isEmpty() ? 0 : sorted.get(Math.max(0, (int) Math.ceil(p / 100.0 * sorted.size()) - 1)) / 1e6;
  }

  static void pace(long start, int i, long intervalNanos) throws InterruptedException {
    long wait = start + i * intervalNanos - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  /** Creates {@code count} records of tenant A from eight threads at {@link #CREATES_PER_SECOND} at most. */
  static void load(ServiceProcess service, String token, int count) throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        for (int i; (i = next.getAndIncrement()) < count && failures.isEmpty(); ) {
          try {
            pace(start, i);
            String body = record(TENANT_A, i).encode();
            for (int attempt = 0; ; attempt++) {
              HttpResponse<String> created = send(service, "POST", COLLECTION, token, body);
              if (created.statusCode() == 201) {
                break;
              }
              String retry = created.headers().firstValue("retry-after").orElse(null);
              if (retry == null || attempt == 5) {
                failures.add(created.statusCode() + " " + created.body());
                break;
              }
              Thread.sleep(Long.parseLong(retry) * 1000);
            }
          } catch (IOException | InterruptedException e) {
            failures.add(e.toString());
          }
        }
      }, "load-" + t);
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(failures).as("creates that failed").isEmpty();
  }

  /** A record of {@code tenant}; every executionInfo holds an 'x', so the filter matches them all. */
  static JsonObject record(String tenant, int i) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return TestService.body().put("partnerTenantId", tenant)
      .put("managedTenantOperationId", "applyConditionalAccessPolicy-" + (i % 50))
      .put("isSuccess", i % 10 != 0)
      .put("exception", i % 10 == 0 ? "Forbidden: the partner lacks the delegated admin role" : null)
      .put("executionInfo", "Applied baseline policy to " + random.nextInt(500) + " users, exit code 0x0")
      .put("result", new JsonArray().add("policyId=" + Integer.toHexString(i)).add("usersUpdated=12"));
  }

  static HttpResponse<String> send(ServiceProcess service, String method, String path, String token, String json)
    throws IOException, InterruptedException {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(service.url(path)))
      .header("authorization", "Bearer " + token).timeout(Duration.ofSeconds(30));
    if (json != null) {
      builder.header("content-type", "application/json");
    }
    return service.http.send(builder.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
      : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static String get(int port, String path, String token) {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer " + token
      + "\r\nAccept: application/json\r\n\r\n";
  }

  // ---------------------------------------------------------------------------------------------------------------
  // A minimal HTTP/1.1 client on a socket: kept alive, and closable under a request in flight.

  record Response(int status, Map<String, String> headers, byte[] body) {
  }

  static Conn reconnectIfNeeded(Conn conn, int port) throws IOException {
    return conn == null || conn.closed ? new Conn(port) : conn;
  }

  static void closeQuietly(Conn conn) {
    if (conn != null) {
      conn.close();
    }
  }

  static final class Conn implements Closeable {
    private final Socket socket = new Socket();
    private final InputStream in;
    private final OutputStream out;
    volatile boolean closed;

    Conn(int port) throws IOException {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(30_000);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream(), 65_536);
      out = socket.getOutputStream();
    }

    void write(String request) throws IOException {
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    Response exchange(String request) throws IOException {
      try {
        write(request);
        Response response = read();
        if ("close".equalsIgnoreCase(response.headers().get("connection"))) {
          close();
        }
        return response;
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    private Response read() throws IOException {
      String statusLine = line();
      int status = Integer.parseInt(statusLine.substring(9, 12));
      Map<String, String> headers = new HashMap<>();
      for (String header; !(header = line()).isEmpty(); ) {
        int colon = header.indexOf(':');
        headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
      }
      byte[] body;
      if (headers.containsKey("content-length")) {
        int length = Integer.parseInt(headers.get("content-length"));
        body = in.readNBytes(length);
        if (body.length != length) {
          throw new EOFException("the connection closed in a response body");
        }
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        for (int size; (size = Integer.parseInt(line().split(";")[0].trim(), 16)) > 0; ) {
          chunks.write(in.readNBytes(size));
          line();
        }
        while (!line().isEmpty()) {
          // trailers
        }
        body = chunks.toByteArray();
      } else {
        body = in.readAllBytes();
        close();
      }
      return new Response(status, headers, body);
    }

    private String line() throws IOException {
      StringBuilder line = new StringBuilder();
      for (int c; (c = in.read()) != -1; ) {
        if (c == '\n') {
          int n = line.length();
          return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
        }
        line.append((char) c);
      }
      throw new EOFException("the connection closed" + (line.length() > 0 ? " in a line" : ""));
    }

    @Override
    public void close() {
      closed = true;
      try {
        socket.close();
      } catch (IOException ignored) {
        // closed anyway
      }
    }
  }
}
