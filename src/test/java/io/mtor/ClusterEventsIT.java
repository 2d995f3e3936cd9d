package io.mtor;

import io.mtor.events.ResultEvents;
import io.mtor.readme.Subscriber;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real nodes (scripts/run) and, in this JVM, a Vert.x that joins their Hazelcast cluster as a member, configured
 * as docs/cluster.md's "Events across the cluster" tells a user to, and consumes the cluster-wide address: every
 * acknowledged create through any node arrives, exactly once while the leader stays, in rising sequence; across a
 * {@code kill -9} of the leader at most repeated (the duplicates are the documented ones, dropped by sequence), none
 * lost. Every node's audit trail still holds each change it applied once: the nodes' own consumers did not become
 * cluster-wide ones.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterEventsIT {

  private static final String COLLECTION = "/managedTenantOperationResults";
  private static final List<String> IDS = List.of("n1", "n2", "n3");

  @TempDir
  Path root;

  private final Map<String, ServiceProcess> nodes = new LinkedHashMap<>();
  private final Map<String, Integer> raftPorts = new LinkedHashMap<>();
  private Vertx member;

  @AfterEach
  void stopAll() throws Exception {
    if (member != null) {
      member.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    for (ServiceProcess node : nodes.values()) {
      node.close();
    }
  }

  @Test
  void aClusteredVertxMemberGetsEveryAcknowledgedChangeOnceInLogOrder() throws Exception {
    StringBuilder peers = new StringBuilder();
    for (String id : IDS) {
      int port = ServiceProcess.freeRaftPort();
      raftPorts.put(id, port);
      peers.append(peers.length() == 0 ? "" : ",").append(id).append("=127.0.0.1:").append(port);
    }
    List<CompletableFuture<ServiceProcess>> starting = new ArrayList<>();
    long startedAt = System.nanoTime();
    for (String id : IDS) {
      starting.add(CompletableFuture.supplyAsync(() -> startNode(id, peers.toString())));
    }
    for (int i = 0; i < IDS.size(); i++) {
      nodes.put(IDS.get(i), starting.get(i).join());
    }
    for (String id : IDS) {
      awaitReady(id, 60);
    }
    System.out.printf("events: three nodes ready %d ms after their start%n",
      TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt));
    String token = nodes.get("n1").token();

    // The member, joined as the docs' Subscriber joins: the nodes' Hazelcast ports are their Raft ports + 100.
    List<String> members = raftPorts.values().stream().map(port -> "127.0.0.1:" + (port + 100)).toList();
    long joining = System.nanoTime();
    member = Subscriber.join("127.0.0.1", members).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    System.out.printf("events: the member joined in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joining));
    List<JsonObject> received = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> consumer = member.eventBus().consumer(ResultEvents.CLUSTER_CHANGES,
      message -> received.add(message.body()));
    consumer.completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

    // A subscription counts from when the leader knows of it: creates until one arrives, then count from there.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String probe = null;
    while (received.isEmpty() && System.nanoTime() < deadline) {
      probe = create(nodes.get("n1"), token);
      Thread.sleep(300);
    }
    assertThat(received).as("the first event on %s", ResultEvents.CLUSTER_CHANGES).isNotEmpty();
    awaitReceived(received, Set.of(probe));
    int counted = received.size();

    // Creates through all three nodes, four at a time: exactly once each, in rising sequence.
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int writer = 0; writer < 4; writer++) {
      int first = writer;
      writers.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 15; i++) {
          acknowledged.add(create(nodes.get(IDS.get((first + i) % 3)), token));
        }
      }));
    }
    writers.forEach(CompletableFuture::join);
    awaitReceived(received, acknowledged);
    List<JsonObject> steady = received.subList(counted, received.size());
    assertThat(steady.stream().map(e -> e.getJsonObject("resource").getString("id")))
      .as("one event per create, no other").containsExactlyInAnyOrderElementsOf(acknowledged);
    assertThat(steady.stream().map(e -> e.getLong("sequence")).toList()).isSorted().doesNotHaveDuplicates();
    assertThat(steady).allSatisfy(e -> assertThat(e.getString("eventType")).isEqualTo("created"));

    // The leader killed while clients create through the other two: every acknowledged create still arrives; what
    // comes twice is a repeat of a sequence already seen, and dropping those leaves rising sequences.
    int beforeKill = received.size();
    String leader = leader();
    List<String> survivors = IDS.stream().filter(n -> !n.equals(leader)).toList();
    Set<String> aroundKill = ConcurrentHashMap.newKeySet();
    AtomicBoolean stop = new AtomicBoolean();
    List<CompletableFuture<Void>> clients = new ArrayList<>();
    for (int client = 0; client < 4; client++) {
      ServiceProcess node = nodes.get(survivors.get(client % 2));
      clients.add(CompletableFuture.runAsync(() -> {
        while (!stop.get()) {
          String id = createOrNull(node, token);
          if (id != null) {
            aroundKill.add(id);
          }
        }
      }));
    }
    Thread.sleep(1000);
    nodes.get(leader).kill();
    long killedAt = System.nanoTime();
    while (System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(4)) {
      Thread.sleep(100);
    }
    stop.set(true);
    clients.forEach(CompletableFuture::join);
    assertThat(aroundKill).as("creates acknowledged around the kill").hasSizeGreaterThan(10);
    awaitReceived(received, aroundKill);
    List<JsonObject> afterKill = received.subList(beforeKill, received.size());
    Map<Long, String> bySequence = new HashMap<>();
    received.subList(0, beforeKill).forEach(e -> bySequence.put(e.getLong("sequence"),
      e.getJsonObject("resource").getString("id")));
    List<Long> kept = new ArrayList<>();
    long highest = received.get(beforeKill - 1).getLong("sequence");
    int repeats = 0;
    for (JsonObject event : afterKill) {
      long sequence = event.getLong("sequence");
      String id = event.getJsonObject("resource").getString("id");
      String before = bySequence.putIfAbsent(sequence, id);
      assertThat(before).as("sequence %d names one change", sequence).isIn(null, id);
      if (sequence <= highest) {
        // A repeat is of a change already delivered, never a new one out of order.
        assertThat(before).as("sequence %d came after %d without having come before", sequence, highest).isNotNull();
        repeats++;
        continue;
      }
      highest = sequence;
      kept.add(sequence);
    }
    assertThat(kept.stream().map(bySequence::get)).as("after dropping repeats, each create once")
      .containsExactlyInAnyOrderElementsOf(aroundKill);
    System.out.printf("events: %d creates around the leader's kill, %d events, %d repeats dropped by sequence%n",
      aroundKill.size(), afterKill.size(), repeats);

    // Each survivor's audit trail: every change once; the member's and the other nodes' consumers took nothing from it.
    acknowledged.addAll(aroundKill);
    for (String node : survivors) {
      Path audit = root.resolve(node).resolve("audit");
      long trailDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!Set.copyOf(AuditTrail.createdIds(audit)).containsAll(acknowledged) && System.nanoTime() < trailDeadline) {
        Thread.sleep(100);
      }
      List<JsonObject> events = AuditTrail.events(audit);
      assertThat(events.stream().map(e -> e.getString("eventId")).toList()).as(node).doesNotHaveDuplicates();
      assertThat(events.stream().map(e -> e.getLong("sequence")).toList()).as(node).isSorted().doesNotHaveDuplicates();
      assertThat(AuditTrail.createdIds(audit)).as(node).doesNotHaveDuplicates().containsAll(acknowledged);
    }
    // The killed leader's trail, as it left it: each change it applied once too.
    List<JsonObject> killed = AuditTrail.events(root.resolve(leader).resolve("audit"));
    assertThat(killed.stream().map(e -> e.getString("eventId")).toList()).as(leader).doesNotHaveDuplicates()
      .hasSizeGreaterThan(counted);
  }

  /** Waits until every id in {@code ids} has an event in {@code received}. */
  private static void awaitReceived(List<JsonObject> received, Set<String> ids) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Set<String> seen = Set.of();
    while (System.nanoTime() < deadline) {
      seen = Set.copyOf(received.stream().map(e -> e.getJsonObject("resource").getString("id")).toList());
      if (seen.containsAll(ids)) {
        return;
      }
      Thread.sleep(100);
    }
    Set<String> missing = new java.util.TreeSet<>(ids);
    missing.removeAll(seen);
    throw new AssertionError(missing.size() + " acknowledged creates never arrived on "
      + ResultEvents.CLUSTER_CHANGES + ": " + missing);
  }

  private static String create(ServiceProcess node, String token) {
    String id = createOrNull(node, token);
    assertThat(id).as("a create through port %d", node.port).isNotNull();
    return id;
  }

  /** The id of the record a create made, or null if it was not acknowledged (a 503 while the leader changes). */
  private static String createOrNull(ServiceProcess node, String token) {
    try {
      HttpResponse<String> answer = node.http.send(HttpRequest.newBuilder(URI.create(node.url(COLLECTION)))
        .header("authorization", "Bearer " + token).header("content-type", "application/json")
        .timeout(Duration.ofSeconds(35)).POST(HttpRequest.BodyPublishers.ofString(TestService.body().encode())).build(),
        HttpResponse.BodyHandlers.ofString());
      return answer.statusCode() == 201 ? new JsonObject(answer.body()).getString("id") : null;
    } catch (Exception e) {
      return null;
    }
  }

  private ServiceProcess startNode(String id, String peers) {
    try {
      return ServiceProcess.start(root.resolve(id), Map.of("CLUSTER_NODE_ID", id, "CLUSTER_PEERS", peers,
        "RATE_LIMIT_PER_SECOND", "0", "LOG_FORMAT", "text"));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private String leader() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      for (ServiceProcess node : nodes.values()) {
        JsonObject health = health(node);
        if (health != null && health.getString("leaderId") != null) {
          return health.getString("leaderId");
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no leader");
  }

  private void awaitReady(String id, int seconds) throws Exception {
    nodes.get(id).awaitReady(seconds);
  }

  private static JsonObject health(ServiceProcess node) {
    return node.readiness();
  }
}
