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

  /**
   * The command as a JSON object of strings (a replicated log carries it so): {@code type} ({@code create},
   * {@code update}, {@code delete}), the command's own values by name, and {@code change}. Absent values are left out.
   */
  static JsonObject toJson(Command command) {
    Change c = command.change();
    JsonObject json = new JsonObject().put("key", command.key()).put("change", new JsonObject()
      .put("eventId", c.eventId()).put("occurred", c.occurred()).put("requestId", c.requestId())
      .put("clientRequestId", c.clientRequestId()).put("actor", c.actor()));
    if (command instanceof Create create) {
      return json.put("type", "create").put("entity", create.entity()).put("idempotency", create.idempotency())
        .put("bodyHash", create.bodyHash()).put("windowStart", create.windowStart());
    }
    if (command instanceof Update update) {
      return json.put("type", "update").put("id", update.id()).put("ifMatch", update.ifMatch())
        .put("patch", update.patch());
    }
    Delete delete = (Delete) command;
    return json.put("type", "delete").put("id", delete.id()).put("ifMatch", delete.ifMatch());
  }

  /**
   * The command {@link #toJson} wrote.
   *
   * @throws IllegalArgumentException when {@code json} is not one
   */
  static Command fromJson(JsonObject json) {
    JsonObject c = json.getJsonObject("change");
    Change change = new Change(c.getString("eventId"), c.getString("occurred"), c.getString("requestId"),
      c.getString("clientRequestId"), c.getString("actor"));
    String key = json.getString("key");
    return switch (String.valueOf(json.getString("type"))) {
      case "create" -> new Create(key, json.getString("entity"), change, json.getString("idempotency"),
        json.getString("bodyHash"), json.getString("windowStart"));
      case "update" -> new Update(key, json.getString("id"), json.getString("ifMatch"), json.getString("patch"), change);
      case "delete" -> new Delete(key, json.getString("id"), json.getString("ifMatch"), change);
      default -> throw new IllegalArgumentException("Not a command: " + json.getString("type"));
    };
  }
}
