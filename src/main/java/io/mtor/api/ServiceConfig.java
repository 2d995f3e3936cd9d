package io.mtor.api;

import io.mtor.auth.AuthSettings;
import io.mtor.domain.OperationResults;
import io.mtor.store.StoreOptions;
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
 * The service's configuration: immutable, with defaults, read from JSON (the verticle's config) or from
 * {@code conf/application.yaml} overridden by environment variables. Parsing needs no Vert.x instance.
 *
 * @param httpHost               interface to listen on
 * @param httpPort               port to listen on; 0 picks a free one
 * @param httpInstances          event loops serving HTTP (one server each, sharing the port)
 * @param bodyLimitBytes         largest accepted request body; larger ones get 413
 * @param publicBaseUrl          absolute URL prefix for {@code Location} and {@code @odata.context}
 *                               (e.g. behind a proxy); {@code null} derives it from the request
 * @param listDefaultPageSize    records in a list page without {@code $top}
 * @param listMaxPageSize        the most records in one list page
 * @param dataDir                folder of the store file
 * @param storeEntries           records the store is sized for
 * @param storeAverageValueBytes average stored entity size in bytes
 * @param auditEnabled           whether the service deploys its audit trail writer
 * @param auditMaxFileBytes      size at which an audit file is rotated
 * @param auditOutboxEntries     events that may await the audit trail before writes answer 503
 * @param bridgeEnabled          whether the TCP event-bus bridge runs (outbound events only)
 * @param bridgeHost             interface of the bridge
 * @param bridgePort             port of the bridge
 * @param bridgeTlsCertFile      PEM certificate (chain) the bridge presents; with {@code bridgeTlsKeyFile}, the
 *                               bridge speaks TLS; {@code null} for plain TCP (loopback {@code bridgeHost} only)
 * @param bridgeTlsKeyFile       PEM private key of {@code bridgeTlsCertFile}, or {@code null}
 * @param auth                   bearer-token checks
 * @param healthMaxAuditBacklog  audit backlog at and above which /health/ready answers 503
 * @param limits                 overload, abuse and durability limits
 * @param edge                   who may reach what: the operations port, accepted Host names, proxies
 */
