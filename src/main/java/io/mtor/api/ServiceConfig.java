package io.mtor.api;

import io.mtor.auth.AuthSettings;
import io.mtor.config.AuditSettings;
import io.mtor.config.BridgeSettings;
import io.mtor.config.ClusterSettings;
import io.mtor.config.ConfigSources;
import io.mtor.config.EdgeSettings;
import io.mtor.config.HealthSettings;
import io.mtor.config.HttpSettings;
import io.mtor.config.IdempotencySettings;
import io.mtor.config.LimitSettings;
import io.mtor.config.ListSettings;
import io.mtor.config.Section;
import io.mtor.config.Setting;
import io.mtor.config.StoreSettings;
import io.mtor.domain.OperationResults;
import io.mtor.store.StoreOptions;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The service's configuration: immutable, with defaults, read from JSON (the verticle's config) or from
 * {@code conf/application.yaml} overridden by environment variables and system properties. Parsing needs no Vert.x
 * instance.
 *
 * <p>Each component record declares its own settings (key, environment variable, default, expected form), checks
 * them and builds itself from them: a new setting goes into one of them, {@code conf/application.yaml} and the
 * configuration table in docs/operations.md ({@code ConfigDocumentationTest} holds the three to the same keys, variables and defaults).
 *
 * @param http        the HTTP server
 * @param list        list pages
 * @param store       the store's folder, sizing, growth and syncing
 * @param audit       the audit trail
 * @param bridge      the TCP event-bus bridge
 * @param auth        bearer-token checks
 * @param health      readiness
 * @param limits      overload and abuse limits
 * @param edge        who may reach what: the operations port, accepted Host names, proxies
 * @param idempotency idempotent creates
 * @param cluster     cluster mode: Raft peers and this node's id (off without peers)
 */
public record ServiceConfig(HttpSettings http, ListSettings list, StoreSettings store, AuditSettings audit,
                            BridgeSettings bridge, AuthSettings auth, HealthSettings health, LimitSettings limits,
                            EdgeSettings edge, IdempotencySettings idempotency, ClusterSettings cluster) {

  private static final List<Section<?>> SECTIONS = List.of(HttpSettings.SECTION, ListSettings.SECTION,
    StoreSettings.SECTION, AuditSettings.SECTION, BridgeSettings.SECTION, AuthSettings.SECTION, HealthSettings.SECTION,
    LimitSettings.SECTION, EdgeSettings.SECTION, IdempotencySettings.SECTION, ClusterSettings.SECTION);

  /** Every setting, component by component. */
  public static final List<Setting<?, ?>> SETTINGS = SECTIONS.stream()
    .<Setting<?, ?>>flatMap(section -> section.settings().stream()).toList();

  /** The average id is a GUID. */
  static final int AVERAGE_KEY_BYTES = 36;

  /** The defaults, with {@code dataDir} replaced. */
  public static ServiceConfig defaults(Path dataDir) {
    return fromJson(new JsonObject().put("store", new JsonObject().put("dataDir", dataDir.toString())));
  }

  /**
   * Reads a config in the shape of {@code conf/application.yaml} ({@code {"http": {"port": 8080}, ...}});
   * missing settings take their defaults.
   *
   * @throws IllegalArgumentException naming the key and the expected form when a value is invalid
   */
  public static ServiceConfig fromJson(JsonObject json) {
    return new ServiceConfig(HttpSettings.SECTION.read(json), ListSettings.SECTION.read(json),
      StoreSettings.SECTION.read(json), AuditSettings.SECTION.read(json), BridgeSettings.SECTION.read(json),
      AuthSettings.SECTION.read(json), HealthSettings.SECTION.read(json), LimitSettings.SECTION.read(json),
      EdgeSettings.SECTION.read(json), IdempotencySettings.SECTION.read(json), ClusterSettings.SECTION.read(json));
  }

  /** This config as JSON in the shape {@link #fromJson} reads; {@code fromJson(toJson())} equals this. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    HttpSettings.SECTION.write(http, json);
    ListSettings.SECTION.write(list, json);
    StoreSettings.SECTION.write(store, json);
    AuditSettings.SECTION.write(audit, json);
    BridgeSettings.SECTION.write(bridge, json);
    AuthSettings.SECTION.write(auth, json);
    HealthSettings.SECTION.write(health, json);
    LimitSettings.SECTION.write(limits, json);
    EdgeSettings.SECTION.write(edge, json);
    IdempotencySettings.SECTION.write(idempotency, json);
    ClusterSettings.SECTION.write(cluster, json);
    return json;
  }

  /**
   * Reads {@code yamlFile} (if it exists), then lets each setting's environment variable override it.
   *
   * @throws IllegalArgumentException naming the key and the expected form when a value is invalid
   */
  public static ServiceConfig load(Path yamlFile, Map<String, String> env) {
    return load(yamlFile, env, Map.of());
  }

  /**
   * Reads {@code yamlFile} (if it exists), then lets each setting's environment variable override it, then a
   * system property named by the setting's key ({@code http.port=9000}).
   *
   * @throws IllegalArgumentException naming the key and the expected form when a value is invalid
   */
  public static ServiceConfig load(Path yamlFile, Map<String, String> env, Map<String, String> systemProperties) {
    return fromJson(ConfigSources.read(yamlFile, env, systemProperties, SETTINGS));
  }

  /** A copy with some settings replaced, given in the shape of {@link #toJson()}. */
  public ServiceConfig with(JsonObject overrides) {
    return fromJson(toJson().mergeIn(overrides, true));
  }

  /** The audit trail's folder: {@code audit} under the data folder. */
  public Path auditDir() {
    return store.dataDir().resolve("audit");
  }

  /**
   * The operations server's port: {@code ops.port}, except in cluster mode with {@code ops.port} left at its
   * default, where it is {@code http.port + 1000} (so that nodes on one machine, each with its own HTTP port, do not
   * ask for the same one; 8080 gives 9080 as in single-node mode).
   */
  public int opsPort() {
    int port = edge.opsPort();
    if (cluster.enabled() && port == EdgeSettings.OPS_PORT.defaultValue() && http.port() > 0
      && http.port() + 1000 <= 65_535) {
      return http.port() + 1000;
    }
    return port;
  }

  public StoreOptions storeOptions() {
    return new StoreOptions(store.dataDir(), store.entries(), AVERAGE_KEY_BYTES, store.averageValueBytes(),
      audit.enabled() ? audit.outboxEntries() : 0, OperationResults.INDEXED, store.diskBudgetBytes(),
      store.minFreeDiskBytes());
  }
}
