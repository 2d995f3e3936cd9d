package io.mtor.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Cluster mode: the Raft peers (all nodes, this one included) and this node's id. Off while {@code peers} is empty.
 *
 * @param nodeId               this node's id among {@code peers}; required when {@code peers} is set
 * @param peers                {@code id=host:port} entries: every node's id and Raft address
 * @param snapshotEveryEntries a node writes a snapshot of its store each time it has applied this many log entries
 *                             since its last one, after which the log before the snapshot is deleted
 */
public record ClusterSettings(String nodeId, List<String> peers, long snapshotEveryEntries) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern PEER = Pattern.compile("([A-Za-z0-9_-]{1,64})=([^=\\s]+):(\\d{1,5})");

  public static final Setting<ClusterSettings, String> NODE_ID = Setting.optionalText("cluster.nodeId",
    "CLUSTER_NODE_ID", "this node's id in cluster.peers (letters, digits, - and _)", id -> ID.matcher(id).matches(),
    ClusterSettings::nodeId);
  public static final Setting<ClusterSettings, List<String>> PEERS = Setting.list("cluster.peers", "CLUSTER_PEERS",
    "id=host:port entries separated by commas, the Raft addresses of all nodes (e.g. n1=10.0.0.1:7101,n2=10.0.0.2:7101), "
      + "or empty", peer -> PEER.matcher(peer).matches(), ClusterSettings::peers);

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
    }
  }

  public static final Section<ClusterSettings> SECTION = Section.of(v -> new ClusterSettings(v.get(NODE_ID),
    v.get(PEERS), v.get(SNAPSHOT_EVERY_ENTRIES)));

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
    String address = addresses().get(nodeId);
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }
}
