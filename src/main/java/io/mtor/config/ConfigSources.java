package io.mtor.config;

import io.vertx.core.json.JsonObject;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where settings come from, weakest first: the YAML file, then each setting's environment variable, then a system
 * property named by its key ({@code -Dhttp.port=9000}), the order vertx-config's file, env and sys stores would
 * give.
 *
 * <p>Why not vertx-config and vertx-config-yaml: a ConfigRetriever needs a Vert.x instance, but the standalone
 * service must know its settings before it creates Vert.x (the event-loop count is one of them), and config parsing
 * is tested without Vert.x. Its environment store would also hand over variables under their own names
 * ({@code RATE_LIMIT_PER_SECOND}), not under keys ({@code limits.ratePerSecond}), so the table of names that
 * {@link Setting} keeps would still be needed; and its system-property store takes every property of the JVM into
 * the config. What it would replace is the few lines below, and its YAML store parses with SnakeYAML as they do.
 */
public final class ConfigSources {

  private ConfigSources() {
  }

  /**
   * The config in the shape of {@code conf/application.yaml}: {@code yamlFile} (if it exists) overridden by the
   * environment variables, then the system properties, of {@code settings}.
   *
   * @throws IllegalArgumentException if the file cannot be read or is not a YAML mapping
   */
  public static JsonObject read(Path yamlFile, Map<String, String> env, Map<String, String> systemProperties,
                                List<? extends Setting<?, ?>> settings) {
    JsonObject json = yamlFile != null && Files.exists(yamlFile) ? yaml(yamlFile) : new JsonObject();
    for (Setting<?, ?> setting : settings) {
      String value = env.get(setting.env());
      if (value != null) {
        setting.put(json, value);
      }
    }
    for (Setting<?, ?> setting : settings) {
      String value = systemProperties.get(setting.key());
      if (value != null) {
        setting.put(json, value);
      }
    }
    return json;
  }

  /** The JVM's system properties that hold text. */
  public static Map<String, String> systemProperties() {
    Map<String, String> properties = new LinkedHashMap<>();
    System.getProperties().stringPropertyNames().forEach(name -> properties.put(name, System.getProperty(name)));
    return properties;
  }

  private static JsonObject yaml(Path yamlFile) {
    try (Reader reader = Files.newBufferedReader(yamlFile, StandardCharsets.UTF_8)) {
      Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
      if (loaded == null) {
        return new JsonObject();
      }
      if (!(loaded instanceof Map<?, ?> map)) {
        throw new IllegalArgumentException(yamlFile + ": expected a YAML mapping at the top level");
      }
      return new JsonObject(stringKeys(map));
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read " + yamlFile + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(yamlFile + " is not valid YAML: " + e.getMessage(), e);
    }
  }

  private static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> out.put(String.valueOf(k), v instanceof Map<?, ?> m ? stringKeys(m) : v));
    return out;
  }
}
