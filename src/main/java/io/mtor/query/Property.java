package io.mtor.query;

import io.mtor.domain.OperationResults;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** The managedTenantOperationResult properties a query may name, with their OData types. */
enum Property {
  ID(OperationResults.ID, Type.STRING),
  PARTNER_TENANT_ID(OperationResults.PARTNER_TENANT, Type.GUID),
  PARTNER_USER_ID("partnerUserId", Type.GUID),
  TARGET_TENANT_ID("targetTenantId", Type.GUID),
  REQUEST_ID("requestId", Type.GUID),
  MANAGED_TENANT_OPERATION_ID("managedTenantOperationId", Type.STRING),
  IS_SUCCESS("isSuccess", Type.BOOLEAN),
  EXCEPTION("exception", Type.STRING),
  EXECUTION_INFO("executionInfo", Type.STRING),
  CREATED_DATE_TIME(OperationResults.CREATED, Type.DATE_TIME_OFFSET),
  LAST_MODIFIED_DATE_TIME(OperationResults.LAST_MODIFIED, Type.DATE_TIME_OFFSET),
  RESULT("result", Type.STRING_COLLECTION);

  /** Types of properties and of filter literals, named as in OData. */
  enum Type {
    STRING("String"), GUID("Guid"), BOOLEAN("Boolean"), DATE_TIME_OFFSET("DateTimeOffset"),
    STRING_COLLECTION("Collection(String)"), NULL("null"), NUMBER("number");

    final String label;

    Type(String label) {
      this.label = label;
    }
  }

  static final String ODATA_TYPE = "@odata.type";

  private static final Map<String, Property> BY_NAME = new HashMap<>();

  static {
    for (Property p : values()) {
      BY_NAME.put(p.json, p);
    }
  }

  /** The name in JSON and in queries. */
  final String json;
  final Type type;
  /**
   * Whether the store indexes it (entries in the ordered index per value) (see {@link Filter#equalityConstraints()}): the one list of them
   * is {@link OperationResults#INDEXED}.
   */
  final boolean indexed;

  Property(String json, Type type) {
    this.json = json;
    this.type = type;
    this.indexed = OperationResults.INDEXED.contains(json);
  }

  /** The property with this exact name, or null. */
  static Property find(String name) {
    return BY_NAME.get(name);
  }

  /** The property with this exact name; otherwise a QueryException for the option, with a hint if only the case differs. */
  static Property resolve(String option, String name, int position) {
    Property p = BY_NAME.get(name);
    if (p != null) {
      return p;
    }
    if (name.equals(ODATA_TYPE)) {
      throw new QueryException(option, position, "'" + ODATA_TYPE + "' is an annotation and cannot be used in " + option);
    }
    for (Property q : values()) {
      if (q.json.equalsIgnoreCase(name)) {
        throw new QueryException(option, position, "unknown property " + Text.quote(name)
          + " (property names are case-sensitive; did you mean '" + q.json + "'?)");
      }
    }
    throw new QueryException(option, position, "unknown property " + Text.quote(name));
  }

  /** This property, if it is not a collection; otherwise a QueryException for the option. */
  Property scalar(String option, int position) {
    if (type == Type.STRING_COLLECTION) {
      throw new QueryException(option, position, "property '" + json + "' is a collection and cannot be used in " + option);
    }
    return this;
  }

  /**
   * The entity's value as a comparable Java value: String (Guids in lowercase), Boolean, Instant, or null
   * when the value is null, absent or not of the property's type.
   */
  Object value(JsonObject entity) {
    Object raw = entity.getValue(json);
    return switch (type) {
      case STRING -> raw instanceof String ? raw : null;
      case GUID -> raw instanceof String s ? s.toLowerCase(Locale.ROOT) : null;
      case BOOLEAN -> raw instanceof Boolean ? raw : null;
      case DATE_TIME_OFFSET -> raw instanceof String s ? instant(s) : raw instanceof Instant ? raw : null;
      default -> raw;
    };
  }

  /** An ISO 8601 date-time with offset as an instant, or null if it is not one. */
  static Instant instant(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** Compares two non-null values of the same property (or literal) type. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static int compare(Object a, Object b) {
    return ((Comparable) a).compareTo(b);
  }
}
