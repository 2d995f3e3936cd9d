package io.mtor.domain;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import net.openhft.chronicle.algo.hashing.LongHashFunction;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/** Names and rules of the managedTenantOperationResult entity that do not depend on any transport. */
public final class OperationResults {

  /** The entity set's name, the last segment of the collection URL. */
  public static final String ENTITY_SET = "managedTenantOperationResults";
  /** The {@code @odata.type} the service writes (the seed's namespace). */
  public static final String ODATA_TYPE = "#microsoft.management.services.api.managedTenantOperationResult";

  public static final String ID = "id";
  public static final String CREATED = "createdDateTime";
  public static final String LAST_MODIFIED = "lastModifiedDateTime";
  /** The tenant a record belongs to: tenant isolation confines callers to theirs. */
  public static final String PARTNER_TENANT = "partnerTenantId";

  private static final Set<String> GUID_PROPERTIES = Set.of(PARTNER_TENANT, "partnerUserId", "targetTenantId",
    "requestId");

  /**
   * The one list of indexed properties: each has entries in the store's ordered index, so that {@code eq}/{@code in}
   * on them walks only their records, and counts of them come from counters. The query language reads it too.
   */
  public static final List<String> INDEXED = List.of("targetTenantId", PARTNER_TENANT, "managedTenantOperationId",
    "requestId");

  /** Graph writes DateTimeOffset in UTC with seven fractional digits. */
  private static final DateTimeFormatter GRAPH_INSTANT = new DateTimeFormatterBuilder()
    .appendInstant(7).toFormatter(Locale.ROOT);

  private OperationResults() {
  }

  /**
   * Builds the entity to store from a create body that the contract has already validated: the server's
   * id (unless the client sent one), timestamps ({@code timestamp}, as {@link #timestamp} writes it) and type,
   * GUIDs in lowercase, properties in a fixed order.
   */
  public static JsonObject newEntity(JsonObject body, Instant now) {
    return newEntity(body, timestamp(now));
  }

  /** As {@link #newEntity(JsonObject, Instant)}, with the time already written as {@link #timestamp} writes it. */
  public static JsonObject newEntity(JsonObject body, String timestamp) {
    String id = body.getString(ID);
    return new JsonObject()
      .put("@odata.type", ODATA_TYPE)
      .put(ID, id != null ? id : newGuid())
      .put(PARTNER_TENANT, guid(body.getString(PARTNER_TENANT)))
      .put("partnerUserId", guid(body.getString("partnerUserId")))
      .put("targetTenantId", guid(body.getString("targetTenantId")))
      .put("managedTenantOperationId", body.getString("managedTenantOperationId"))
      .put("requestId", guid(body.getString("requestId")))
      .put(CREATED, timestamp)
      .put(LAST_MODIFIED, timestamp)
      .put("isSuccess", body.getBoolean("isSuccess"))
      .put("exception", body.getString("exception"))
      .put("executionInfo", body.getString("executionInfo"))
      .put("result", body.getJsonArray("result", new JsonArray()));
  }

  /**
   * The entity after an update that the contract has already validated: the given properties replace the
   * stored ones (GUIDs in lowercase), {@code lastModifiedDateTime} moves to {@code timestamp}, the rest stays.
   */
  public static JsonObject updated(JsonObject stored, JsonObject patch, String timestamp) {
    JsonObject entity = stored.copy();
    for (Map.Entry<String, Object> property : patch) {
      if (property.getKey().startsWith("@")) {
        continue;
      }
      Object value = property.getValue();
      entity.put(property.getKey(), GUID_PROPERTIES.contains(property.getKey()) ? guid((String) value) : value);
    }
    return entity.put(LAST_MODIFIED, timestamp);
  }

  /** A weak entity tag for a stored entity's bytes: changes whenever the entity does. */
  public static String etag(byte[] stored) {
    return "W/\"" + Long.toHexString(LongHashFunction.xx_r39().hashBytes(stored)) + "\"";
  }

  private static String guid(String value) {
    return value == null ? null : value.toLowerCase(Locale.ROOT);
  }

  /** ISO 8601, UTC, {@code Z}, seven fractional digits: {@code 2026-11-28T15:30:00.1234560Z}. */
  public static String timestamp(Instant instant) {
    return GRAPH_INSTANT.format(instant);
  }

  /**
   * A random (version 4) lowercase GUID. Ids and request ids need uniqueness, not secrecy, so this uses
   * {@link ThreadLocalRandom} instead of the contended {@code SecureRandom} behind {@link UUID#randomUUID()}.
   */
  public static String newGuid() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long msb = (random.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }
}
