package io.mtor.domain;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.Locale;
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

  private static final String[] GUID_PROPERTIES = {"partnerTenantId", "partnerUserId", "targetTenantId"};

  /** Graph writes DateTimeOffset in UTC with seven fractional digits. */
  private static final DateTimeFormatter GRAPH_INSTANT = new DateTimeFormatterBuilder()
    .appendInstant(7).toFormatter(Locale.ROOT);

  private OperationResults() {
  }

  /**
   * Builds the entity to store from a create body that the contract has already validated: the server's
   * id (unless the client sent one), timestamps and type, GUIDs in lowercase, properties in a fixed order.
   */
  public static JsonObject newEntity(JsonObject body, Instant now) {
    String id = body.getString(ID);
    String timestamp = timestamp(now);
    JsonObject entity = new JsonObject()
      .put("@odata.type", ODATA_TYPE)
      .put(ID, id != null ? id : newGuid());
    for (String guid : GUID_PROPERTIES) {
      entity.put(guid, body.getString(guid).toLowerCase(Locale.ROOT));
    }
    return entity
      .put("managedTenantOperationId", body.getString("managedTenantOperationId"))
      .put("requestId", body.getString("requestId").toLowerCase(Locale.ROOT))
      .put(CREATED, timestamp)
      .put(LAST_MODIFIED, timestamp)
      .put("isSuccess", body.getBoolean("isSuccess"))
      .put("exception", body.getString("exception"))
      .put("executionInfo", body.getString("executionInfo"))
      .put("result", body.getJsonArray("result", new JsonArray()));
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