public record ServiceConfig(String httpHost, int httpPort, int httpInstances, int bodyLimitBytes, String publicBaseUrl,
                            int listDefaultPageSize, int listMaxPageSize,
                            Path dataDir, long storeEntries, int storeAverageValueBytes,
                            boolean auditEnabled, long auditMaxFileBytes, long auditOutboxEntries,
                            boolean bridgeEnabled, String bridgeHost, int bridgePort,
                            String bridgeTlsCertFile, String bridgeTlsKeyFile, AuthSettings auth,
                            long healthMaxAuditBacklog, Limits limits, Edge edge) {

  /**
   * Protection against overload and abuse, and the store's growth and durability.
   *
   * @param maxInFlight           requests served at once; beyond, 503 with Retry-After
   * @param maxHeaderBytes        total request header size; beyond, 431
   * @param maxUrlBytes           request line length; beyond, 414
   * @param idleTimeoutSeconds    an idle connection is closed after this long
   * @param requestTimeoutSeconds a request not answered in this long (a body that trickles in, say) gets 408
   * @param ratePerSecond         requests per second per caller (token subject, else client address); 0 is off
   * @param burst                 requests a caller may make at once above its rate
   * @param storeDiskBudgetBytes  how large the store's records file may grow beyond its sizing; 0 is 4x the sizing
   * @param storeSyncMillis       how often the store files are forced to disk (fsync); 0 leaves it to the kernel
   * @param maxScans              list queries running at once in the process; beyond, 503 with Retry-After
   * @param maxScansPerCaller     list queries one caller may have running at once; beyond, 429 with Retry-After
   * @param queryBudgetMillis     how long one list query may read the store before it is stopped (400)
   */
  public record Limits(int maxInFlight, int maxHeaderBytes, int maxUrlBytes, int idleTimeoutSeconds,
                       int requestTimeoutSeconds, int ratePerSecond, int burst, long storeDiskBudgetBytes,
                       long storeSyncMillis, int maxScans, int maxScansPerCaller, long queryBudgetMillis) {
  }

  /**
   * What the service exposes, and to whom.
   *
   * @param opsHost              interface of the operations server ({@code /metrics}, detailed health)
   * @param opsPort              port of the operations server; 0 picks a free one
   * @param allowedHosts         Host header names accepted besides the server's own (its host name and
   *                             addresses, localhost); links are built from an accepted Host only
   * @param trustForwardedHeaders whether {@code Forwarded}/{@code X-Forwarded-*} from a proxy set the scheme
   *                             and host of links
   */
  public record Edge(String opsHost, int opsPort, List<String> allowedHosts, boolean trustForwardedHeaders) {
  }

  /** A setting: its dotted key in the YAML file and JSON config, its environment variable, its default. */
  public record Setting(String key, String env, Object defaultValue, String expected) {
  }

  public static final Setting HTTP_HOST = new Setting("http.host", "HTTP_HOST", "0.0.0.0", "a host name or IP address");
  public static final Setting HTTP_PORT = new Setting("http.port", "HTTP_PORT", 8080, "an integer from 0 to 65535");
  public static final Setting HTTP_INSTANCES = new Setting("http.instances", "HTTP_INSTANCES",
    Runtime.getRuntime().availableProcessors(), "an integer from 1 to 256");
  public static final Setting HTTP_BODY_LIMIT = new Setting("http.bodyLimitBytes", "HTTP_BODY_LIMIT_BYTES", 65536,
    "an integer from 1024 to 16777216");
  public static final Setting PUBLIC_BASE_URL = new Setting("http.publicBaseUrl", "PUBLIC_BASE_URL", null,
    "an absolute http(s) URL without a trailing slash, or empty");
  public static final Setting LIST_DEFAULT_PAGE = new Setting("list.defaultPageSize", "LIST_DEFAULT_PAGE_SIZE", 100,
    "an integer from 1 to list.maxPageSize");
  public static final Setting LIST_MAX_PAGE = new Setting("list.maxPageSize", "LIST_MAX_PAGE_SIZE", 1000,
    "an integer from 1 to 10000");
  public static final Setting DATA_DIR = new Setting("store.dataDir", "DATA_DIR", "./data", "a folder path");
  public static final Setting STORE_ENTRIES = new Setting("store.entries", "STORE_ENTRIES", 100_000,
    "an integer from 100 to 1000000000");
  public static final Setting STORE_AVERAGE_VALUE = new Setting("store.averageValueBytes",
    "STORE_AVERAGE_VALUE_BYTES", 640, "an integer from 64 to 1048576");

  public static final Setting AUDIT_ENABLED = new Setting("audit.enabled", "AUDIT_ENABLED", true, "true or false");
  public static final Setting AUDIT_MAX_FILE = new Setting("audit.maxFileBytes", "AUDIT_MAX_FILE_BYTES", 64L << 20,
    "an integer from 4096 to 68719476736");
  public static final Setting AUDIT_OUTBOX = new Setting("audit.outboxEntries", "AUDIT_OUTBOX_ENTRIES", 50_000,
    "an integer from 100 to 100000000");
  public static final Setting BRIDGE_ENABLED = new Setting("bridge.enabled", "BRIDGE_ENABLED", false, "true or false");
  public static final Setting BRIDGE_HOST = new Setting("bridge.host", "BRIDGE_HOST", "127.0.0.1", "a host name or IP address");
  public static final Setting BRIDGE_PORT = new Setting("bridge.port", "BRIDGE_PORT", 7000, "an integer from 1 to 65535");
  public static final Setting BRIDGE_TLS_CERT_FILE = new Setting("bridge.tlsCertFile", "BRIDGE_TLS_CERT_FILE", null,
    "a path to a PEM certificate file (the chain, leaf first), or empty");
  public static final Setting BRIDGE_TLS_KEY_FILE = new Setting("bridge.tlsKeyFile", "BRIDGE_TLS_KEY_FILE", null,
    "a path to the PEM private key file of bridge.tlsCertFile, or empty");

  public static final Setting AUTH_ENABLED = new Setting("auth.enabled", "AUTH_ENABLED", true, "true or false");
  public static final Setting AUTH_ISSUER = new Setting("auth.issuer", "AUTH_ISSUER",
    "https://managed-tenant-operation-results.local/dev", "the issuer (iss) tokens must carry");
  public static final Setting AUTH_AUDIENCE = new Setting("auth.audience", "AUTH_AUDIENCE",
    "api://managed-tenant-operation-results", "the audience (aud) tokens must carry");
  public static final Setting AUTH_JWKS_URL = new Setting("auth.jwksUrl", "AUTH_JWKS_URL", null,
    "an http(s) URL of a JWKS, or empty");
  public static final Setting AUTH_JWKS_FILE = new Setting("auth.jwksFile", "AUTH_JWKS_FILE", null,
    "a path to a JWKS (JSON) or PEM public key file, or empty");
  public static final Setting AUTH_DEV_KEY = new Setting("auth.devKey", "AUTH_DEV_KEY", true, "true or false");
  public static final Setting AUTH_CLOCK_SKEW = new Setting("auth.clockSkewSeconds", "AUTH_CLOCK_SKEW_SECONDS", 60,
    "an integer from 0 to 600");
  public static final Setting AUTH_JWKS_REFRESH = new Setting("auth.jwksRefreshSeconds", "AUTH_JWKS_REFRESH_SECONDS",
    3600, "an integer from 10 to 86400");
  public static final Setting AUTH_TENANT_ISOLATION = new Setting("auth.tenantIsolation", "AUTH_TENANT_ISOLATION",
    true, "true or false");

  public static final Setting HEALTH_MAX_AUDIT_BACKLOG = new Setting("health.maxAuditBacklog",
    "HEALTH_MAX_AUDIT_BACKLOG", 10_000, "an integer from 1 to 100000000");

  public static final Setting MAX_IN_FLIGHT = new Setting("limits.maxInFlight", "MAX_IN_FLIGHT", 4096,
    "an integer from 1 to 1000000");
  public static final Setting MAX_HEADER_BYTES = new Setting("limits.maxHeaderBytes", "MAX_HEADER_BYTES", 8192,
    "an integer from 1024 to 1048576");
  public static final Setting MAX_URL_BYTES = new Setting("limits.maxUrlBytes", "MAX_URL_BYTES", 4096,
    "an integer from 256 to 1048576");
  public static final Setting IDLE_TIMEOUT = new Setting("limits.idleTimeoutSeconds", "IDLE_TIMEOUT_SECONDS", 60,
    "an integer from 1 to 86400");
  public static final Setting REQUEST_TIMEOUT = new Setting("limits.requestTimeoutSeconds", "REQUEST_TIMEOUT_SECONDS", 30,
    "an integer from 1 to 3600");
  public static final Setting RATE_PER_SECOND = new Setting("limits.ratePerSecond", "RATE_LIMIT_PER_SECOND", 1000,
    "an integer from 0 (off) to 1000000");
  public static final Setting RATE_BURST = new Setting("limits.burst", "RATE_LIMIT_BURST", 2000,
    "an integer from 1 to 1000000");
  public static final Setting MAX_SCANS = new Setting("limits.maxScans", "MAX_SCANS", 4,
    "an integer from 1 to 256");
  public static final Setting MAX_SCANS_PER_CALLER = new Setting("limits.maxScansPerCaller", "MAX_SCANS_PER_CALLER", 2,
    "an integer from 1 to 256");
  public static final Setting QUERY_BUDGET = new Setting("limits.queryBudgetMillis", "QUERY_BUDGET_MILLIS", 10_000,
    "an integer from 100 to 600000");
  public static final Setting OPS_HOST = new Setting("ops.host", "OPS_HOST", "127.0.0.1", "a host name or IP address");
  public static final Setting OPS_PORT = new Setting("ops.port", "OPS_PORT", 9080, "an integer from 0 to 65535");
  public static final Setting ALLOWED_HOSTS = new Setting("http.allowedHosts", "ALLOWED_HOSTS", "",
    "host names separated by commas (e.g. api.example.com,10.0.0.5), or empty");
  public static final Setting TRUST_FORWARDED = new Setting("http.trustForwardedHeaders", "TRUST_FORWARDED_HEADERS",
    false, "true or false");
  public static final Setting STORE_DISK_BUDGET = new Setting("store.diskBudgetBytes", "STORE_DISK_BUDGET_BYTES", 0,
    "a number of bytes, 0 for 4x the sizing");
  public static final Setting STORE_SYNC = new Setting("store.syncIntervalMillis", "STORE_SYNC_INTERVAL_MILLIS", 0,
    "an integer from 0 (off) to 3600000");

  /** Every setting, in the order of the README's configuration table. */
  public static final List<Setting> SETTINGS = List.of(HTTP_HOST, HTTP_PORT, HTTP_INSTANCES, HTTP_BODY_LIMIT, PUBLIC_BASE_URL,
    LIST_DEFAULT_PAGE, LIST_MAX_PAGE, DATA_DIR, STORE_ENTRIES, STORE_AVERAGE_VALUE, AUDIT_ENABLED, AUDIT_MAX_FILE, AUDIT_OUTBOX, BRIDGE_ENABLED,
    BRIDGE_HOST, BRIDGE_PORT, BRIDGE_TLS_CERT_FILE, BRIDGE_TLS_KEY_FILE, AUTH_ENABLED, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL, AUTH_JWKS_FILE, AUTH_DEV_KEY,
    AUTH_CLOCK_SKEW, AUTH_JWKS_REFRESH, AUTH_TENANT_ISOLATION, HEALTH_MAX_AUDIT_BACKLOG, MAX_IN_FLIGHT,
    MAX_HEADER_BYTES, MAX_URL_BYTES, IDLE_TIMEOUT, REQUEST_TIMEOUT, RATE_PER_SECOND, RATE_BURST, STORE_DISK_BUDGET,
    STORE_SYNC, MAX_SCANS, MAX_SCANS_PER_CALLER, QUERY_BUDGET, OPS_HOST, OPS_PORT, ALLOWED_HOSTS, TRUST_FORWARDED);


  /** The average id is a GUID. */
  static final int AVERAGE_KEY_BYTES = 36;

  public ServiceConfig {
    if (httpHost == null || httpHost.isBlank()) {
      throw invalid(HTTP_HOST, httpHost);
    }
    if (httpPort < 0 || httpPort > 65535) {
      throw invalid(HTTP_PORT, httpPort);
    }
    if (httpInstances < 1 || httpInstances > 256) {
      throw invalid(HTTP_INSTANCES, httpInstances);
    }
    if (bodyLimitBytes < 1024 || bodyLimitBytes > 16 * 1024 * 1024) {
      throw invalid(HTTP_BODY_LIMIT, bodyLimitBytes);
    }
    if (publicBaseUrl != null && publicBaseUrl.isEmpty()) {
      publicBaseUrl = null;
    }
    if (publicBaseUrl != null && (!publicBaseUrl.matches("https?://[^/?#\\s]+(/[^?#\\s]*)?") || publicBaseUrl.endsWith("/"))) {
      throw invalid(PUBLIC_BASE_URL, publicBaseUrl);
    }
    if (listMaxPageSize < 1 || listMaxPageSize > 10_000) {
      throw invalid(LIST_MAX_PAGE, listMaxPageSize);
    }
    if (listDefaultPageSize < 1 || listDefaultPageSize > listMaxPageSize) {
      throw invalid(LIST_DEFAULT_PAGE, listDefaultPageSize);
    }
    if (dataDir == null || dataDir.toString().isBlank()) {
      throw invalid(DATA_DIR, dataDir);
    }
    if (storeEntries < 100 || storeEntries > 1_000_000_000L) {
      throw invalid(STORE_ENTRIES, storeEntries);
    }
    if (storeAverageValueBytes < 64 || storeAverageValueBytes > 1024 * 1024) {
      throw invalid(STORE_AVERAGE_VALUE, storeAverageValueBytes);
    }
    if (auditMaxFileBytes < 4096 || auditMaxFileBytes > 64L << 30) {
      throw invalid(AUDIT_MAX_FILE, auditMaxFileBytes);
    }
    if (auditOutboxEntries < 100 || auditOutboxEntries > 100_000_000L) {
      throw invalid(AUDIT_OUTBOX, auditOutboxEntries);
    }
    if (bridgeHost == null || bridgeHost.isBlank()) {
      throw invalid(BRIDGE_HOST, bridgeHost);
    }
    if (bridgePort < 1 || bridgePort > 65535) {
      throw invalid(BRIDGE_PORT, bridgePort);
    }
    bridgeTlsCertFile = emptyToNull(bridgeTlsCertFile);
    bridgeTlsKeyFile = emptyToNull(bridgeTlsKeyFile);
    if ((bridgeTlsCertFile == null) != (bridgeTlsKeyFile == null)) {
      throw new IllegalArgumentException("Invalid configuration: " + BRIDGE_TLS_CERT_FILE.key() + " (environment "
        + BRIDGE_TLS_CERT_FILE.env() + ") and " + BRIDGE_TLS_KEY_FILE.key() + " (environment " + BRIDGE_TLS_KEY_FILE.env()
        + ") go together: expected both PEM files or neither, got '" + bridgeTlsCertFile + "' and '" + bridgeTlsKeyFile + "'");
    }
    if (bridgeEnabled && bridgeTlsCertFile == null && !isLoopback(bridgeHost)) {
      throw new IllegalArgumentException("Invalid configuration " + BRIDGE_HOST.key() + " (environment " + BRIDGE_HOST.env()
        + "): the event-bus bridge would serve plaintext TCP on '" + bridgeHost + "', which is not a loopback address; "
        + "expected 127.0.0.1, ::1 or localhost, or TLS: set " + BRIDGE_TLS_CERT_FILE.key() + " and "
        + BRIDGE_TLS_KEY_FILE.key() + " (environment " + BRIDGE_TLS_CERT_FILE.env() + ", " + BRIDGE_TLS_KEY_FILE.env() + ")");
    }
    checkRange(MAX_IN_FLIGHT, limits.maxInFlight(), 1, 1_000_000);
    checkRange(MAX_HEADER_BYTES, limits.maxHeaderBytes(), 1024, 1 << 20);
    checkRange(MAX_URL_BYTES, limits.maxUrlBytes(), 256, 1 << 20);
    checkRange(IDLE_TIMEOUT, limits.idleTimeoutSeconds(), 1, 86_400);
    checkRange(REQUEST_TIMEOUT, limits.requestTimeoutSeconds(), 1, 3_600);
    checkRange(RATE_PER_SECOND, limits.ratePerSecond(), 0, 1_000_000);
    checkRange(RATE_BURST, limits.burst(), 1, 1_000_000);
    checkRange(STORE_DISK_BUDGET, limits.storeDiskBudgetBytes(), 0, Long.MAX_VALUE);
    checkRange(STORE_SYNC, limits.storeSyncMillis(), 0, 3_600_000);
    checkRange(MAX_SCANS, limits.maxScans(), 1, 256);
    checkRange(MAX_SCANS_PER_CALLER, limits.maxScansPerCaller(), 1, 256);
    checkRange(QUERY_BUDGET, limits.queryBudgetMillis(), 100, 600_000);
    if (edge.opsHost() == null || edge.opsHost().isBlank()) {
      throw invalid(OPS_HOST, edge.opsHost());
    }
    checkRange(OPS_PORT, edge.opsPort(), 0, 65_535);
    for (String host : edge.allowedHosts()) {
      if (!host.equalsIgnoreCase(String.valueOf(io.mtor.http.HostCheck.host(host)))) {
        throw invalid(ALLOWED_HOSTS, String.join(",", edge.allowedHosts()));
      }
    }
    if (healthMaxAuditBacklog < 1 || healthMaxAuditBacklog > 100_000_000L) {
      throw invalid(HEALTH_MAX_AUDIT_BACKLOG, healthMaxAuditBacklog);
    }
    if (auth.issuer() == null || auth.issuer().isBlank()) {
      throw invalid(AUTH_ISSUER, auth.issuer());
    }
    if (auth.audience() == null || auth.audience().isBlank()) {
      throw invalid(AUTH_AUDIENCE, auth.audience());
    }
    if (auth.jwksUrl() != null && !auth.jwksUrl().matches("https?://\\S+")) {
      throw invalid(AUTH_JWKS_URL, auth.jwksUrl());
    }
    if (auth.clockSkewSeconds() < 0 || auth.clockSkewSeconds() > 600) {
      throw invalid(AUTH_CLOCK_SKEW, auth.clockSkewSeconds());
    }
    if (auth.refreshSeconds() < 10 || auth.refreshSeconds() > 86_400) {
      throw invalid(AUTH_JWKS_REFRESH, auth.refreshSeconds());
    }
  }

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
    return new ServiceConfig(
      string(json, HTTP_HOST),
      (int) integer(json, HTTP_PORT),
      (int) integer(json, HTTP_INSTANCES),
      (int) integer(json, HTTP_BODY_LIMIT),
      string(json, PUBLIC_BASE_URL),
      (int) integer(json, LIST_DEFAULT_PAGE),
      (int) integer(json, LIST_MAX_PAGE),
      Path.of(string(json, DATA_DIR)),
      integer(json, STORE_ENTRIES),
      (int) integer(json, STORE_AVERAGE_VALUE),
      bool(json, AUDIT_ENABLED),
      integer(json, AUDIT_MAX_FILE),
      integer(json, AUDIT_OUTBOX),
      bool(json, BRIDGE_ENABLED),
      string(json, BRIDGE_HOST),
      (int) integer(json, BRIDGE_PORT),
      string(json, BRIDGE_TLS_CERT_FILE), string(json, BRIDGE_TLS_KEY_FILE),
      new AuthSettings(bool(json, AUTH_ENABLED), string(json, AUTH_ISSUER), string(json, AUTH_AUDIENCE),
        emptyToNull(string(json, AUTH_JWKS_URL)), emptyToNull(string(json, AUTH_JWKS_FILE)), bool(json, AUTH_DEV_KEY),
        (int) integer(json, AUTH_CLOCK_SKEW), (int) integer(json, AUTH_JWKS_REFRESH), bool(json, AUTH_TENANT_ISOLATION)),
      integer(json, HEALTH_MAX_AUDIT_BACKLOG),
      new Limits((int) integer(json, MAX_IN_FLIGHT), (int) integer(json, MAX_HEADER_BYTES), (int) integer(json, MAX_URL_BYTES),
        (int) integer(json, IDLE_TIMEOUT), (int) integer(json, REQUEST_TIMEOUT), (int) integer(json, RATE_PER_SECOND),
        (int) integer(json, RATE_BURST), integer(json, STORE_DISK_BUDGET), integer(json, STORE_SYNC),
        (int) integer(json, MAX_SCANS), (int) integer(json, MAX_SCANS_PER_CALLER), integer(json, QUERY_BUDGET)),
      new Edge(string(json, OPS_HOST), (int) integer(json, OPS_PORT), list(string(json, ALLOWED_HOSTS)),
        bool(json, TRUST_FORWARDED)));
  }

  private static List<String> list(String commaSeparated) {
    if (commaSeparated == null || commaSeparated.isBlank()) {
      return List.of();
    }
    return java.util.Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static void checkRange(Setting setting, long value, long min, long max) {
    if (value < min || value > max) {
      throw invalid(setting, value);
    }
  }

  private static String emptyToNull(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  /**
   * Reads {@code yamlFile} (if it exists), then lets each setting's environment variable override it.
   *
   * @throws IllegalArgumentException naming the key and the expected form when a value is invalid
   */
  public static ServiceConfig load(Path yamlFile, Map<String, String> env) {
    JsonObject json = new JsonObject();
    if (yamlFile != null && Files.exists(yamlFile)) {
      try (Reader reader = Files.newBufferedReader(yamlFile, StandardCharsets.UTF_8)) {
        Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        if (loaded instanceof Map<?, ?> map) {
          json = new JsonObject(stringKeys(map));
        } else if (loaded != null) {
          throw new IllegalArgumentException(yamlFile + ": expected a YAML mapping at the top level");
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("Cannot read " + yamlFile + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        if (e instanceof IllegalArgumentException) {
          throw e;
        }
        throw new IllegalArgumentException(yamlFile + " is not valid YAML: " + e.getMessage(), e);
      }
    }
    for (Setting setting : SETTINGS) {
      String value = env.get(setting.env());
      if (value != null) {
        put(json, setting.key(), value);
      }
    }
    return fromJson(json);
  }

  /** This config as JSON in the shape {@link #fromJson} reads; {@code fromJson(toJson())} equals this. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    put(json, HTTP_HOST.key(), httpHost);
    put(json, HTTP_PORT.key(), httpPort);
    put(json, HTTP_INSTANCES.key(), httpInstances);
    put(json, HTTP_BODY_LIMIT.key(), bodyLimitBytes);
    put(json, PUBLIC_BASE_URL.key(), publicBaseUrl);
    put(json, LIST_DEFAULT_PAGE.key(), listDefaultPageSize);
    put(json, LIST_MAX_PAGE.key(), listMaxPageSize);
    put(json, DATA_DIR.key(), dataDir.toString());
    put(json, STORE_ENTRIES.key(), storeEntries);
    put(json, STORE_AVERAGE_VALUE.key(), storeAverageValueBytes);
    put(json, AUDIT_ENABLED.key(), auditEnabled);
    put(json, AUDIT_MAX_FILE.key(), auditMaxFileBytes);
    put(json, AUDIT_OUTBOX.key(), auditOutboxEntries);
    put(json, BRIDGE_ENABLED.key(), bridgeEnabled);
    put(json, BRIDGE_HOST.key(), bridgeHost);
    put(json, BRIDGE_PORT.key(), bridgePort);
    put(json, BRIDGE_TLS_CERT_FILE.key(), bridgeTlsCertFile);
    put(json, BRIDGE_TLS_KEY_FILE.key(), bridgeTlsKeyFile);
    put(json, AUTH_ENABLED.key(), auth.enabled());
    put(json, AUTH_ISSUER.key(), auth.issuer());
    put(json, AUTH_AUDIENCE.key(), auth.audience());
    put(json, AUTH_JWKS_URL.key(), auth.jwksUrl());
    put(json, AUTH_JWKS_FILE.key(), auth.jwksFile());
    put(json, AUTH_DEV_KEY.key(), auth.devKey());
    put(json, AUTH_CLOCK_SKEW.key(), auth.clockSkewSeconds());
    put(json, AUTH_JWKS_REFRESH.key(), auth.refreshSeconds());
    put(json, AUTH_TENANT_ISOLATION.key(), auth.tenantIsolation());
    put(json, HEALTH_MAX_AUDIT_BACKLOG.key(), healthMaxAuditBacklog);
    put(json, MAX_IN_FLIGHT.key(), limits.maxInFlight());
    put(json, MAX_HEADER_BYTES.key(), limits.maxHeaderBytes());
    put(json, MAX_URL_BYTES.key(), limits.maxUrlBytes());
    put(json, IDLE_TIMEOUT.key(), limits.idleTimeoutSeconds());
    put(json, REQUEST_TIMEOUT.key(), limits.requestTimeoutSeconds());
    put(json, RATE_PER_SECOND.key(), limits.ratePerSecond());
    put(json, RATE_BURST.key(), limits.burst());
    put(json, STORE_DISK_BUDGET.key(), limits.storeDiskBudgetBytes());
    put(json, STORE_SYNC.key(), limits.storeSyncMillis());
    put(json, MAX_SCANS.key(), limits.maxScans());
    put(json, MAX_SCANS_PER_CALLER.key(), limits.maxScansPerCaller());
    put(json, QUERY_BUDGET.key(), limits.queryBudgetMillis());
    put(json, OPS_HOST.key(), edge.opsHost());
    put(json, OPS_PORT.key(), edge.opsPort());
    put(json, ALLOWED_HOSTS.key(), String.join(",", edge.allowedHosts()));
    put(json, TRUST_FORWARDED.key(), edge.trustForwardedHeaders());
    return json;
  }

  /** Whether the bridge speaks TLS ({@code bridge.tlsCertFile} and {@code bridge.tlsKeyFile} are set). */
  public boolean bridgeTls() {
    return bridgeTlsCertFile != null;
  }

  /**
   * Whether {@code host} is a loopback interface: {@code localhost}, or an IP literal in 127.0.0.0/8 or
   * {@code ::1}. Other names are not resolved (a name's address can change): they count as not loopback.
   */
  static boolean isLoopback(String host) {
    String h = host.trim();
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (h.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      String[] octets = h.split("\\.");
      for (String octet : octets) {
        if (Integer.parseInt(octet) > 255) {
          return false;
        }
      }
      return octets[0].equals("127");
    }
    if (!h.contains(":") || !h.matches("[0-9a-fA-F:.]+")) {
      return false;
    }
    try {
      // An IPv6 literal (one with a colon is never looked up): ::1, or an IPv4-mapped 127.x address.
      return java.net.InetAddress.getByName(h).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /** The audit trail's folder: {@code audit} under the data folder. */
  public Path auditDir() {
    return dataDir.resolve("audit");
  }

  public StoreOptions storeOptions() {
    return new StoreOptions(dataDir, storeEntries, AVERAGE_KEY_BYTES, storeAverageValueBytes,
      auditEnabled ? auditOutboxEntries : 0, OperationResults.INDEXED, limits.storeDiskBudgetBytes(),
      limits.storeSyncMillis());
  }

  /** A copy with some settings replaced, given in the shape of {@link #toJson()}. */
  public ServiceConfig with(JsonObject overrides) {
    return fromJson(toJson().mergeIn(overrides, true));
  }

  private static Object lookup(JsonObject json, Setting setting) {
    String[] parts = setting.key().split("\\.");
    Object node = json;
    for (String part : parts) {
      if (!(node instanceof JsonObject object)) {
        return setting.defaultValue();
      }
      node = object.getValue(part);
    }
    return node == null ? setting.defaultValue() : node;
  }

  private static String string(JsonObject json, Setting setting) {
    Object value = lookup(json, setting);
    if (value == null) {
      return null;
    }
    if (value instanceof JsonObject || value instanceof io.vertx.core.json.JsonArray) {
      throw invalid(setting, value);
    }
    return value.toString().trim();
  }

  private static long integer(JsonObject json, Setting setting) {
    Object value = lookup(json, setting);
    if (value instanceof Number number && number.doubleValue() == number.longValue()) {
      return number.longValue();
    }
    if (value instanceof String text) {
      try {
        return Long.parseLong(text.trim().replace("_", ""));
      } catch (NumberFormatException e) {
        throw invalid(setting, value);
      }
    }
    throw invalid(setting, value);
  }

  private static boolean bool(JsonObject json, Setting setting) {
    Object value = lookup(json, setting);
    if (value instanceof Boolean b) {
      return b;
    }
    if (value instanceof String text && (text.trim().equalsIgnoreCase("true") || text.trim().equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(text.trim());
    }
    throw invalid(setting, value);
  }

  private static void put(JsonObject json, String dottedKey, Object value) {
    String[] parts = dottedKey.split("\\.");
    JsonObject node = json;
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = node.getValue(parts[i]);
      if (!(child instanceof JsonObject)) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = (JsonObject) child;
    }
    node.put(parts[parts.length - 1], value);
  }

  private static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> out.put(String.valueOf(k), v instanceof Map<?, ?> m ? stringKeys(m) : v));
    return out;
  }

  private static IllegalArgumentException invalid(Setting setting, Object value) {
    return new IllegalArgumentException("Invalid configuration " + setting.key() + " (environment "
      + setting.env() + "): expected " + setting.expected() + ", got '" + value + "'");
  }
}
