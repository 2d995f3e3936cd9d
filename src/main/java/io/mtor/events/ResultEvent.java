package io.mtor.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The payload of every event the service publishes.
 *
 * @param eventId          unique id of this event (a GUID); consumers deduplicate with it
 * @param eventType        {@code created}, {@code updated} or {@code deleted}
 * @param occurredDateTime when the change was stored (ISO 8601, UTC, {@code Z})
 * @param requestId        the {@code request-id} of the HTTP request that made the change
 * @param clientRequestId  the client's {@code client-request-id}, or {@code null}
 * @param actor            who made the change: {@code tenantId}, {@code objectId} (a user) or {@code appId}
 *                         (an application), from the token; {@code null} when authentication is off
 * @param etag             the entity tag of {@code resource}: what GET returned for it in {@code @odata.etag} and
 *                         {@code ETag} (a weak tag, {@code W/"…"}), usable in {@code If-Match}
 * @param resource         the entity as GET returns it (after an update; before a delete), without the
 *                         {@code @odata.context} and {@code @odata.etag} annotations (the tag is {@code etag})
 * @param sequence         in cluster mode, the change's index in the replicated log (the same on every node, rising
 *                         in the order changes were applied); {@code null} (absent from the JSON) in single-node mode
 */
public record ResultEvent(String eventId, String eventType, String occurredDateTime, String requestId,
                          String clientRequestId, JsonObject actor, String etag, JsonObject resource, Long sequence) {

  private static final byte[] RESOURCE = ",\"resource\":".getBytes(StandardCharsets.UTF_8);

  public ResultEvent {
    Objects.requireNonNull(eventId, "eventId");
    Objects.requireNonNull(eventType, "eventType");
    Objects.requireNonNull(resource, "resource");
  }

  /** An event without a sequence number (single-node mode). */
  public ResultEvent(String eventId, String eventType, String occurredDateTime, String requestId,
                     String clientRequestId, JsonObject actor, String etag, JsonObject resource) {
    this(eventId, eventType, occurredDateTime, requestId, clientRequestId, actor, etag, resource, null);
  }

  public JsonObject toJson() {
    return withoutResource().put("resource", resource);
  }

  /**
   * The event as JSON bytes, given {@code resource} already encoded (as the store holds it): the resource
   * is spliced in rather than encoded a second time. Parses to {@link #toJson()}.
   */
  public byte[] toBytes(byte[] resourceJson) {
    Buffer head = withoutResource().toBuffer();
    return Buffer.buffer(head.length() + RESOURCE.length + resourceJson.length + 1)
      .appendBuffer(head, 0, head.length() - 1)
      .appendBytes(RESOURCE)
      .appendBytes(resourceJson)
      .appendByte((byte) '}')
      .getBytes();
  }

  private JsonObject withoutResource() {
    JsonObject json = new JsonObject().put("eventId", eventId);
    if (sequence != null) {
      json.put("sequence", sequence);
    }
    return json
      .put("eventType", eventType)
      .put("occurredDateTime", occurredDateTime)
      .put("requestId", requestId)
      .put("clientRequestId", clientRequestId)
      .put("actor", actor)
      .put("etag", etag);
  }

  public static ResultEvent fromJson(JsonObject json) {
    return new ResultEvent(json.getString("eventId"), json.getString("eventType"),
      json.getString("occurredDateTime"), json.getString("requestId"), json.getString("clientRequestId"),
      json.getJsonObject("actor"), json.getString("etag"), json.getJsonObject("resource"), json.getLong("sequence"));
  }
}
