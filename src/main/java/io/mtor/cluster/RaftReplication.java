package io.mtor.cluster;

import io.mtor.app.Command;
import io.mtor.app.Replication;
import io.mtor.app.ResultsApplication;
import io.mtor.app.Stored;
import io.mtor.config.ClusterSettings;
import io.mtor.domain.OperationResults;
import io.mtor.domain.ResultException;
import io.mtor.events.ResultEvents;
import io.mtor.store.OperationResultStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * This node's part in the cluster: a Ratis server (its log under {@code DATA_DIR/raft}, the {@link CommandStateMachine}
 * applying committed entries to the local store) and a Ratis client inside the node, which sends every write to the
 * leader (wherever it is) and every read's ReadIndex request to this node's own server.
 */
public final class RaftReplication implements Replication {

  private static final Logger LOG = LoggerFactory.getLogger(RaftReplication.class);
  /** One group: the service's. Its id is fixed, so that every node (and an operator's Ratis tool) names the same group. */
  public static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(
    UUID.nameUUIDFromBytes("managed-tenant-operation-results".getBytes(StandardCharsets.UTF_8)));
  /** The folder of the Raft log and its metadata, under the data folder. */
  public static final String RAFT_DIR = "raft";

  private final Vertx vertx;
  private final ClusterSettings settings;
  private final RaftPeerId self;
  private final CommandStateMachine stateMachine;
  private final RaftServer server;
  private final RaftClient client;
  /** The longest a write or a read waits for the cluster (a leader, a majority) before it is answered with a 503. */
  static final long MAX_WAIT_MILLIS = 5_000;
  /** A follower that has heard nothing from the leader for a random time between these two starts an election. */
  static final TimeDuration ELECTION_TIMEOUT_MIN = TimeDuration.valueOf(300, TimeUnit.MILLISECONDS);
  static final TimeDuration ELECTION_TIMEOUT_MAX = TimeDuration.valueOf(600, TimeUnit.MILLISECONDS);
  /** Bounds of a log segment's size, and what a log entry takes (a create's command and Ratis's framing). */
  static final long MIN_SEGMENT_BYTES = 64 << 10;
  static final long MAX_SEGMENT_BYTES = 32 << 20;
  static final long ENTRY_BYTES = 900;
  /** The longest the audit writer may take to complete its trail from an installed snapshot. */
  static final long TRAIL_INSTALL_MILLIS = TimeUnit.MINUTES.toMillis(10);
  /** The node's Ratis client tries a failed request again after this long. */
  static final long CLIENT_RETRY_MILLIS = 50;
  /** How long a write or a read may wait for the cluster before it is answered with a 503. */
  private final long timeoutMillis;
  private volatile boolean caughtUp;
  /** How often a node checks whether it leads while its store holds up its applying. */
  static final long STALL_CHECK_MILLIS = 1_000;
  private long stallWatch = -1;
  private volatile boolean handingOver;
  private final ReadBatch reads;

  private RaftReplication(Vertx vertx, ClusterSettings settings, CommandStateMachine stateMachine, RaftServer server,
                          RaftClient client, long timeoutMillis) {
    this.vertx = vertx;
    this.settings = settings;
    this.self = RaftPeerId.valueOf(settings.nodeId());
    this.stateMachine = stateMachine;
    this.server = server;
    this.client = client;
    this.timeoutMillis = timeoutMillis;
    this.reads = new ReadBatch(this::readIndex, timeoutMillis);
  }

