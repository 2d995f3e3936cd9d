package io.mtor.app;

import io.vertx.core.json.JsonObject;

/**
 * A change to the store, decided in full before it is applied: every value the server chooses (the id when the
 * client sent none, timestamps, the event's id) is in it, so applying it is deterministic, and a replicated log can
 * carry it as it is. Plain immutable values: JSON as text, no live objects.
 */
public sealed interface Command permits Command.Create, Command.Update, Command.Delete {

  /** The record's store key (the id, scoped to the caller's tenant under isolation). */
  String key();

  /** What the change's event says besides the resource: who, when, in answer to which request. */
  Change change();

  /**
   * @param eventId         the event's id (a GUID)
   * @param occurred        when the change happens (ISO 8601, UTC, seven fractional digits)
   * @param requestId       the request's {@code request-id}
   * @param clientRequestId the client's {@code client-request-id}, or null
   * @param actor           the caller as JSON text ({@code tenantId}, {@code objectId}, {@code appId}), or null
   */
  record Change(String eventId, String occurred, String requestId, String clientRequestId, String actor) {

    JsonObject actorJson() {
      return actor == null ? null : new JsonObject(actor);
    }
  }

  /**
   * Store {@code entity} (complete: id, timestamps, type) under {@code key}, unless the key is taken. With an
   * idempotency key ({@code idempotency} not null): if a record created under the same key (by the same caller)
   * within {@code windowStart} exists, answer it again when {@code bodyHash} matches too, and refuse otherwise.
   *
   * @param idempotency a hash of the caller and its idempotency key, or null
   * @param bodyHash    a hash of the caller, its key and the request body, or null
   * @param windowStart the oldest {@code createdDateTime} a remembered key counts from (ISO 8601), or null
   */
  record Create(String key, String entity, Change change, String idempotency, String bodyHash, String windowStart)
    implements Command {
  }

  /**
   * Apply {@code patch} to the record at {@code key} (its id is {@code id}) with {@code lastModifiedDateTime} set to
   * {@link Change#occurred()}, if it exists and, when {@code ifMatch} is not null, still has that entity tag.
   */
  record Update(String key, String id, String ifMatch, String patch, Change change) implements Command {
  }

  /** Remove the record at {@code key} if it exists and, when {@code ifMatch} is not null, still has that tag. */
  record Delete(String key, String id, String ifMatch, Change change) implements Command {
  }
}
