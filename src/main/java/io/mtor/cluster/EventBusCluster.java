package io.mtor.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.mtor.config.ClusterSettings;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * How a node's Vert.x joins the others' in cluster mode: a Hazelcast member on this node's host at its Raft port plus
 * {@code cluster.hazelcastPortOffset}, finding the others by TCP-IP at theirs (never multicast), and an event bus on its
 * Raft port plus {@code cluster.eventBusPortOffset}. Raft alone decides what is committed; Hazelcast only carries the
 * leader's cluster-wide events ({@link LeaderEvents}) to the members that want them, so it is set up to start fast,
 * stay quiet and let a member go quickly.
 */
public final class EventBusCluster {

  /** The Hazelcast cluster's name: a member of another name (Hazelcast's default is {@code dev}) is not let in. */
  public static final String NAME = "managed-tenant-operation-results";

  private EventBusCluster() {
  }

  /** The cluster manager of this node. */
  public static HazelcastClusterManager manager(ClusterSettings settings) {
    // Read once, when Hazelcast first logs (before the configuration's own property counts): all through SLF4J.
    System.setProperty("hazelcast.logging.type", "slf4j");
    return new HazelcastClusterManager(hazelcast(address(settings.host()), settings.hazelcastPort(),
      settings.hazelcastMembers()));
  }

  /** This node's event bus: its host, its Raft port plus the offset. */
  public static EventBusOptions eventBus(ClusterSettings settings) {
    String host = address(settings.host());
    return new EventBusOptions().setHost(host).setPort(settings.eventBusPort()).setClusterPublicHost(host);
  }

  /**
   * A Hazelcast member configuration for a Vert.x cluster of the service's nodes: bound to {@code host} (an IP
   * address) and {@code port} only, joining {@code members} ({@code host:port} each) by TCP-IP.
   */
  static Config hazelcast(String host, int port, List<String> members) {
    Config config = new Config().setClusterName(NAME);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    // The process's own shutdown hook closes Vert.x, which leaves the cluster in its turn.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // Leaving waits for its partitions to be handed over (default: up to 600 s); the node's stop has 10 s in all.
    config.setProperty("hazelcast.graceful.shutdown.max.wait", "5");
    // Start fast: no wait before joining (default 5 s); if no member answers, this one forms the cluster at once and
    // the others join it as they come. Two that started apart merge within seconds, not the default 5 minutes.
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    // A member killed with kill -9 is let go within seconds (defaults: 60 s without a heartbeat).
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    config.setProperty("hazelcast.socket.bind.any", "false");
    NetworkConfig network = config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface(host);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(1).setMembers(members);
    // What vertx-hazelcast's default-cluster.xml sets for its own structures.
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
      .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    config.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return config;
  }

  /** The IP address of {@code host} (Hazelcast binds to interfaces by address, not by name). */
  private static String address(String host) {
    try {
      return InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("Cluster host '" + host + "' (in cluster.peers) does not resolve", e);
    }
  }
}
