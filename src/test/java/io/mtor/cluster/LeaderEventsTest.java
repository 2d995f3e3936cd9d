package io.mtor.cluster;

import io.mtor.events.ResultEvents;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who publishes on the cluster-wide address, on one Vert.x (its event bus stands in for the clustered one: a publish
 * there reaches this process's consumers as it reaches every member's): only the leader; a node that becomes the leader
 * first publishes the changes it applied that it has not seen published, and nothing it has seen; one that stops being
 * the leader stops.
 */
class LeaderEventsTest {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private Vertx vertx;
  private final AtomicBoolean leader = new AtomicBoolean();
  private final List<Long> onCluster = new CopyOnWriteArrayList<>();
  private LeaderEvents events;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    vertx.eventBus().<JsonObject>consumer(ResultEvents.CLUSTER_CHANGES, m -> onCluster.add(m.body().getLong("sequence")))
      .completion().await(10, TimeUnit.SECONDS);
    events = new LeaderEvents(leader::get);
    vertx.deployVerticle(events).await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aFollowerKeepsWhatItAppliedAndPublishesOnlyWhatTheOldLeaderDidNotOnceItLeads() throws Exception {
    for (long sequence = 1; sequence <= 4; sequence++) {
      applied(sequence);
    }
    // The old leader got 1 and 2 out.
    published(1);
    published(2);
    settle();
    assertThat(onCluster).as("a follower publishes nothing").containsExactly(1L, 2L);

    leader.set(true);
    events.roleChanged();
    settle();
    assertThat(onCluster).as("the new leader speaks for the old one first").containsExactly(1L, 2L, 3L, 4L);

    applied(5);
    applied(6);
    settle();
    assertThat(onCluster).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);

    // A change applied again, or one the node has seen published, is not published again.
    applied(6);
    settle();
    assertThat(onCluster).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);

    leader.set(false);
    applied(7);
    settle();
    assertThat(onCluster).as("a deposed leader stops").containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
  }

  @Test
  void aNewLeaderRepeatsWhatTheOldOnePublishedButItHadNotSeenYet() throws Exception {
    applied(10);
    applied(11);
    settle();
    leader.set(true);
    events.roleChanged();
    settle();
    // The old leader's 10 arrives late: the subscriber has 10 and 11 from the new leader, then 10 again, a repeat.
    published(10);
    applied(12);
    settle();
    assertThat(onCluster).containsExactly(10L, 11L, 10L, 12L);
  }

  @Test
  void eventsWithoutASequenceAreNotTheCluster() throws Exception {
    leader.set(true);
    vertx.eventBus().publish(ResultEvents.CREATED, new JsonObject().put("eventId", "e"), LOCAL);
    settle();
    assertThat(onCluster).isEmpty();
  }

  private void applied(long sequence) {
    vertx.eventBus().publish(ResultEvents.ALL.get((int) (sequence % 3)), event(sequence), LOCAL);
  }

  /** Another node (the old leader) publishes on the cluster-wide address. */
  private void published(long sequence) {
    vertx.eventBus().publish(ResultEvents.CLUSTER_CHANGES, event(sequence));
  }

  private static JsonObject event(long sequence) {
    return new JsonObject().put("eventId", "e" + sequence).put("sequence", sequence).put("eventType", "created")
      .put("resource", new JsonObject().put("id", "r" + sequence));
  }

  /** The event bus delivers on the verticle's event loop, a moment later: a wait lets it catch up. */
  private static void settle() throws InterruptedException {
    Thread.sleep(300);
  }
}
