package io.mtor.readme;

// README:member:begin
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.List;

/** Prints every change of the cluster once: java -cp FAT_JAR Subscriber.java THIS_HOST NODE_HAZELCAST_ADDRESSES */
public class Subscriber {

  public static void main(String[] args) {
    join(args[0], List.of(args[1].split(","))).onSuccess(vertx -> {
      long[] highest = {-1};
      vertx.eventBus().<JsonObject>consumer("managed-tenant-operation-results.cluster.changes", message -> {
        JsonObject event = message.body();
        long sequence = event.getLong("sequence");
        if (sequence <= highest[0]) {
          return; // a repeat, around a leader change
        }
        highest[0] = sequence;
        System.out.println(sequence + " " + event.getString("eventType") + " "
          + event.getJsonObject("resource").getString("id"));
      }).completion().onSuccess(v -> System.out.println("subscribed"));
    }).onFailure(e -> {
      e.printStackTrace();
      System.exit(1);
    });
  }

  /** A Vert.x on this host, clustered as a Hazelcast member with the nodes (each: its host, its Raft port + 100). */
  public static Future<Vertx> join(String host, List<String> nodes) {
    Config hazelcast = new Config().setClusterName("managed-tenant-operation-results");
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    hazelcast.setProperty("hazelcast.logging.type", "slf4j");
    hazelcast.getNetworkConfig().getInterfaces().setEnabled(true).addInterface(host);
    JoinConfig join = hazelcast.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(nodes);
    return Vertx.builder()
      .with(new VertxOptions().setEventBusOptions(new EventBusOptions().setHost(host)))
      .withClusterManager(new HazelcastClusterManager(hazelcast))
      .buildClustered();
  }
}
// README:member:end
