package io.mtor.query;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Stored entities as the service writes them, and small helpers around them. */
final class Fixtures {

  static final String T1 = "2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31";
  static final String T2 = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  static final String PARTNER = "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11";
  static final String REQUEST = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c41";

  /** Succeeded, no exception, created 2026-11-28T15:31:49.7895107Z. */
  static final JsonObject A = entity("a", T1, "applyConditionalAccessPolicy", true, null,
    "2026-11-28T15:31:49.7895107Z");
  /** Failed with a timeout, a day later. */
  static final JsonObject B = entity("b", T2, "resetPassword", false, "Timeout talking to tenant",
    "2026-11-29T08:00:00.0000000Z");
  /** Failed, access denied, a day earlier. */
  static final JsonObject C = entity("c", T2, "applyConditionalAccessPolicy", false, "Access denied",
    "2026-11-27T23:59:59.9999999Z");
  static final List<JsonObject> ALL = List.of(A, B, C);

  private Fixtures() {
  }

  static JsonObject entity(String id, String targetTenantId, String operation, Boolean isSuccess, String exception,
                           String created) {
    return new JsonObject()
      .put("@odata.type", "#microsoft.management.services.api.managedTenantOperationResult")
      .put("id", id)
      .put("partnerTenantId", PARTNER)
      .put("partnerUserId", "0b6a4b5e-1d2c-4e3f-8a9b-7c6d5e4f3a21")
      .put("targetTenantId", targetTenantId)
      .put("managedTenantOperationId", operation)
      .put("requestId", REQUEST)
      .put("createdDateTime", created)
      .put("lastModifiedDateTime", created)
      .put("isSuccess", isSuccess)
      .put("exception", exception)
      .put("executionInfo", "ran " + operation)
      .put("result", new JsonArray().add("item-" + id));
  }

  /** The ids of the fixture entities the filter matches, in fixture order. */
  static List<String> matching(String filter) {
    Filter parsed = Filter.parse(filter);
    return ALL.stream().filter(parsed).map(e -> e.getString("id")).collect(Collectors.toList());
  }

  static Map<String, List<String>> params(String... nameValue) {
    Map<String, List<String>> params = new java.util.LinkedHashMap<>();
    for (int i = 0; i < nameValue.length; i += 2) {
      params.put(nameValue[i], List.of(nameValue[i + 1]));
    }
    return params;
  }
}