  /**
   * Starts this node's Raft server and client (blocking: run it on a worker). Entries are applied only once
   * {@link #attach} has handed over the application service.
   *
   * @param requestTimeoutMillis the service's request timeout: a write or read waiting for the cluster is answered
   *                             with a 503 well before it
   * @param auditDir             the node's audit trail, whose writer (deployed before this starts) completes it from
   *                             an installed snapshot; null when the audit is off
   */
  public static RaftReplication start(Vertx vertx, ClusterSettings settings, OperationResultStore store, Path dataDir,
                                      boolean devKey, long requestTimeoutMillis, Path auditDir) throws IOException {
    List<RaftPeer> peers = new ArrayList<>();
    for (Map.Entry<String, String> peer : settings.addresses().entrySet()) {
      peers.add(RaftPeer.newBuilder().setId(peer.getKey()).setAddress(peer.getValue()).build());
    }
    RaftGroup group = RaftGroup.valueOf(GROUP_ID, peers);
    Path raftDir = dataDir.resolve(RAFT_DIR);
    Files.createDirectories(raftDir);

    RaftProperties properties = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(properties, List.of(raftDir.toFile()));
    GrpcConfigKeys.Server.setPort(properties, settings.raftPort());
    // Reads from any node see every acknowledged write: ReadIndex, answered by the node asked, not only the leader.
    RaftServerConfigKeys.Read.setOption(properties, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    // The leader answers a ReadIndex from its lease (a majority heard from it within 90% of the minimum election
    // timeout: no other leader can have been elected since) instead of a heartbeat round per request; followers ask
    // the leader. Safe as long as the nodes' clocks run at the same rate, not necessarily in sync.
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(properties, true);
    RaftServerConfigKeys.Read.setTimeout(properties, TimeDuration.valueOf(requestTimeoutMillis, TimeUnit.MILLISECONDS));
    snapshots(properties, settings.snapshotEveryEntries());
    // Failover: a follower that hears nothing from the leader for a random 300-600 ms starts an election (Ratis's
    // default is 150-300 ms, which elects needlessly when a loaded machine stalls a JVM for that long; the leader's
    // heartbeat goes every 150 ms, half the minimum). With the pre-vote round and the new leader's first commit, writes
    // work again about a second after the leader dies (docs/cluster.md has the measured figures).
    RaftServerConfigKeys.Rpc.setTimeoutMin(properties, ELECTION_TIMEOUT_MIN);
    RaftServerConfigKeys.Rpc.setTimeoutMax(properties, ELECTION_TIMEOUT_MAX);

    CommandStateMachine stateMachine = new CommandStateMachine(dataDir, devKey, store, auditDir,
      auditDir == null ? null : trailInstaller(vertx));
    RaftServer server = RaftServer.newBuilder().setGroup(group).setProperties(properties)
      .setServerId(RaftPeerId.valueOf(settings.nodeId())).setStateMachine(stateMachine)
      .setOption(RaftStorage.StartupOption.RECOVER).build();
    server.start();
    stateMachine.started();

    // Within the request timeout, and short: during an election a client gets 503 + Retry-After in seconds, not a
    // request hanging until the new leader is there.
    long timeout = Math.max(1000, Math.min(MAX_WAIT_MILLIS, requestTimeoutMillis - 2000));
    RaftProperties clientProperties = new RaftProperties();
    // A dead leader's connection fails at once; a live one answers well within a second on loopback or a LAN. A
    // request that fails (no leader yet, the leader just died) is tried again every 50 ms, on another node if the
    // one asked is not the leader, until the wait above is over: the first try after the election succeeds.
    RaftClientConfigKeys.Rpc.setRequestTimeout(clientProperties, TimeDuration.valueOf(1, TimeUnit.SECONDS));
    RaftClient client = RaftClient.newBuilder().setProperties(clientProperties).setRaftGroup(group)
      .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep((int) (timeout / CLIENT_RETRY_MILLIS),
        TimeDuration.valueOf(CLIENT_RETRY_MILLIS, TimeUnit.MILLISECONDS)))
      .build();
    LOG.info("Cluster node {} of {} (Raft on port {}, log in {})", settings.nodeId(), settings.addresses().keySet(),
      settings.raftPort(), raftDir.toAbsolutePath().normalize());
    return new RaftReplication(vertx, settings, stateMachine, server, client, timeout);
  }

