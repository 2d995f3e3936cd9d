package io.mtor.events;

import java.util.List;

/**
 * Event-bus addresses of the service. Events are {@code publish}ed: every consumer of an address gets
 * every event. Payloads are plain JSON objects ({@link ResultEvent#toJson()}), so they work unchanged on a
 * clustered event bus and through the TCP bridge.
 */
public final class ResultEvents {

  /** What every address of the service starts with. */
  public static final String PREFIX = "managed-tenant-operation-results.";

  /** A managedTenantOperationResult was created and durably stored. */
  public static final String CREATED = PREFIX + "created";

  /** A managedTenantOperationResult was updated; {@code resource} is the entity after the update. */
  public static final String UPDATED = PREFIX + "updated";

  /** A managedTenantOperationResult was deleted; {@code resource} is the entity as it was. */
  public static final String DELETED = PREFIX + "deleted";

  /** The addresses of all changes, in the order created, updated, deleted. */
  public static final List<String> ALL = List.of(CREATED, UPDATED, DELETED);

  /**
   * In cluster mode, on the clustered (Hazelcast) event bus: every committed change, all types on this one address
   * (so that one consumer gets them in log order), published by the Raft leader after it applied the change, with its
   * {@code sequence}. The addresses above are each node's own: published to that node's consumers only. Around a
   * leader change a change may come twice (never out of order once duplicates are dropped): a consumer ignores an
   * event whose {@code sequence} is not above the highest it has seen. docs/cluster.md, "Events across the cluster",
   * has the whole promise.
   */
  public static final String CLUSTER_CHANGES = PREFIX + "cluster.changes";

  /**
   * Every change's event again, as the JSON bytes the store's outbox holds (a {@code Buffer}), for the
   * service's own (acknowledging) audit writer: the event is encoded once per change, not again for its
   * line. Internal to the service.
   */
  public static final String AUDIT_TRAIL = PREFIX + "audit.trail";

  /**
   * Audit writers that acknowledge publish here, after their write, {@code {"eventIds": [...]}}; the store
   * then forgets those events. Internal to the service.
   */
  public static final String AUDIT_WRITTEN = PREFIX + "audit.written";

  /**
   * Events the audit trail has not acknowledged in time (or at all, before a crash) are published again
   * here, as {@link #AUDIT_TRAIL} bytes, for acknowledging audit writers only. Internal to the service.
   */
  public static final String AUDIT_REDELIVER = PREFIX + "audit.redeliver";

  /**
   * In cluster mode, a request to the acknowledging audit writer when a snapshot replaces the node's records:
   * {@code {"dir": <the snapshot's trail folder>, "index": <its log index>}}. The writer completes its trail with the
   * snapshot's and from then on drops events up to that index; it replies once done. Internal to the service.
   */
  public static final String AUDIT_INSTALL = PREFIX + "audit.install";

  /** {@code eventType} of a create. */
  public static final String TYPE_CREATED = "created";
  /** {@code eventType} of an update. */
  public static final String TYPE_UPDATED = "updated";
  /** {@code eventType} of a delete. */
  public static final String TYPE_DELETED = "deleted";

  private ResultEvents() {
  }
}
