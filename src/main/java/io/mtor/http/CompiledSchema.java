package io.mtor.http;

import io.mtor.domain.Guids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A fast way to say yes: a contract schema compiled once into plain Java checks that accept an instance only when
 * Vert.x JSON Schema's validator would accept it too. Anything else (an instance the checks do not accept, or a
 * schema using a keyword they do not know) goes to the library's validator, which gives the verdict and the
 * error details. The checks are an exact subset of the library's rules for the keywords the contract uses (type,
 * enum, required, properties, additionalProperties, min/maxProperties, items, min/maxItems, min/maxLength,
 * pattern, integer minimum/maximum, {@code not: {}}, {@code $ref}); a schema with any other keyword is not compiled.
 *
 * <p>Why: the library interprets the schema afresh for every instance, building location strings and sets as it
 * goes, and its one 9 KB validation method is too large for the JIT to compile, so it runs interpreted, many
 * times slower than plain Java checks of the same rules. {@code CompiledSchemaTest} holds the two to
 * the same answers over generated valid and invalid instances.
 */
public final class CompiledSchema implements Validator {

  private static final Set<String> ANNOTATIONS = Set.of("description", "title", "examples", "example", "default",
    "readOnly", "writeOnly", "deprecated", "$comment", "$schema", "$id");
  private static final int MAX_DEPTH = 32;

  /** The contract's GUID pattern: {@link Guids#PATTERN}, anchored, with nothing after (not even a line end). */
  static final String GUID_PATTERN = "^" + Guids.PATTERN + "$(?![\\s\\S])";

  private final Predicate<Object> accepts;
  private final Validator library;

  private CompiledSchema(Predicate<Object> accepts, Validator library) {
    this.accepts = accepts;
    this.library = library;
  }

  /** The library's validator for {@code schema}, behind compiled checks when every keyword in it is known. */
  public static Validator validator(SchemaRepository repository, JsonSchema schema) {
    Validator library = repository.validator(schema);
    Predicate<Object> accepts = new Compiler(repository).compile(schema, 0);
    return accepts == null ? library : new CompiledSchema(accepts, library);
  }

  @Override
  public OutputUnit validate(Object instance) {
    return accepts(instance) ? new OutputUnit(true) : library.validate(instance);
  }

  /** True only if the library accepts the instance too; false says nothing (the library decides). */
  boolean accepts(Object instance) {
    return accepts.test(instance);
  }

  private record Compiler(SchemaRepository repository) {

    /** The checks of one schema (a JsonSchema, a JsonObject or a boolean), or null if it uses an unknown keyword. */
    Predicate<Object> compile(Object node, int depth) {
      if (node instanceof Boolean b) {
        return b ? v -> true : v -> false;
      }
      if (depth > MAX_DEPTH) {
        return null;
      }
      Map<String, Object> schema = new HashMap<>();
      if (node instanceof JsonSchema s) {
        s.fieldNames().forEach(name -> schema.put(name, s.get(name)));
      } else if (node instanceof JsonObject o) {
        schema.putAll(o.getMap());
      } else {
        return null;
      }
      List<Predicate<Object>> checks = new ArrayList<>();
      for (Map.Entry<String, Object> keyword : schema.entrySet()) {
        String name = keyword.getKey();
        if (ANNOTATIONS.contains(name) || name.startsWith("__") || name.startsWith("x-")) {
          continue;
        }
        Predicate<Object> check = keyword(name, keyword.getValue(), schema, depth);
        if (check == null) {
          return null;
        }
        checks.add(check);
      }
      Predicate<Object>[] all = checks.toArray(Predicate[]::new);
      return value -> {
        for (Predicate<Object> check : all) {
          if (!check.test(value)) {
            return false;
          }
        }
        return true;
      };
    }

    private Predicate<Object> keyword(String name, Object value, Map<String, Object> schema, int depth) {
      return switch (name) {
        case "$ref" -> {
          Object target = find((String) schema.getOrDefault("__absolute_ref__", value));
          yield target == null ? null : compile(target, depth + 1);
        }
        case "type" -> type(value);
        case "enum" -> enumeration(value);
        case "not" -> isEmptySchema(value) ? v -> false : null;
        case "required" -> {
          List<String> required = strings(value);
          yield required == null ? null : v -> {
            Map<String, Object> fields = fields(v);
            return fields == null || fields.keySet().containsAll(required);
          };
        }
        case "minProperties" -> value instanceof Integer min ? v -> sizeOf(fields(v), min, Integer.MAX_VALUE) : null;
        case "maxProperties" -> value instanceof Integer max ? v -> sizeOf(fields(v), 0, max) : null;
        case "properties" -> properties(value, depth);
        case "additionalProperties" -> schema.containsKey("patternProperties") ? null
          : additionalProperties(value, schema, depth);
        case "items" -> {
          Predicate<Object> item = value instanceof JsonArray ? null : compile(value, depth + 1);
          yield item == null ? null : v -> {
            List<?> elements = elements(v);
            if (elements == null) {
              return true;
            }
            for (Object element : elements) {
              if (!item.test(element)) {
                return false;
              }
            }
            return true;
          };
        }
        case "minItems" -> value instanceof Integer min ? v -> sizeOf(elements(v), min, Integer.MAX_VALUE) : null;
        case "maxItems" -> value instanceof Integer max ? v -> sizeOf(elements(v), 0, max) : null;
        case "minLength" -> value instanceof Integer min
          ? v -> !(v instanceof String s) || s.codePointCount(0, s.length()) >= min : null;
        case "maxLength" -> value instanceof Integer max
          ? v -> !(v instanceof String s) || s.length() <= max || s.codePointCount(0, s.length()) <= max : null;
        case "pattern" -> {
          if (GUID_PATTERN.equals(value)) {
            // The contract's GUID pattern, checked by hand: a regex match costs more than all the other
            // checks of a property, and a create carries four GUIDs.
            yield v -> !(v instanceof String s) || Guids.isGuid(s);
          }
          Pattern pattern = Pattern.compile((String) value);
          yield v -> !(v instanceof String s) || pattern.matcher(s).find();
        }
        case "minimum" -> value instanceof Integer || value instanceof Long
          ? v -> !(v instanceof Number) || (integral(v) && ((Number) v).longValue() >= ((Number) value).longValue()) : null;
        case "maximum" -> value instanceof Integer || value instanceof Long
          ? v -> !(v instanceof Number) || (integral(v) && ((Number) v).longValue() <= ((Number) value).longValue()) : null;
        default -> null;
      };
    }