  /**
   * Log compaction: a snapshot every {@code every} applied entries (see {@link Snapshots}), then the log up to it is
   * deleted, whether or not every follower has it (a follower behind it is sent the snapshot). Only whole segments are
   * deleted, so a segment holds about half an interval's entries (0.9 KB each; Ratis's 32 MB at most): each snapshot
   * then has closed segments before it. Snapshots are not taken at shutdown: the store resumes from its applied index.
   */
  private static void snapshots(RaftProperties properties, long every) {
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, every);
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(properties, false);
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(properties, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
    RaftServerConfigKeys.Log.setPurgeGap(properties, 1);
    RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf(
      Math.max(MIN_SEGMENT_BYTES, Math.min(MAX_SEGMENT_BYTES, every * ENTRY_BYTES / 2))));
  }

  /**
   * Asks the node's audit writer to complete its trail with an installed snapshot's
   * ({@link ResultEvents#AUDIT_INSTALL}) and waits for it: the state machine applies the log after the snapshot only then, so the writer's next events
   * follow the snapshot's trail.
   */
  static Snapshots.TrailInstaller trailInstaller(Vertx vertx) {
    return (snapshotTrail, index) -> {
      JsonObject request = new JsonObject().put("dir", snapshotTrail.toString()).put("index", index);
      try {
        vertx.eventBus().request(ResultEvents.AUDIT_INSTALL, request,
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(TRAIL_INSTALL_MILLIS))
          .toCompletionStage().toCompletableFuture().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted while the audit trail took the snapshot's", e);
      } catch (ExecutionException e) {
        throw new IOException("The audit trail could not take the snapshot's at index " + index, e.getCause());
      }
    };
  }

  /**
   * Completes once this node holds the cluster's shared keys (see {@link ClusterKeys}): at once if it already does,
   * else after it has proposed a set and applied the first set the log carries. Waits as long as it takes a majority
   * to come up.
   */
  public Future<Void> sharedKeys(Path dataDir) {
    if (ClusterKeys.present(dataDir)) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    // The keys arrive when the first keys entry of the log is applied here: perhaps long before this node's own
    // proposal (a new node replaying an old log), whose entry waits behind commands that are applied only once the
    // service has started. So the folder is watched, not the proposal's own entry.
    vertx.setPeriodic(100, timer -> {
      if (ClusterKeys.present(dataDir)) {
        vertx.cancelTimer(timer);
        done.tryComplete();
      }
    });
    proposeKeys(done);
    return done.future();
  }

  private void proposeKeys(Promise<Void> done) {
    client.async().send(Message.valueOf(ClusterKeys.propose().encode())).whenComplete((reply, e) -> {
      if (done.future().isComplete() || (e == null && reply.isSuccess())) {
        return;
      }
      LOG.info("Waiting for a majority of {} to share the cluster's keys ({})", settings.addresses().keySet(),
        e != null ? e.getMessage() : reply.getException());
      vertx.setTimer(500, t -> proposeKeys(done));
    });
  }

  /** Whether this node is the Raft leader now (as far as it knows: a deposed leader learns it a moment late). */
  public boolean isLeader() {
    try {
      return server.getDivision(GROUP_ID).getInfo().isLeader();
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code listener} is told (on a Ratis thread) when this node may have become, or stopped being, the leader. */
  public void roleListener(Runnable listener) {
    stateMachine.roleListener(listener);
  }

  /** Hands over the application service: the state machine applies entries from now on. */
  public void attach(ResultsApplication results) {
    stateMachine.attach(results);
    catchUp();
    stallWatch = vertx.setPeriodic(STALL_CHECK_MILLIS, t -> handOverIfStalled());
  }

  /**
   * A leader whose store holds up its applying (see {@link LogApplier}) answers no write: the entries commit on the
   * others, but the leader replies only once it has applied them. So it hands the leadership to another node, which
   * answers writes meanwhile; should it be elected again while still held up, it hands it over again.
   */
  private void handOverIfStalled() {
    String stalled = stateMachine.stalled();
    if (stalled == null || handingOver || !isLeader()) {
      return;
    }
    handingOver = true;
    vertx.executeBlocking(() -> {
      for (String peer : settings.addresses().keySet()) {
        if (peer.equals(settings.nodeId())) {
          continue;
        }
        try {
          RaftClientReply reply = client.admin().transferLeadership(RaftPeerId.valueOf(peer), self, MAX_WAIT_MILLIS);
          if (reply.isSuccess()) {
            LOG.warn("Leadership handed to {}: this node's store cannot take the log's next entry ({})", peer, stalled);
            return true;
          }
          LOG.warn("Handing the leadership to {} failed: {}", peer, reply.getException());
        } catch (IOException | RuntimeException e) {
          LOG.warn("Handing the leadership to {} failed: {}", peer, e.toString());
        }
      }
      return false;
    }, false).onComplete(done -> handingOver = false);
  }

  /** A linearizable read once a leader is known: when it is through, this node has applied what was committed. */
  private void catchUp() {
    read().whenComplete((v, e) -> {
      if (e == null) {
        caughtUp = true;
        LOG.info("Caught up with the cluster at index {}", stateMachine.appliedIndex());
      } else {
        LOG.info("Not caught up with the cluster yet: {}", e.toString());
        vertx.setTimer(200, t -> catchUp());
      }
    });
  }

  @Override
  public Future<Stored> submit(Command command) {
    Context context = vertx.getOrCreateContext();
    CompletableFuture<Stored> result = client.async().send(Message.valueOf(Command.toJson(command).encode()))
      .thenCompose(reply -> {
        if (!reply.isSuccess()) {
          throw new CompletionException(reply.getException());
        }
        JsonObject answer = new JsonObject(reply.getMessage().getContent().toStringUtf8());
        // The leader applied it; the answer waits until this node has too (a read here must find it).
        return stateMachine.applied(reply.getLogIndex()).thenApply(v -> answer);
      })
      .thenApply(RaftReplication::stored)
      .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
    return Future.fromCompletionStage(result, context).recover(e -> Future.failedFuture(failure(e)));
  }

  private static Stored stored(JsonObject answer) {
    if (!answer.getBoolean("ok")) {
      throw ResultException.of(ResultException.Kind.valueOf(answer.getString("kind")), answer.getString("message"));
    }
    byte[] json = answer.getString("json").getBytes(StandardCharsets.UTF_8);
    return new Stored(json, OperationResults.etag(json), answer.getBoolean("replayed"));
  }

  /** The command's own failure as it is; anything else (no leader, no majority, timeout) a 503. */
  private ResultException failure(Throwable e) {
    Throwable cause = e;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ResultException result) {
      return result;
    }
    LOG.warn("The cluster did not take a request in time: {}", cause.toString());
    return ResultException.unavailable("The cluster has no leader that can take this request now (an election, or "
      + "too few nodes up); retry in a second.");
  }

  @Override
  public Future<Void> readable() {
    Context context = vertx.getOrCreateContext();
    return Future.fromCompletionStage(read(), context).recover(e -> Future.failedFuture(failure(e)));
  }

  @Override
  public void awaitReadable() {
    try {
      read().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ResultException.unavailable("Interrupted while catching up with the cluster.");
    } catch (ExecutionException e) {
      throw failure(e);
    }
  }

  /**
   * Completes once this node has applied every entry committed before the call: reads arriving together share one
   * ReadIndex request (see {@link ReadBatch}).
   */
  private CompletableFuture<Void> read() {
    return reads.join().orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * A ReadIndex request to this node's own server. Unordered: Ratis orders a client's ordered requests per client
   * across servers, so an ordered read sent here after a write sent to the leader would wait forever for that write
   * to arrive here too.
   */
  private CompletableFuture<Void> readIndex() {
    return client.async().sendReadOnlyUnordered(Message.EMPTY, self).thenAccept(reply -> {
      if (!reply.isSuccess()) {
        throw new CompletionException(reply.getException());
      }
    });
  }

  /** What this node knows of the cluster: id, role, leader, term, commit and applied index, whether ready. */
  public JsonObject status() {
    JsonObject status = new JsonObject().put("nodeId", settings.nodeId());
    try {
      RaftServer.Division division = server.getDivision(GROUP_ID);
      DivisionInfo info = division.getInfo();
      RaftPeerId leader = info.getLeaderId();
      status.put("role", info.isLeader() ? "leader" : info.isFollower() ? "follower"
          : info.getCurrentRole().name().toLowerCase(java.util.Locale.ROOT))
        .put("leaderId", leader == null ? null : leader.toString())
        .put("term", info.getCurrentTerm())
        .put("commitIndex", division.getRaftLog().getLastCommittedIndex())
        .put("appliedIndex", stateMachine.appliedIndex())
        .put("leaderChanges", stateMachine.leaderChanges())
        .put("caughtUp", caughtUp);
      String stalled = stateMachine.stalled();
      if (stalled != null) {
        status.put("stalled", stalled);
      }
      status.put("ready", caughtUp && stalled == null && leader != null && (info.isLeader() || info.isFollower()));
    } catch (IOException | RuntimeException e) {
      status.put("ready", false).put("reason", e.getMessage());
    }
    return status;
  }

  /** Stops the client, then the server (blocking). */
  public void close() {
    if (stallWatch >= 0) {
      vertx.cancelTimer(stallWatch);
    }
    stateMachine.stopApplying();
    try {
      client.close();
    } catch (IOException e) {
      LOG.warn("Closing the Raft client: {}", e.getMessage());
    }
    try {
      server.close();
    } catch (IOException e) {
      LOG.warn("Closing the Raft server: {}", e.getMessage());
    }
  }
}
