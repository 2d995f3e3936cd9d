package io.mtor.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One setting: its dotted key (in the YAML file, the JSON config and as a system property), its environment
 * variable, its default, the form it expects (for the message that refuses a bad value), how its text is read and
 * checked, and which component of its settings record carries it.
 *
 * @param <C> the settings record that carries the value
 * @param <T> the value's type
 */
public final class Setting<C, T> {

  private final String key;
  private final String env;
  private final T defaultValue;
  private final String documentedDefault;
  private final String expected;
  private final Function<Object, T> parse;
  private final Predicate<T> valid;
  private final Function<T, Object> json;
  private final Function<C, T> value;

  private Setting(String key, String env, T defaultValue, String documentedDefault, String expected,
                  Function<Object, T> parse, Predicate<T> valid, Function<T, Object> json, Function<C, T> value) {
    this.key = key;
    this.env = env;
    this.defaultValue = defaultValue;
    this.documentedDefault = documentedDefault;
    this.expected = expected;
    this.parse = parse;
    this.valid = valid;
    this.json = json;
    this.value = value;
  }

  /** Text that must not be blank (surrounding white space is dropped). */
  public static <C> Setting<C, String> text(String key, String env, String defaultValue, String expected,
                                            Function<C, String> value) {
    return new Setting<>(key, env, defaultValue, null, expected, Setting::text, s -> !s.isBlank(), s -> s, value);
  }

  /** Text that may be left empty (empty reads as null); {@code valid} checks any other value. */
  public static <C> Setting<C, String> optionalText(String key, String env, String expected, Predicate<String> valid,
                                                    Function<C, String> value) {
    return new Setting<>(key, env, null, null, expected, raw -> emptyToNull(text(raw)),
      s -> s == null || valid.test(s), s -> s, value);
  }

  /** A folder or file path that must not be blank. */
  public static <C> Setting<C, Path> path(String key, String env, String defaultValue, String expected,
                                          Function<C, Path> value) {
    return new Setting<>(key, env, Path.of(defaultValue), null, expected, raw -> {
      String text = text(raw);
      if (text.isBlank()) {
        throw new IllegalArgumentException();
      }
      return Path.of(text);
    }, p -> true, Path::toString, value);
  }

  /** An integer from {@code min} to {@code max}. */
  public static <C> Setting<C, Integer> integer(String key, String env, int defaultValue, int min, int max,
                                                Function<C, Integer> value) {
    return integer(key, env, defaultValue, min, max, "an integer from " + min + " to " + max, value);
  }

  /** An integer from {@code min} to {@code max}, whose expected form is worded otherwise. */
  public static <C> Setting<C, Integer> integer(String key, String env, int defaultValue, int min, int max,
                                                String expected, Function<C, Integer> value) {
    return new Setting<>(key, env, defaultValue, null, expected, raw -> Math.toIntExact(whole(raw)),
      i -> i >= min && i <= max, i -> i, value);
  }

  /** A long integer from {@code min} to {@code max}. */
  public static <C> Setting<C, Long> longInteger(String key, String env, long defaultValue, long min, long max,
                                                 Function<C, Long> value) {
    return longInteger(key, env, defaultValue, min, max, "an integer from " + min + " to " + max, value);
  }

  /** A long integer from {@code min} to {@code max}, whose expected form is worded otherwise. */
  public static <C> Setting<C, Long> longInteger(String key, String env, long defaultValue, long min, long max,
                                                 String expected, Function<C, Long> value) {
    return new Setting<>(key, env, defaultValue, null, expected, Setting::whole, l -> l >= min && l <= max, l -> l,
      value);
  }

  /** {@code true} or {@code false}, in any case. */
  public static <C> Setting<C, Boolean> bool(String key, String env, boolean defaultValue, Function<C, Boolean> value) {
    return new Setting<>(key, env, defaultValue, null, "true or false", raw -> {
      if (raw instanceof Boolean b) {
        return b;
      }
      String text = text(raw);
      if (!text.equalsIgnoreCase("true") && !text.equalsIgnoreCase("false")) {
        throw new IllegalArgumentException();
      }
      return Boolean.parseBoolean(text);
    }, b -> true, b -> b, value);
  }