    private Predicate<Object> type(Object value) {
      List<String> types = value instanceof String one ? List.of(one) : strings(value);
      if (types == null) {
        return null;
      }
      List<Predicate<Object>> any = new ArrayList<>();
      for (String type : types) {
        switch (type) {
          case "string" -> any.add(v -> v instanceof String);
          case "boolean" -> any.add(v -> v instanceof Boolean);
          case "null" -> any.add(v -> v == null);
          case "object" -> any.add(v -> v instanceof Map<?, ?> || v instanceof JsonObject);
          case "array" -> any.add(v -> v instanceof List<?> || v instanceof JsonArray);
          case "integer" -> any.add(CompiledSchema::integral);
          case "number" -> any.add(v -> v instanceof Number);
          default -> {
            return null;
          }
        }
      }
      if (any.size() == 1) {
        return any.get(0);
      }
      Predicate<Object>[] alternatives = any.toArray(Predicate[]::new);
      return v -> {
        for (Predicate<Object> alternative : alternatives) {
          if (alternative.test(v)) {
            return true;
          }
        }
        return false;
      };
    }

    /** Enumerations of strings, booleans and null only: their equality is plain. */
    private static Predicate<Object> enumeration(Object value) {
      if (!(value instanceof JsonArray values)
        || !values.stream().allMatch(v -> v == null || v instanceof String || v instanceof Boolean)) {
        return null;
      }
      List<Object> allowed = values.getList();
      return v -> (v == null || v instanceof String || v instanceof Boolean) && allowed.contains(v);
    }

    private Predicate<Object> properties(Object value, int depth) {
      if (!(value instanceof JsonObject declared)) {
        return null;
      }
      Map<String, Predicate<Object>> checks = new HashMap<>();
      for (String property : declared.fieldNames()) {
        Predicate<Object> check = compile(declared.getValue(property), depth + 1);
        if (check == null) {
          return null;
        }
        checks.put(property, check);
      }
      return v -> {
        Map<String, Object> fields = fields(v);
        if (fields == null) {
          return true;
        }
        for (Map.Entry<String, Object> field : fields.entrySet()) {
          Predicate<Object> check = checks.get(field.getKey());
          if (check != null && !check.test(field.getValue())) {
            return false;
          }
        }
        return true;
      };
    }

    private Predicate<Object> additionalProperties(Object value, Map<String, Object> schema, int depth) {
      Set<String> declared = schema.get("properties") instanceof JsonObject p ? p.fieldNames() : Set.of();
      Predicate<Object> check = compile(value, depth + 1);
      if (check == null) {
        return null;
      }
      return v -> {
        Map<String, Object> fields = fields(v);
        if (fields == null) {
          return true;
        }
        for (Map.Entry<String, Object> field : fields.entrySet()) {
          if (!declared.contains(field.getKey()) && !check.test(field.getValue())) {
            return false;
          }
        }
        return true;
      };
    }

    private JsonSchema find(String ref) {
      try {
        return repository.find(ref);
      } catch (RuntimeException e) {
        return null;
      }
    }

    private static boolean isEmptySchema(Object value) {
      return value instanceof JsonObject o && o.fieldNames().stream().allMatch(n -> n.startsWith("__"));
    }

    private static List<String> strings(Object value) {
      if (!(value instanceof JsonArray array) || !array.stream().allMatch(String.class::isInstance)) {
        return null;
      }
      List<String> strings = new ArrayList<>();
      array.forEach(s -> strings.add((String) s));
      return strings;
    }
  }

  /** Only integer types whose value fits a long: a double holding a whole number is left to the library. */
  private static boolean integral(Object v) {
    return v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
      || (v instanceof BigInteger b && b.bitLength() < 64);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> fields(Object v) {
    return v instanceof JsonObject o ? o.getMap() : v instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  /** Whether an object's fields or an array's elements number min to max; null (another type) always passes. */
  private static boolean sizeOf(Object mapOrList, int min, int max) {
    int size = mapOrList instanceof Map<?, ?> m ? m.size() : mapOrList instanceof List<?> l ? l.size() : -1;
    return size == -1 || (size >= min && size <= max);
  }

  private static List<?> elements(Object v) {
    return v instanceof JsonArray a ? a.getList() : v instanceof List<?> l ? l : null;
  }
}
