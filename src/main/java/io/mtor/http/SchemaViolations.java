package io.mtor.http;

import io.vertx.core.json.JsonObject;
import io.vertx.core.json.pointer.JsonPointer;
import io.vertx.json.schema.OutputUnit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the JSON Schema validator's output (instance pointer, keyword location, reason) into Graph error
 * details, one per violated value, keeping the validator's own reasons.
 *
 * <p>The validator reports a chain for each violation (e.g. {@code properties} → {@code $ref} →
 * {@code pattern}); only the innermost link says why. It also reports a spurious
 * {@code additionalProperties} error for every declared property whose value failed (the failed property
 * is not counted as evaluated): such an error is dropped when a real error exists at the same pointer.
 */
final class SchemaViolations {

  private SchemaViolations() {
  }

  /**
   * @param root     the validator's output
   * @param contract the raw OpenAPI document, whose schema descriptions say what a value should look like
   */
  /** Validator errors analysed for one answer, and details listed in it. */
  static final int MAX_ANALYSED = 200;
  static final int MAX_DETAILS = 50;
  /** The code of the last detail when there were more violations than listed. */
  static final String MORE = "moreViolations";

  static List<GraphErrors.Detail> details(OutputUnit root, JsonObject contract) {
    return details(root, contract, "The request body");
  }

  /** As {@link #details(OutputUnit, JsonObject)}, for the value of a parameter: the details name it. */
  static List<GraphErrors.Detail> parameterDetails(OutputUnit root, JsonObject contract, String parameter) {
    return details(root, contract, parameter).stream()
      .map(d -> d.target() == null || d.target().isEmpty() ? new GraphErrors.Detail(d.code(), d.message(), parameter) : d)
      .toList();
  }

  private static List<GraphErrors.Detail> details(OutputUnit root, JsonObject contract, String subject) {
    List<OutputUnit> all = new ArrayList<>();
    if (root.getErrors() != null) {
      all.addAll(root.getErrors());
    }
    if (all.isEmpty() && root.getError() != null) {
      all.add(root);
    }
    // The analysis below compares errors pairwise: a body of 30,000 bad array items would take a minute of an
    // event loop. The first errors are what a client needs; the rest are counted, not described.
    int omitted = Math.max(0, all.size() - MAX_ANALYSED);
    if (omitted > 0) {
      all = new ArrayList<>(all.subList(0, MAX_ANALYSED));
    }
    List<OutputUnit> leaves = new ArrayList<>();
    for (OutputUnit unit : all) {
      if (!isWrapper(unit, all)) {
        leaves.add(unit);
      }
    }
    Map<String, GraphErrors.Detail> byPointerAndReason = new LinkedHashMap<>();
    for (OutputUnit unit : leaves) {
      String pointer = pointer(unit);
      if (isAdditionalProperties(unit) && hasRealErrorAt(pointer, leaves)) {
        continue;
      }
      if (isRequired(unit)) {
        pointer = pointer + "/" + missingProperty(unit);
      }
      String reason = reason(unit, contract);
      byPointerAndReason.putIfAbsent(pointer + "\u0000" + reason,
        new GraphErrors.Detail(code(unit), describe(subject, pointer, reason), pointer));
    }
    List<GraphErrors.Detail> details = new ArrayList<>(byPointerAndReason.values());
    if (details.size() > MAX_DETAILS || omitted > 0) {
      details = new ArrayList<>(details.subList(0, Math.min(MAX_DETAILS, details.size())));
      details.add(new GraphErrors.Detail(MORE, subject + " has more violations than this answer lists ("
        + MAX_DETAILS + " at most); correct these and send it again.", null));
    }
    return details;
  }

  /** A link of a chain: another error lies deeper in the schema at or below the same instance pointer. */
  private static boolean isWrapper(OutputUnit unit, List<OutputUnit> all) {
    String keyword = keyword(unit);
    String pointer = pointer(unit);
    for (OutputUnit other : all) {
      if (other != unit && keyword(other).startsWith(keyword + "/") && pointer(other).startsWith(pointer)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasRealErrorAt(String pointer, List<OutputUnit> leaves) {
    for (OutputUnit other : leaves) {
      if (!isAdditionalProperties(other) && (pointer(other).equals(pointer) || pointer(other).startsWith(pointer + "/"))) {
        return true;
      }
    }
    return false;
  }

  private static boolean isAdditionalProperties(OutputUnit unit) {
    return keyword(unit).endsWith("/additionalProperties");
  }

  private static String code(OutputUnit unit) {
    String keyword = keyword(unit);
    if (keyword.endsWith("/additionalProperties")) {
      return "unknownProperty";
    }
    if (keyword.endsWith("/required")) {
      return "missingProperty";
    }
    if (keyword.endsWith("/not")) {
      return "readOnlyProperty";
    }
    return "invalidValue";
  }

  private static boolean isRequired(OutputUnit unit) {
    return keyword(unit).endsWith("/required");
  }

  /**
   * The validator reports one {@code required} error per missing property, at the object's pointer; the
   * property's name is only in its reason, quoted.
   */
  private static String missingProperty(OutputUnit unit) {
    String error = unit.getError() == null ? "" : unit.getError();
    int open = error.indexOf('"');
    int close = error.lastIndexOf('"');
    return open >= 0 && close > open ? error.substring(open + 1, close) : "";
  }

  private static String reason(OutputUnit unit, JsonObject contract) {
    String keyword = keyword(unit);
    if (isRequired(unit)) {
      return "is required";
    }
    if (keyword.endsWith("/additionalProperties")) {
      return "is not a property of managedTenantOperationResult";
    }
    if (keyword.endsWith("/not")) {
      return "is read-only: the server sets it";
    }
    String reason = unit.getError() == null ? "is invalid" : unit.getError();
    String expected = expectation(unit, contract);
    return expected == null ? reason : reason + " (expected: " + expected + ")";
  }

  /** The description of the named schema the failed keyword belongs to, if it is one of the contract's. */
  private static String expectation(OutputUnit unit, JsonObject contract) {
    String location = unit.getAbsoluteKeywordLocation();
    int hash = location == null ? -1 : location.indexOf("#/components/");
    if (hash < 0 || contract == null) {
      return null;
    }
    String keywordPointer = location.substring(hash + 1);
    String schemaPointer = keywordPointer.substring(0, keywordPointer.lastIndexOf('/'));
    Object schema = JsonPointer.from(schemaPointer).queryJson(contract);
    if (schema instanceof JsonObject object && object.getValue("description") instanceof String description) {
      return description.endsWith(".") ? description.substring(0, description.length() - 1) : description;
    }
    return null;
  }

  private static String describe(String subject, String pointer, String reason) {
    if (pointer.isEmpty()) {
      return subject + ": " + reason + ".";
    }
    String property = pointer.substring(1).replace("~1", "/").replace("~0", "~");
    return "The property '" + property + "' " + (reason.startsWith("is ") ? reason : "is invalid: " + reason) + ".";
  }

  private static String keyword(OutputUnit unit) {
    return unit.getKeywordLocation() == null ? "" : unit.getKeywordLocation();
  }

  private static String pointer(OutputUnit unit) {
    String location = unit.getInstanceLocation() == null ? "" : unit.getInstanceLocation();
    return location.startsWith("#") ? location.substring(1) : location;
  }
}