  /** Names separated by commas (blank ones dropped), empty by default; {@code valid} checks each name. */
  public static <C> Setting<C, List<String>> list(String key, String env, String expected, Predicate<String> valid,
                                                  Function<C, List<String>> value) {
    return new Setting<>(key, env, List.of(), null, expected,
      raw -> Arrays.stream(text(raw).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList(),
      names -> names.stream().allMatch(valid), names -> String.join(",", names), value);
  }

  /**
   * This setting with its default described in words where the value depends on the machine (the README and
   * {@code conf/application.yaml} cannot show it).
   */
  public Setting<C, T> documentedAs(String words) {
    return new Setting<>(key, env, defaultValue, words, expected, parse, valid, json, value);
  }

  public String key() {
    return key;
  }

  public String env() {
    return env;
  }

  public T defaultValue() {
    return defaultValue;
  }

  public String expected() {
    return expected;
  }

  /** Whether the default depends on the machine (see {@link #documentedAs}). */
  public boolean machineDependent() {
    return documentedDefault != null;
  }

  /** The default as the configuration table in docs/operations.md shows it: the value, {@code empty}, or words. */
  public String documentedDefault() {
    if (documentedDefault != null) {
      return documentedDefault;
    }
    Object shown = defaultValue == null ? "" : json.apply(defaultValue);
    return shown.toString().isEmpty() ? "empty" : shown.toString();
  }

  /**
   * The value in {@code config} (a JSON object in the shape of {@code conf/application.yaml}), or the default if it
   * is absent or null.
   *
   * @throws IllegalArgumentException naming the key, the environment variable and the expected form
   */
  public T read(JsonObject config) {
    Object raw = lookup(config);
    if (raw == null) {
      return defaultValue;
    }
    T parsed;
    try {
      parsed = parse.apply(raw);
    } catch (RuntimeException e) {
      throw invalid(raw);
    }
    if (!valid.test(parsed)) {
      throw invalid(raw);
    }
    return parsed;
  }

  /** Puts this setting's value in {@code component} into {@code config}, at its dotted key. */
  public void write(C component, JsonObject config) {
    T v = value.apply(component);
    put(config, v == null ? null : json.apply(v));
  }

  /** Puts a raw value (the text of an environment variable, say) into {@code config} at the dotted key. */
  public void put(JsonObject config, Object raw) {
    String[] parts = key.split("\\.");
    JsonObject node = config;
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = node.getValue(parts[i]);
      if (!(child instanceof JsonObject)) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = (JsonObject) child;
    }
    node.put(parts[parts.length - 1], raw);
  }

  private Object lookup(JsonObject config) {
    Object node = config;
    for (String part : key.split("\\.")) {
      if (!(node instanceof JsonObject object)) {
        return null;
      }
      node = object.getValue(part);
    }
    return node;
  }

  /** The refusal of {@code value}, naming the key, the environment variable and the expected form. */
  public IllegalArgumentException invalid(Object value) {
    return new IllegalArgumentException("Invalid configuration " + key + " (environment " + env + "): expected "
      + expected + ", got '" + value + "'");
  }

  @Override
  public String toString() {
    return key + " (" + env + ")";
  }

  private static String text(Object raw) {
    if (raw instanceof JsonObject || raw instanceof JsonArray) {
      throw new IllegalArgumentException();
    }
    return raw.toString().trim();
  }

  private static long whole(Object raw) {
    if (raw instanceof Number number && number.doubleValue() == number.longValue()) {
      return number.longValue();
    }
    if (raw instanceof String text) {
      return Long.parseLong(text.trim().replace("_", ""));
    }
    throw new IllegalArgumentException();
  }

  private static String emptyToNull(String value) {
    return value.isEmpty() ? null : value;
  }
}
