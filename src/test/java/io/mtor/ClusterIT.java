package io.mtor;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real nodes, each started by scripts/run with {@code CLUSTER_NODE_ID} and {@code CLUSTER_PEERS} on loopback:
 * reads after writes across nodes, writes through followers, races through two and three nodes, a nextLink continued
 * on another node, {@code kill -9} of the leader and then of a follower under load, two rounds in a row (nothing
 * acknowledged lost), the restarted nodes catching up, every node's audit trail holding every change once, in log order, line for line the
 * same, and a survivor of a minority answering 503 with Retry-After. Then, with a snapshot every 100 entries: a node
 * down while the others compact their logs past its position, and a node whose data folder is lost, catch up from the
 * leader's snapshot and serve every record, while the others' logs stay short; a node restarted with its data folder
 * resumes from its own applied index.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterIT {

  private static final String COLLECTION = "/managedTenantOperationResults";

  @TempDir
  Path root;

  private final Map<String, ServiceProcess> nodes = new LinkedHashMap<>();
  private String peers;
  /** The node the last kill round killed. */
  private String lastKilled;
  /** Settings every node of the test gets besides its id and the peers. */
  private final Map<String, String> settings = new LinkedHashMap<>(Map.of("RATE_LIMIT_PER_SECOND", "0",
    "LOG_FORMAT", "text"));

  @AfterEach
  void stopAll() throws InterruptedException {
    for (ServiceProcess node : nodes.values()) {
      node.close();
    }
  }

  @Test
  void threeNodesReplicateSurviveTheLeadersDeathAndKeepIdenticalAuditTrails() throws Exception {
    List<String> ids = List.of("n1", "n2", "n3");
    startCluster(ids);
    ServiceProcess n1 = nodes.get("n1");
    String token = n1.token();

    // Created on one node, readable at once on the others; the token of n1's data folder works everywhere.
    HttpResponse<String> created = send(n1, "POST", COLLECTION, TestService.body().encode(), token);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = new JsonObject(created.body()).getString("id");
    for (String other : List.of("n2", "n3")) {
      HttpResponse<String> read = send(nodes.get(other), "GET", COLLECTION + "/" + id, null, token);
      assertThat(read.statusCode()).as(other).isEqualTo(200);
      assertThat(read.headers().firstValue("ETag")).isEqualTo(created.headers().firstValue("ETag"));
      assertThat(new JsonObject(read.body()).getString("createdDateTime"))
        .isEqualTo(new JsonObject(created.body()).getString("createdDateTime"));
    }

    // A write sent to a follower is forwarded to the leader; the client sees the same answers.
    String leader = leader();
    String follower = ids.stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
    HttpResponse<String> viaFollower = send(nodes.get(follower), "POST", COLLECTION, TestService.body().encode(), token);
    assertThat(viaFollower.statusCode()).as(viaFollower.body()).isEqualTo(201);
    String followerId = new JsonObject(viaFollower.body()).getString("id");
    assertThat(send(nodes.get(leader), "GET", COLLECTION + "/" + followerId, null, token).statusCode()).isEqualTo(200);
    HttpResponse<String> duplicate = send(nodes.get(follower), "POST", COLLECTION,
      TestService.body().put("id", followerId).encode(), token);
    assertThat(duplicate.statusCode()).as(duplicate.body()).isEqualTo(409);

    // Races across nodes: the same id created through two nodes at once gives one 201 and one 409; PATCHes of one
    // version through three nodes at once give one 200 and two 412, and every node then holds the same record.
    String raceBody = TestService.body().put("id", "race-" + System.nanoTime()).encode();
    List<CompletableFuture<HttpResponse<String>>> creates = List.of(
      CompletableFuture.supplyAsync(() -> unchecked(n1, "POST", COLLECTION, raceBody, token, null)),
      CompletableFuture.supplyAsync(() -> unchecked(nodes.get("n2"), "POST", COLLECTION, raceBody, token, null)));
    assertThat(creates.stream().map(f -> f.join().statusCode()).sorted()).containsExactly(201, 409);
    String etag = created.headers().firstValue("ETag").orElseThrow();
    List<CompletableFuture<HttpResponse<String>>> patches = new ArrayList<>();
    for (String node : ids) {
      patches.add(CompletableFuture.supplyAsync(() -> unchecked(nodes.get(node), "PATCH", COLLECTION + "/" + id,
        new JsonObject().put("executionInfo", "patched through " + node).encode(), token, etag)));
    }
    assertThat(patches.stream().map(f -> f.join().statusCode()).sorted()).containsExactly(200, 412, 412);
    List<String> patched = new ArrayList<>();
    for (String node : ids) {
      patched.add(send(nodes.get(node), "GET", COLLECTION + "/" + id, null, token).body()
        .replaceAll("http://127.0.0.1:\\d+", ""));
    }
    assertThat(patched.get(1)).isEqualTo(patched.get(0));
    assertThat(patched.get(2)).isEqualTo(patched.get(0));

    // A list started on one node continues on another with the same nextLink.
    HttpResponse<String> page = send(n1, "GET", COLLECTION + "?$top=1", null, token);
    assertThat(page.statusCode()).isEqualTo(200);
    String nextLink = new JsonObject(page.body()).getString("@odata.nextLink");
    assertThat(nextLink).isNotNull();
    String onN3 = nextLink.replace(":" + n1.port + "/", ":" + nodes.get("n3").port + "/");
    HttpResponse<String> next = nodes.get("n3").http.send(HttpRequest.newBuilder(URI.create(onN3))
      .header("authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).GET().build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    assertThat(new JsonObject(next.body()).getJsonArray("value")).hasSize(1);

    // Two rounds in a row: kill -9 the leader, then a follower, each while clients create through all three nodes;
    // each time the node comes back, catches up from the log, and serves every record.
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    acknowledged.add(id);
    acknowledged.add(followerId);
    for (int round = 1; round <= 2; round++) {
      killUnderLoad(ids, round, true, acknowledged, token);
      killUnderLoad(ids, round, false, acknowledged, token);
    }

    // Every node's trail: every change once, in log order, line for line the same as the others'.
    HttpResponse<String> count = send(nodes.get("n3"), "GET", COLLECTION + "?$count=true&$top=0", null, token);
    long records = new JsonObject(count.body()).getLong("@odata.count");
    Map<String, List<String>> trails = new LinkedHashMap<>();
    long trailDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (String node : ids) {
      Path audit = root.resolve(node).resolve("audit");
      while (AuditTrail.events(audit).size() < records && System.nanoTime() < trailDeadline) {
        Thread.sleep(100);
      }
      List<JsonObject> events = AuditTrail.events(audit);
      List<Long> sequences = events.stream().map(e -> e.getLong("sequence")).toList();
      assertThat(sequences).as(node + " sequences").doesNotContainNull().isSorted().doesNotHaveDuplicates();
      assertThat(AuditTrail.createdIds(audit)).as(node).doesNotHaveDuplicates().containsAll(acknowledged)
        .hasSize((int) records);
      trails.put(node, events.stream().map(e -> e.getLong("sequence") + " " + e.getString("eventId")).toList());
    }
    assertThat(trails.get("n2")).isEqualTo(trails.get("n1"));
    assertThat(trails.get("n3")).isEqualTo(trails.get("n1"));

    // Two of three down: the survivor can neither commit a write nor prove a read current; it says so with 503 and
    // Retry-After, within seconds, never a hang.
    nodes.get("n1").kill();
    nodes.get("n2").kill();
    ServiceProcess survivor = nodes.get("n3");
    long asked = System.nanoTime();
    HttpResponse<String> write = send(survivor, "POST", COLLECTION, TestService.body().encode(), token);
    long writeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
    assertThat(write.statusCode()).as(write.body()).isEqualTo(503);
    assertThat(write.headers().firstValue("Retry-After")).isPresent();
    assertThat(writeMillis).isLessThan(15_000);
    HttpResponse<String> read = send(survivor, "GET", COLLECTION + "/" + id, null, token);
    assertThat(read.statusCode()).as(read.body()).isEqualTo(503);
    assertThat(read.headers().firstValue("Retry-After")).isPresent();
    HttpResponse<String> ready = survivor.http.send(HttpRequest.newBuilder(URI.create(survivor.url("/health/ready")))
      .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    System.out.printf("cluster: minority write answered %d after %d ms; ready: %d %s%n", write.statusCode(), writeMillis,
      ready.statusCode(), ready.body());
  }

  @Test
  void nodesBehindTheCompactedLogCatchUpFromTheLeadersSnapshot() throws Exception {
    settings.put("CLUSTER_SNAPSHOT_EVERY_ENTRIES", "100");
    List<String> ids = List.of("n1", "n2", "n3");
    startCluster(ids);
    String leader = leader();
    List<String> followers = ids.stream().filter(n -> !n.equals(leader)).toList();
    String token = nodes.get(leader).token();
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();

    // A follower down while the others write 320 entries, snapshot every 100 and delete their logs before that. It
    // has written part of the trail before.
    String down = followers.get(0);
    create(leader, 40, acknowledged, token);
    awaitTrail(down, 40);
    nodes.get(down).kill();
    create(leader, 320, acknowledged, token);
    for (String node : ids.stream().filter(n -> !n.equals(down)).toList()) {
      awaitCompacted(node);
    }
    nodes.put(down, startNode(down));
    awaitReady(down, 60);
    assertThat(nodes.get(down).output()).contains("Store replaced by snapshot");
    printSnapshotLines(down);
    assertSameRecords(leader, down, acknowledged, token);
    // Its trail: the lines it had, then the snapshot's, then its own again; the leader's line for line.
    assertSameTrail(leader, down, acknowledged.size());

    // A follower whose data folder is lost: a new node with the same id.
    String lost = followers.get(1);
    nodes.get(lost).kill();
    deleteTree(root.resolve(lost));
    create(leader, 240, acknowledged, token);
    awaitCompacted(leader);
    nodes.put(lost, startNode(lost));
    awaitReady(lost, 60);
    assertThat(nodes.get(lost).output()).contains("Store replaced by snapshot");
    printSnapshotLines(lost);
    assertSameRecords(leader, lost, acknowledged, token);
    assertSameTrail(leader, lost, acknowledged.size());
    // A restart with the data folder resumes from the node's own applied index: no snapshot is sent.
    nodes.get(down).kill();
    nodes.put(down, startNode(down));
    awaitReady(down, 60);
    create(leader, 16, acknowledged, token);
    assertSameRecords(leader, down, acknowledged, token);
    assertThat(nodes.get(down).output()).doesNotContain("Store replaced by snapshot");
    long logBytes = logBytes(leader);
    System.out.printf("cluster: %d creates; the leader's Raft log holds %d KiB after compaction%n", acknowledged.size(),
      logBytes >> 10);
    // 576 creates take some 520 KB of log; the leader keeps the entries after its last snapshot and the segments
    // around it (64 KB each at this interval).
    assertThat(logBytes).isLessThan(300 << 10);

    // Every node's trail, the one caught up from the snapshot with no trail of its own included: every change once,
    // in log order, the same line for line.
    for (String node : ids) {
      if (!node.equals(leader)) {
        assertSameTrail(leader, node, acknowledged.size());
      }
    }
    assertThat(trail(lost).get(0)).isEqualTo(trail(leader).get(0));
  }

  /** Waits until the node's trail has {@code changes} lines. */
  private void awaitTrail(String node, int changes) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (trail(node).size() < changes && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(trail(node)).as(node).hasSize(changes);
  }

  /**
   * The two nodes' audit trails, once both have {@code changes} lines, are the same events (sequence and event id) in
   * the same order, each once, in rising sequence.
   */
  private void assertSameTrail(String node, String other, int changes) throws Exception {
    awaitTrail(node, changes);
    awaitTrail(other, changes);
    List<String> expected = trailLines(node);
    List<String> actual = trailLines(other);
    assertThat(trail(node)).as(node).isSorted().doesNotHaveDuplicates();
    assertThat(actual).as(other + "'s trail against " + node + "'s").isEqualTo(expected);
    System.out.printf("cluster: %s's audit trail equals %s's: %d lines, sequences %d to %d%n", other, node,
      actual.size(), trail(other).get(0), trail(other).get(actual.size() - 1));
  }

  private List<String> trailLines(String node) {
    return AuditTrail.events(root.resolve(node).resolve("audit")).stream()
      .map(e -> e.getLong("sequence") + " " + e.getString("eventId")).toList();
  }

  /** {@code count} creates through {@code node}, eight at a time. */
  private void create(String node, int count, Set<String> acknowledged, String token) {
    ServiceProcess process = nodes.get(node);
    for (int done = 0; done < count; done += 8) {
      List<CompletableFuture<HttpResponse<String>>> creates = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        creates.add(CompletableFuture.supplyAsync(() -> unchecked(process, "POST", COLLECTION,
          TestService.body().encode(), token, null)));
      }
      for (CompletableFuture<HttpResponse<String>> create : creates) {
        HttpResponse<String> answer = create.join();
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
        acknowledged.add(new JsonObject(answer.body()).getString("id"));
      }
    }
  }

  /** Waits until the node has a snapshot and its log no longer starts at the first entry. */
  private void awaitCompacted(String node) throws Exception {
    Path raft = root.resolve(node).resolve("raft");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      List<String> names = fileNames(raft);
      if (names.stream().anyMatch(n -> n.matches("snapshot\\.\\d+_\\d+"))
        && names.stream().noneMatch(n -> n.startsWith("log_0-") || n.equals("log_inprogress_0"))) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(node + " did not compact its log: " + fileNames(raft));
  }

  private static List<String> fileNames(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
      return files.filter(java.nio.file.Files::isRegularFile).map(f -> f.getFileName().toString()).toList();
    }
  }

  /** The bytes of the node's Raft log segments. */
  private long logBytes(String node) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(root.resolve(node).resolve("raft"))) {
      return files.filter(f -> f.getFileName().toString().startsWith("log_")).mapToLong(f -> f.toFile().length()).sum();
    }
  }

  /** Every acknowledged record reads the same (body and ETag) on both nodes; 16 ids at a time. */
  private void assertSameRecords(String node, String other, Set<String> acknowledged, String token) {
    List<String> all = List.copyOf(acknowledged);
    for (int from = 0; from < all.size(); from += 16) {
      List<CompletableFuture<List<HttpResponse<String>>>> reads = new ArrayList<>();
      for (String id : all.subList(from, Math.min(all.size(), from + 16))) {
        reads.add(CompletableFuture.supplyAsync(() -> List.of(
          unchecked(nodes.get(node), "GET", COLLECTION + "/" + id, token),
          unchecked(nodes.get(other), "GET", COLLECTION + "/" + id, token))));
      }
      for (CompletableFuture<List<HttpResponse<String>>> read : reads) {
        HttpResponse<String> a = read.join().get(0);
        HttpResponse<String> b = read.join().get(1);
        assertThat(b.statusCode()).as(other + " " + b.uri()).isEqualTo(200);
        assertThat(b.headers().firstValue("ETag")).isEqualTo(a.headers().firstValue("ETag"));
        assertThat(b.body().replaceAll("http://127.0.0.1:\\d+", ""))
          .isEqualTo(a.body().replaceAll("http://127.0.0.1:\\d+", ""));
      }
    }
  }

  private static HttpResponse<String> unchecked(ServiceProcess node, String method, String path, String token) {
    try {
      return send(node, method, path, null, token);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The node's log lines about snapshots. */
  private void printSnapshotLines(String node) {
    nodes.get(node).output().lines().filter(line -> line.contains("Snapshot at") || line.contains("Store replaced"))
      .forEach(line -> System.out.println("cluster: " + node + ": " + line));
  }

  private List<Long> trail(String node) {
    return AuditTrail.events(root.resolve(node).resolve("audit")).stream().map(e -> e.getLong("sequence")).toList();
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.delete(file);
      }
    }
  }

  /**
   * Clients create through all three nodes; the leader (or a follower) is killed with {@code kill -9}; writes must
   * work again, every 201 must be readable on both survivors, and the node, restarted, must serve every record.
   */
  private void killUnderLoad(List<String> ids, int round, boolean leader, Set<String> acknowledged, String token)
    throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong killedAt = new AtomicLong();
    AtomicLong firstWriteAfterKill = new AtomicLong();
    List<String> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicInteger unavailable = new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> writers = new ArrayList<>();
    for (String writerNode : ids) {
      Thread writer = new Thread(() -> {
        ServiceProcess node = nodes.get(writerNode);
        while (!stop.get() && node.process.isAlive()) {
          try {
            boolean afterKill = killedAt.get() > 0;
            HttpResponse<String> answer = send(node, "POST", COLLECTION, TestService.body().encode(), token);
            if (answer.statusCode() == 201) {
              acknowledged.add(new JsonObject(answer.body()).getString("id"));
              // Only a request sent after the kill shows that writes work again.
              if (afterKill) {
                firstWriteAfterKill.compareAndSet(0, System.nanoTime());
              }
            } else if (answer.statusCode() == 503 && answer.headers().firstValue("Retry-After").isPresent()) {
              unavailable.incrementAndGet();
            } else {
              unexpected.add(writerNode + ": " + answer.statusCode() + " " + answer.body());
            }
          } catch (Exception e) {
            // the node died under the request: expected for the killed node's clients
          }
        }
      });
      writer.start();
      writers.add(writer);
    }
    Thread.sleep(1500);
    String leaderId = leader();
    // The follower killed is not the node just restarted (when there is a choice): a node with the longer history.
    String dead = leader ? leaderId : ids.stream().filter(n -> !n.equals(leaderId))
      .min(java.util.Comparator.comparing((String n) -> n.equals(lastKilled))).orElseThrow();
    lastKilled = dead;
    killedAt.set(System.nanoTime());
    nodes.get(dead).kill();
    List<String> survivors = ids.stream().filter(n -> !n.equals(dead)).toList();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (firstWriteAfterKill.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(firstWriteAfterKill.get()).as("a write succeeded after %s died", dead).isPositive();
    System.out.printf("cluster: round %d, %s %s killed; first write acknowledged after %d ms%n", round,
      leader ? "leader" : "follower", dead, TimeUnit.NANOSECONDS.toMillis(firstWriteAfterKill.get() - killedAt.get()));
    Thread.sleep(1000);
    stop.set(true);
    for (Thread writer : writers) {
      writer.join(30_000);
    }
    assertThat(unexpected).as("answers other than 201 and 503 with Retry-After").isEmpty();
    System.out.printf("cluster: %d creates acknowledged so far, %d answered 503 + Retry-After%n", acknowledged.size(),
      unavailable.get());
    assertThat(acknowledged).hasSizeGreaterThan(10);
    for (String survivor : survivors) {
      assertAllReadable(survivor, acknowledged, token);
    }
    nodes.put(dead, startNode(dead));
    awaitReady(dead, 30);
    assertAllReadable(dead, acknowledged, token);
  }

  /** Every id answers 200 on the node; 16 GETs at a time, so that the rounds stay short as the records add up. */
  private void assertAllReadable(String node, Set<String> acknowledged, String token) {
    ServiceProcess process = nodes.get(node);
    List<String> all = List.copyOf(acknowledged);
    for (int from = 0; from < all.size(); from += 16) {
      List<CompletableFuture<HttpResponse<String>>> reads = new ArrayList<>();
      for (String ack : all.subList(from, Math.min(all.size(), from + 16))) {
        reads.add(process.http.sendAsync(HttpRequest.newBuilder(URI.create(process.url(COLLECTION + "/" + ack)))
          .header("authorization", "Bearer " + token).timeout(Duration.ofSeconds(35)).GET().build(),
          HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> read : reads) {
        HttpResponse<String> answer = read.join();
        assertThat(answer.statusCode()).as(node + " " + answer.uri()).isEqualTo(200);
      }
    }
  }

  /** Starts the nodes at once (a node answers only once a majority is up: it needs the cluster's shared keys). */
  private void startCluster(List<String> ids) throws Exception {
    peers = ServiceProcess.clusterPeers(ids);
    List<CompletableFuture<ServiceProcess>> starting = new ArrayList<>();
    for (String id : ids) {
      starting.add(CompletableFuture.supplyAsync(() -> startNode(id)));
    }
    for (int i = 0; i < ids.size(); i++) {
      nodes.put(ids.get(i), starting.get(i).join());
    }
    for (String id : ids) {
      awaitReady(id, 60);
    }
  }

  private ServiceProcess startNode(String id) {
    try {
      Map<String, String> env = new LinkedHashMap<>(settings);
      env.put("CLUSTER_NODE_ID", id);
      env.put("CLUSTER_PEERS", peers);
      return ServiceProcess.start(root.resolve(id), env);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The leader's id, as the nodes' readiness answers name it. */
  private String leader() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      for (ServiceProcess node : nodes.values()) {
        if (node.process.isAlive()) {
          JsonObject health = health(node);
          if (health != null && health.getString("leaderId") != null) {
            return health.getString("leaderId");
          }
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no leader");
  }

  private void awaitReady(String id, int seconds) throws Exception {
    JsonObject health = nodes.get(id).awaitReady(seconds);
    assertThat(health.getString("nodeId")).isEqualTo(id);
    assertThat(health.getString("role")).isIn("leader", "follower");
    assertThat(health.getLong("appliedIndex")).isNotNull();
  }

  private static JsonObject health(ServiceProcess node) {
    return node.readiness();
  }

  private static HttpResponse<String> send(ServiceProcess node, String method, String path, String body, String token)
    throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.url(path)))
      .header("authorization", "Bearer " + token).timeout(Duration.ofSeconds(35));
    if (body != null) {
      request.header("content-type", "application/json");
    }
    return node.http.send(request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
      : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> unchecked(ServiceProcess node, String method, String path, String body,
                                                String token, String ifMatch) {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.url(path)))
        .header("authorization", "Bearer " + token).header("content-type", "application/json")
        .timeout(Duration.ofSeconds(35)).method(method, HttpRequest.BodyPublishers.ofString(body));
      if (ifMatch != null) {
        request.header("If-Match", ifMatch);
      }
      return node.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
