package io.mtor.domain;

/**
 * The one failure type of the service's domain: every expected failure (unknown id, duplicate id, full
 * store, ...) is one of these, with a {@link Kind} that the HTTP layer maps to a status and a Graph error code.
 */
public final class ResultException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** What went wrong, independent of any transport. */
  public enum Kind {
    NOT_FOUND,
    CONFLICT,
    STORE_FULL,
    STORE_UNAVAILABLE,
    AUDIT_BACKLOG_FULL,
    PRECONDITION_FAILED,
    UNAUTHENTICATED,
    /** The request carries no token at all (its challenge then names no error: RFC 6750 section 3.1). */
    TOKEN_MISSING,
    FORBIDDEN,
    /** The caller has too much running or asked too often: it may retry later. */
    THROTTLED,
    /** The service has too much running: anyone may retry shortly. */
    BUSY,
    /** A create with the same idempotency key is being made now. */
    IN_PROGRESS,
    /** An idempotency key was used before with another request body. */
    KEY_REUSED
  }

  private final Kind kind;

  private ResultException(Kind kind, String message, Throwable cause) {
    super(message, cause, false, cause != null);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /**
   * A failure of {@code kind} with {@code message} as another process told it (a cluster node answering a write
   * forwarded to it): the same kind and words as the original.
   */
  public static ResultException of(Kind kind, String message) {
    return new ResultException(kind, message, null);
  }

  public static ResultException notFound(String id) {
    return new ResultException(Kind.NOT_FOUND, "The managedTenantOperationResult '" + id + "' does not exist.", null);
  }

  public static ResultException conflict(String id) {
    return new ResultException(Kind.CONFLICT,
      "A managedTenantOperationResult with id '" + id + "' already exists.", null);
  }

  /** The request carries no usable token; {@code reason} says why in words safe to show. */
  public static ResultException unauthenticated(String reason) {
    return new ResultException(Kind.UNAUTHENTICATED, reason, null);
  }

  /** The request has no {@code Authorization} header, or an empty one. */
  public static ResultException tokenMissing() {
    return new ResultException(Kind.TOKEN_MISSING, "Access token is empty.", null);
  }

  public static ResultException forbidden(String reason) {
    return new ResultException(Kind.FORBIDDEN, reason, null);
  }

  public static ResultException preconditionFailed(String id) {
    return new ResultException(Kind.PRECONDITION_FAILED, "The managedTenantOperationResult '" + id
      + "' has changed since the version in If-Match; read it again.", null);
  }

  public static ResultException storeFull(Throwable cause) {
    return new ResultException(Kind.STORE_FULL,
      "The store has no room for another managedTenantOperationResult.", cause);
  }

  public static ResultException auditBacklogFull(Throwable cause) {
    return new ResultException(Kind.AUDIT_BACKLOG_FULL,
      "Too many changes await the audit trail; retry shortly.", cause);
  }

  public static ResultException inProgress() {
    return new ResultException(Kind.IN_PROGRESS, "A create with this idempotency key is still in progress; retry "
      + "when it has answered to get its answer.", null);
  }

  public static ResultException idempotencyKeyReused() {
    return new ResultException(Kind.KEY_REUSED, "This idempotency key was used for a create with another body; "
      + "use a new key for a new record.", null);
  }

  public static ResultException throttled(String reason) {
    return new ResultException(Kind.THROTTLED, reason, null);
  }

  public static ResultException unavailable(String reason) {
    return new ResultException(Kind.BUSY, reason, null);
  }

  public static ResultException storeUnavailable(Throwable cause) {
    return new ResultException(Kind.STORE_UNAVAILABLE, "The store is not available.", cause);
  }
}
