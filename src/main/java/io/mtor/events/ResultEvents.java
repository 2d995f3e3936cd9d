package io.mtor.events;

/**
 * Event-bus addresses of the service. Events are {@code publish}ed: every consumer of an address gets
 * every event. Payloads are plain JSON objects ({@link ResultEvent#toJson()}), so they work unchanged on a
 * clustered event bus and through the TCP bridge.
 */
public final class ResultEvents {

  /** A managedTenantOperationResult was created and durably stored. */
  public static final String CREATED = "managed-tenant-operation-results.created";

  /**
   * Audit writers that acknowledge publish here, after their write, {@code {"eventIds": [...]}}; the store
   * then forgets those events. Internal to the service.
   */
  public static final String AUDIT_WRITTEN = "managed-tenant-operation-results.audit.written";

  /**
   * Events the audit trail has not acknowledged in time (or at all, before a crash) are published again
   * here, for acknowledging audit writers only. Internal to the service.
   */
  public static final String AUDIT_REDELIVER = "managed-tenant-operation-results.audit.redeliver";

  /** {@code eventType} of a create. */
  public static final String TYPE_CREATED = "created";

  private ResultEvents() {
  }
}
