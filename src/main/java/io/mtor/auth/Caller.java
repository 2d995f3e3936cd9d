package io.mtor.auth;

import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Set;

/**
 * Who made a request, from a validated token: the tenant it acts for ({@code tid}, in lowercase), the user
 * ({@code oid}) or application ({@code appid}/{@code azp}), and its permissions (delegated {@code scp} or app
 * {@code roles}). Never holds the token itself.
 */
public record Caller(String tenantId, String objectId, String appId, Set<String> permissions) {

  /** A GUID tenant has one spelling everywhere (store, events, audit, logs, rate limits): lowercase. */
  public Caller {
    tenantId = tenantId == null ? null : tenantId.toLowerCase(Locale.ROOT);
  }

  public static final String READ = "ManagedTenants.Read.All";
  public static final String READ_WRITE = "ManagedTenants.ReadWrite.All";

  public boolean canRead() {
    return permissions.contains(READ) || permissions.contains(READ_WRITE);
  }

  public boolean canWrite() {
    return permissions.contains(READ_WRITE);
  }

  /** The actor as events and the audit trail record it. */
  public JsonObject toJson() {
    return new JsonObject().put("tenantId", tenantId).put("objectId", objectId).put("appId", appId);
  }
}
