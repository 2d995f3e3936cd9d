package io.mtor.cluster;

import io.mtor.events.ResultEvents;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Publishes every committed change once on the clustered event bus ({@link ResultEvents#CLUSTER_CHANGES}), from the
 * node that is the Raft leader when it has applied the change: each node applies every change, so one of them must
 * speak for the cluster, and the leader is the one that knows it is (a follower may lag).
 *
 * <p>Every node, leader or not, hears the cluster-wide address itself and keeps the highest sequence it has seen
 * published there, and keeps the changes it applied above that one (at most {@link #KEPT}). When it becomes the leader
 * it first publishes those: a change the old leader committed but did not publish (it died between the two) is not
 * lost, and one it did publish that had not reached this node yet comes twice. A node that is not the leader publishes
 * nothing; one that stops being it stops at the next change. All of this runs on this verticle's one context, after
 * the apply (the node's local events), so a slow or absent event-bus member never holds up a write.
 */
public final class LeaderEvents extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderEvents.class);
  /** Changes a node keeps while it has not seen them published: what a new leader can publish for its predecessor. */
  static final int KEPT = 4_096;

  private final BooleanSupplier leader;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  /** Changes applied here whose sequence is above {@link #seen}, in sequence order. */
  private final ArrayDeque<JsonObject> unpublished = new ArrayDeque<>();
  /** The highest sequence published on the cluster-wide address, by any node, that this node knows of. */
  private long seen = -1;
  /** The highest sequence dropped from {@link #unpublished} for want of room. */
  private long dropped = -1;
  private boolean leading;

  /** @param leader whether this node is the Raft leader now */
  public LeaderEvents(BooleanSupplier leader) {
    this.leader = leader;
  }

  @Override
  public Future<?> start() {
    List<Future<Void>> registered = new ArrayList<>();
    for (String address : ResultEvents.ALL) {
      MessageConsumer<JsonObject> local = vertx.eventBus().localConsumer(address, this::applied);
      consumers.add(local);
      registered.add(local.completion());
    }
    // Cluster-wide: what any leader published, this node's own publishes included.
    MessageConsumer<JsonObject> cluster = vertx.eventBus().consumer(ResultEvents.CLUSTER_CHANGES, this::published);
    consumers.add(cluster);
    registered.add(cluster.completion());
    return Future.all(registered);
  }

  /**
   * Asks this node whether it leads now, and if it has just become the leader, publishes what it kept. For Ratis's
   * "leader ready" notice (any thread), so that a new leader with no new change to apply still speaks for the old one.
   */
  public void roleChanged() {
    context.runOnContext(v -> leads());
  }

  private void applied(Message<JsonObject> message) {
    JsonObject event = message.body();
    Long sequence = event.getLong("sequence");
    if (sequence == null || sequence <= seen) {
      return;
    }
    if (leads()) {
      publish(event, sequence);
      return;
    }
    unpublished.addLast(event);
    if (unpublished.size() > KEPT) {
      dropped = unpublished.removeFirst().getLong("sequence");
    }
  }

  private void published(Message<JsonObject> message) {
    Long sequence = message.body().getLong("sequence");
    if (sequence == null || sequence <= seen) {
      return;
    }
    seen = sequence;
    while (!unpublished.isEmpty() && unpublished.peekFirst().getLong("sequence") <= seen) {
      unpublished.removeFirst();
    }
  }

  /** Whether this node leads; on becoming the leader, first publishes what it kept that it has not seen published. */
  private boolean leads() {
    boolean now = leader.getAsBoolean();
    if (now && !leading && dropped > seen) {
      LOG.warn("Leader now: changes up to sequence {} may never have been published cluster-wide (more than {} waited "
        + "for a leader to publish them)", dropped, KEPT);
    }
    if (now && !leading && !unpublished.isEmpty()) {
      LOG.info("Leader now: publishing {} changes (sequences {} to {}) not seen published cluster-wide",
        unpublished.size(), unpublished.peekFirst().getLong("sequence"), unpublished.peekLast().getLong("sequence"));
      while (!unpublished.isEmpty()) {
        JsonObject event = unpublished.removeFirst();
        publish(event, event.getLong("sequence"));
      }
    }
    leading = now;
    return now;
  }

  private void publish(JsonObject event, long sequence) {
    vertx.eventBus().publish(ResultEvents.CLUSTER_CHANGES, event);
    seen = Math.max(seen, sequence);
  }

  @Override
  public Future<?> stop() {
    List<Future<Void>> unregistered = new ArrayList<>();
    consumers.forEach(consumer -> unregistered.add(consumer.unregister()));
    return Future.join(unregistered);
  }
}
