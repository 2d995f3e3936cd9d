package io.mtor;

import io.mtor.cluster.RaftReplication;
import io.vertx.core.json.JsonObject;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node whose own store refuses the log's entries (its disk below the free-space reserve) is held up, not skipped
 * past: while the others go on, it hands the leadership over (writes through the cluster keep being answered), reports itself not
 * ready, stops cleanly, and once restarted with room it has every change the others have, audited once.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ClusterStallIT {

  private static final String COLLECTION = "/managedTenantOperationResults";
  private static final List<String> IDS = List.of("n1", "n2", "n3");
  /** A reserve no disk has free: every create and update on that node's store is refused. */
  private static final String FULL = "200000000000000";

  @TempDir
  Path root;

  private final Map<String, ServiceProcess> nodes = new LinkedHashMap<>();
  private String peers;

  @AfterEach
  void stopAll() throws Exception {
    for (ServiceProcess node : nodes.values()) {
      node.close();
    }
  }

  @Test
  void aNodeWhoseStoreRefusesEntriesWaitsHandsOverTheLeadershipAndCatchesUpAfterARestart() throws Exception {
    peers = ServiceProcess.clusterPeers(IDS);
    List<CompletableFuture<ServiceProcess>> starting = new ArrayList<>();
    for (String id : IDS) {
      starting.add(CompletableFuture.supplyAsync(() -> start(id, id.equals("n3") ? FULL : null)));
    }
    for (int i = 0; i < IDS.size(); i++) {
      nodes.put(IDS.get(i), starting.get(i).join());
    }
    for (String id : IDS) {
      awaitReady(id, 60);
    }
    String token = nodes.get("n1").token();
    // n3 leads when the writes begin (Ratis's own leadership transfer, as an operator's tool would ask for it): the
    // first entry it cannot apply must make it hand the leadership over, or no write is answered.
    String leader = health(nodes.get("n1")).getString("leaderId");
    if (!"n3".equals(leader)) {
      try (RaftClient admin = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group()).build()) {
        RaftClientReply moved = admin.admin().transferLeadership(RaftPeerId.valueOf("n3"), RaftPeerId.valueOf(leader),
          10_000);
        assertThat(moved.isSuccess()).as("leadership moved to n3: %s", moved).isTrue();
      }
    }
    long leading = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!"n3".equals(health(nodes.get("n3")).getString("role")) && System.nanoTime() < leading) {
      Thread.sleep(100);
    }
    assertThat(health(nodes.get("n3")).getString("role")).as("n3 leads before the writes").isEqualTo("leader");

    // The full node's own create: refused at once, as a single node refuses it, and nothing enters the log.
    HttpResponse<String> refused = post(nodes.get("n3"), token);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(507);
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code")).isEqualTo("insufficientStorage");

    // Creates through the healthy nodes: all acknowledged (the full leader hands the leadership over at the first).
    List<String> acknowledged = new ArrayList<>();
    long slowest = 0;
    for (int i = 0; i < 30; i++) {
      long began = System.nanoTime();
      HttpResponse<String> created = post(nodes.get(i % 2 == 0 ? "n1" : "n2"), token);
      slowest = Math.max(slowest, System.nanoTime() - began);
      assertThat(created.statusCode()).as("create %d: %s", i, created.body()).isEqualTo(201);
      acknowledged.add(new JsonObject(created.body()).getString("id"));
    }
    System.out.printf("stall: 30 creates acknowledged, the slowest in %d ms%n", TimeUnit.NANOSECONDS.toMillis(slowest));

    JsonObject held = health(nodes.get("n3"));
    assertThat(held.getString("status")).as(held.encode()).isEqualTo("DOWN");
    assertThat(held.getString("stalled")).as("why, in the readiness body").contains("no room");
    assertThat(held.getString("role")).as("a node held up does not lead").isNotEqualTo("leader");
    assertThat(nodes.get("n3").output()).contains("waits, and the entries after it").contains("Leadership handed to");
    long n3Applied = held.getLong("appliedIndex");
    long othersApplied = health(nodes.get("n1")).getLong("appliedIndex");
    assertThat(n3Applied).as("n3 applied nothing its store refused").isLessThan(othersApplied);

    // Stopped while held up: a clean stop, nothing noted past the entry that waited.
    assertThat(nodes.get("n3").terminate(20)).as(nodes.get("n3").output()).isZero();
    nodes.put("n3", start("n3", null));
    awaitReady("n3", 60);
    assertThat(nodes.get("n3").output()).doesNotContain("not closed cleanly");
    for (String id : acknowledged) {
      HttpResponse<String> read = get(nodes.get("n3"), COLLECTION + "/" + id, token);
      assertThat(read.statusCode()).as("record %s on n3", id).isEqualTo(200);
    }
    Path trail = root.resolve("n3").resolve("audit");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!AuditTrail.createdIds(trail).containsAll(acknowledged) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(AuditTrail.createdIds(trail)).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(
      AuditTrail.createdIds(root.resolve("n1").resolve("audit")));
    assertThat(AuditTrail.createdIds(trail)).containsAll(acknowledged);
  }

  private RaftGroup group() {
    List<RaftPeer> members = new ArrayList<>();
    for (String member : peers.split(",")) {
      String[] idAndAddress = member.split("=", 2);
      members.add(RaftPeer.newBuilder().setId(idAndAddress[0]).setAddress(idAndAddress[1]).build());
    }
    return RaftGroup.valueOf(RaftReplication.GROUP_ID, members);
  }

  private ServiceProcess start(String id, String reserve) {
    Map<String, String> env = new HashMap<>(Map.of("CLUSTER_NODE_ID", id, "CLUSTER_PEERS", peers,
      "RATE_LIMIT_PER_SECOND", "0", "LOG_FORMAT", "text", "STORE_ENTRIES", "20000"));
    if (reserve != null) {
      env.put("STORE_MIN_FREE_DISK_BYTES", reserve);
    }
    try {
      return ServiceProcess.start(root.resolve(id), env);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse<String> post(ServiceProcess node, String token) throws Exception {
    return node.http.send(HttpRequest.newBuilder(URI.create(node.url(COLLECTION)))
      .header("authorization", "Bearer " + token).header("content-type", "application/json")
      .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(TestService.body().encode())).build(),
      HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(ServiceProcess node, String path, String token) throws Exception {
    return node.http.send(HttpRequest.newBuilder(URI.create(node.url(path))).header("authorization", "Bearer " + token)
      .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private void awaitReady(String id, int seconds) throws Exception {
    nodes.get(id).awaitReady(seconds);
  }

  private static JsonObject health(ServiceProcess node) {
    return node.readiness();
  }
}
