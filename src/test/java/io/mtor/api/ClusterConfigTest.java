package io.mtor.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Cluster mode's settings: on only with peers, a node id among them, each id once; the derived operations port. */
class ClusterConfigTest {

  private static final String PEERS = "n1=127.0.0.1:7101,n2=127.0.0.1:7102,n3=127.0.0.1:7103";

  private static ServiceConfig load(Map<String, String> env) {
    return ServiceConfig.load(Path.of("no-such-file.yaml"), env);
  }

  @Test
  void withoutPeersItIsSingleNodeModeWithTheOperationsPortAsSet() {
    ServiceConfig config = load(Map.of("HTTP_PORT", "8081"));
    assertThat(config.cluster().enabled()).isFalse();
    assertThat(config.opsPort()).isEqualTo(9080);
  }

  @Test
  void peersAndANodeIdTurnItOn() {
    ServiceConfig config = load(Map.of("CLUSTER_PEERS", PEERS, "CLUSTER_NODE_ID", "n2", "HTTP_PORT", "8082"));
    assertThat(config.cluster().enabled()).isTrue();
    assertThat(config.cluster().addresses()).containsExactly(Map.entry("n1", "127.0.0.1:7101"),
      Map.entry("n2", "127.0.0.1:7102"), Map.entry("n3", "127.0.0.1:7103"));
    assertThat(config.cluster().raftPort()).isEqualTo(7102);
    // Nodes on one machine do not share the default operations port; a port that was set stays.
    assertThat(config.opsPort()).isEqualTo(9082);
    assertThat(load(Map.of("CLUSTER_PEERS", PEERS, "CLUSTER_NODE_ID", "n2", "HTTP_PORT", "8082", "OPS_PORT", "9999"))
      .opsPort()).isEqualTo(9999);
    assertThat(ServiceConfig.fromJson(config.toJson())).isEqualTo(config);
  }

  @Test
  void theHazelcastAndEventBusPortsAreDerivedFromTheRaftPorts() {
    ServiceConfig config = load(Map.of("CLUSTER_PEERS", PEERS, "CLUSTER_NODE_ID", "n2"));
    assertThat(config.cluster().hazelcastMembers()).containsExactly("127.0.0.1:7201", "127.0.0.1:7202",
      "127.0.0.1:7203");
    assertThat(config.cluster().hazelcastPort()).isEqualTo(7202);
    assertThat(config.cluster().eventBusPort()).isEqualTo(7302);
    assertThat(config.cluster().host()).isEqualTo("127.0.0.1");
    ServiceConfig offsets = load(Map.of("CLUSTER_PEERS", PEERS, "CLUSTER_NODE_ID", "n1",
      "CLUSTER_HAZELCAST_PORT_OFFSET", "1000", "CLUSTER_EVENT_BUS_PORT_OFFSET", "2000"));
    assertThat(offsets.cluster().hazelcastMembers()).containsExactly("127.0.0.1:8101", "127.0.0.1:8102",
      "127.0.0.1:8103");
    assertThat(offsets.cluster().eventBusPort()).isEqualTo(9101);
    assertThat(ServiceConfig.fromJson(offsets.toJson())).isEqualTo(offsets);
  }

  @Test
  void offsetsThatCollideOrRunPastTheLastPortAreRefused() {
    assertThatThrownBy(() -> load(Map.of("CLUSTER_PEERS", PEERS, "CLUSTER_NODE_ID", "n1",
      "CLUSTER_HAZELCAST_PORT_OFFSET", "200"))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("cluster.eventBusPortOffset");
    assertThatThrownBy(() -> load(Map.of("CLUSTER_PEERS", "n1=127.0.0.1:65500", "CLUSTER_NODE_ID", "n1")))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cluster.hazelcastPortOffset");
  }

  @ParameterizedTest(name = "{index} peers={0} node={1}")
  @CsvSource(delimiter = ';', value = {
    "n1=127.0.0.1:7101,n2=127.0.0.1:7102;;cluster.nodeId",
    "n1=127.0.0.1:7101,n2=127.0.0.1:7102;n9;cluster.nodeId",
    "n1=127.0.0.1:7101,n1=127.0.0.1:7102;n1;cluster.peers",
    "n1=127.0.0.1;n1;cluster.peers",
    "n1:127.0.0.1:7101;n1;cluster.peers"})
  void aBadClusterIsRefusedNamingTheSetting(String peers, String nodeId, String named) {
    Map<String, String> env = nodeId == null ? Map.of("CLUSTER_PEERS", peers)
      : Map.of("CLUSTER_PEERS", peers, "CLUSTER_NODE_ID", nodeId);
    assertThatThrownBy(() -> load(env)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(named);
  }
}
