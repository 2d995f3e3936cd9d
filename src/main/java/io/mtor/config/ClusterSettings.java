package io.mtor.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Cluster mode: the Raft peers (all nodes, this one included) and this node's id. Off while {@code peers} is empty.
 *
 * <p>The nodes' Vert.x instances are also clustered (Hazelcast), for the cluster-wide change events. The ports that
 * needs are derived from each peer's Raft port, so that {@code peers} stays the one list an operator writes: every
 * node's Hazelcast member port is its Raft port plus {@code hazelcastPortOffset} (the same offset on every node, since
 * each node computes the others' ports with its own), and this node's event-bus port is its Raft port plus
 * {@code eventBusPortOffset} (other members learn it from Hazelcast, so it need only be free and reachable).
 *
 * @param nodeId               this node's id among {@code peers}; required when {@code peers} is set
 * @param peers                {@code id=host:port} entries: every node's id and Raft address
 * @param hazelcastPortOffset  added to each peer's Raft port: that peer's Hazelcast port
 * @param eventBusPortOffset   added to this node's Raft port: its Vert.x event-bus port
 * @param snapshotEveryEntries a node writes a snapshot of its store each time it has applied this many log entries
 *                             since its last one, after which the log before the snapshot is deleted
 */
public record ClusterSettings(String nodeId, List<String> peers, int hazelcastPortOffset, int eventBusPortOffset,
                              long snapshotEveryEntries) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern PEER = Pattern.compile("([A-Za-z0-9_-]{1,64})=([^=\\s]+):(\\d{1,5})");

  public static final Setting<ClusterSettings, String> NODE_ID = Setting.optionalText("cluster.nodeId",
    "CLUSTER_NODE_ID", "this node's id in cluster.peers (letters, digits, - and _)", id -> ID.matcher(id).matches(),
    ClusterSettings::nodeId);
  public static final Setting<ClusterSettings, List<String>> PEERS = Setting.list("cluster.peers", "CLUSTER_PEERS",
    "id=host:port entries separated by commas, the Raft addresses of all nodes (e.g. n1=10.0.0.1:7101,n2=10.0.0.2:7101), "
      + "or empty", peer -> PEER.matcher(peer).matches(), ClusterSettings::peers);
  public static final Setting<ClusterSettings, Integer> HAZELCAST_PORT_OFFSET = Setting.integer(
    "cluster.hazelcastPortOffset", "CLUSTER_HAZELCAST_PORT_OFFSET", 100, 1, 60_000,
    ClusterSettings::hazelcastPortOffset);
  public static final Setting<ClusterSettings, Integer> EVENT_BUS_PORT_OFFSET = Setting.integer(
    "cluster.eventBusPortOffset", "CLUSTER_EVENT_BUS_PORT_OFFSET", 200, 1, 60_000,
    ClusterSettings::eventBusPortOffset);

  public static final Setting<ClusterSettings, Long> SNAPSHOT_EVERY_ENTRIES = Setting.longInteger(
    "cluster.snapshotEveryEntries", "CLUSTER_SNAPSHOT_EVERY_ENTRIES", 100_000, 10, 1_000_000_000,
    ClusterSettings::snapshotEveryEntries);

  public ClusterSettings {
    peers = List.copyOf(peers);
    if (!peers.isEmpty()) {
      Map<String, String> addresses = addresses(peers);
      if (addresses.size() != peers.size()) {
        throw new IllegalArgumentException("Invalid configuration " + PEERS + ": expected each id once, got '"
          + String.join(",", peers) + "'");
      }
      if (nodeId == null || !addresses.containsKey(nodeId)) {
        throw new IllegalArgumentException("Invalid configuration " + NODE_ID + ": expected one of the ids in "
          + PEERS + " (" + String.join(", ", addresses.keySet()) + "), got '" + (nodeId == null ? "" : nodeId) + "'");
      }
      int highest = addresses.values().stream().mapToInt(ClusterSettings::port).max().orElseThrow();
      if (highest + Math.max(hazelcastPortOffset, eventBusPortOffset) > 65_535) {
        throw new IllegalArgumentException("Invalid configuration " + HAZELCAST_PORT_OFFSET + " / "
          + EVENT_BUS_PORT_OFFSET + ": a Raft port in " + PEERS + " plus the offset is past 65535 (Raft port "
          + highest + ", offsets " + hazelcastPortOffset + " and " + eventBusPortOffset + ")");
      }
      if (hazelcastPortOffset == eventBusPortOffset) {
        throw new IllegalArgumentException("Invalid configuration " + EVENT_BUS_PORT_OFFSET + ": expected another "
          + "offset than " + HAZELCAST_PORT_OFFSET + ", got " + eventBusPortOffset + " for both");
      }
    }
  }

  public static final Section<ClusterSettings> SECTION = Section.of(v -> new ClusterSettings(v.get(NODE_ID),
    v.get(PEERS), v.get(HAZELCAST_PORT_OFFSET), v.get(EVENT_BUS_PORT_OFFSET), v.get(SNAPSHOT_EVERY_ENTRIES)));

  /** Whether cluster mode is on ({@code cluster.peers} is set). */
  public boolean enabled() {
    return !peers.isEmpty();
  }

  /** Every node's Raft address ({@code host:port}) by id, in the order of {@code peers}. */
  public Map<String, String> addresses() {
    return addresses(peers);
  }

  private static Map<String, String> addresses(List<String> peers) {
    Map<String, String> addresses = new LinkedHashMap<>();
    for (String peer : peers) {
      int eq = peer.indexOf('=');
      addresses.put(peer.substring(0, eq), peer.substring(eq + 1));
    }
    return addresses;
  }

  /** This node's Raft port. */
  public int raftPort() {
    return port(addresses().get(nodeId));
  }

  /** This node's host, as {@code peers} gives it: the interface its Hazelcast member and event bus use. */
  public String host() {
    String address = addresses().get(nodeId);
    return address.substring(0, address.lastIndexOf(':'));
  }

  /** Every node's Hazelcast member address ({@code host:port}, the port derived from its Raft port), in peer order. */
  public List<String> hazelcastMembers() {
    return addresses().values().stream()
      .map(address -> address.substring(0, address.lastIndexOf(':') + 1) + (port(address) + hazelcastPortOffset))
      .toList();
  }

  /** This node's Hazelcast member port. */
  public int hazelcastPort() {
    return raftPort() + hazelcastPortOffset;
  }

  /** This node's Vert.x event-bus port. */
  public int eventBusPort() {
    return raftPort() + eventBusPortOffset;
  }

  private static int port(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }
}
