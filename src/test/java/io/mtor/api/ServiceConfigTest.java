package io.mtor.api;

import io.mtor.config.Setting;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Config parsing, without a Vert.x instance. */
class ServiceConfigTest {

  @TempDir
  Path dir;

  @Test
  void defaultsApplyWhenNothingIsSet() {
    ServiceConfig config = ServiceConfig.load(dir.resolve("absent.yaml"), Map.of());
    assertThat(config.http().host()).isEqualTo("0.0.0.0");
    assertThat(config.http().port()).isEqualTo(8080);
    assertThat(config.store().dataDir()).isEqualTo(Path.of("./data"));
    assertThat(config.http().bodyLimitBytes()).isEqualTo(65536);
    assertThat(config.http().publicBaseUrl()).isNull();
  }

  @Test
  void theShippedFileHoldsTheDefaults() {
    assertThat(ServiceConfig.load(Path.of("conf/application.yaml"), Map.of()))
      .isEqualTo(ServiceConfig.load(dir.resolve("absent.yaml"), Map.of()));
  }

  @Test
  void theEnvironmentOverridesTheFile() throws IOException {
    Path file = Files.writeString(dir.resolve("app.yaml"), "http:\n  port: 9000\n  host: 127.0.0.1\nstore:\n  dataDir: /srv/a\n");
    ServiceConfig fromFile = ServiceConfig.load(file, Map.of());
    assertThat(fromFile.http().port()).isEqualTo(9000);
    assertThat(fromFile.http().host()).isEqualTo("127.0.0.1");
    ServiceConfig overridden = ServiceConfig.load(file, Map.of("HTTP_PORT", "9100", "DATA_DIR", "/srv/b",
      "HTTP_HOST", "::1", "PUBLIC_BASE_URL", "https://api.example.com/graph"));
    assertThat(overridden.http().port()).isEqualTo(9100);
    assertThat(overridden.store().dataDir()).isEqualTo(Path.of("/srv/b"));
    assertThat(overridden.http().host()).isEqualTo("::1");
    assertThat(overridden.http().publicBaseUrl()).isEqualTo("https://api.example.com/graph");
  }

  @Test
  void systemPropertiesOverrideTheEnvironmentWhichOverridesTheFile() throws IOException {
    Path file = Files.writeString(dir.resolve("app.yaml"), "http:\n  port: 9000\nlimits:\n  burst: 10\n");
    ServiceConfig config = ServiceConfig.load(file, Map.of("HTTP_PORT", "9100", "RATE_LIMIT_BURST", "20"),
      Map.of("http.port", "9200", "user.home", "/home/x"));
    assertThat(config.http().port()).isEqualTo(9200);
    assertThat(config.limits().burst()).isEqualTo(20);
    assertThatThrownBy(() -> ServiceConfig.load(file, Map.of(), Map.of("http.port", "x")))
      .hasMessageContaining("http.port").hasMessageContaining("HTTP_PORT").hasMessageContaining("expected");
  }

  @Test
  void idempotencyHasItsDefaultsAndItsVariables() {
    ServiceConfig defaults = ServiceConfig.load(null, Map.of());
    assertThat(defaults.idempotency().windowSeconds()).isEqualTo(86_400);
    assertThat(defaults.idempotency().clientRequestId()).isTrue();
    ServiceConfig set = ServiceConfig.load(null, Map.of("IDEMPOTENCY_WINDOW_SECONDS", "60",
      "IDEMPOTENCY_CLIENT_REQUEST_ID", "false"));
    assertThat(set.idempotency().windowSeconds()).isEqualTo(60);
    assertThat(set.idempotency().clientRequestId()).isFalse();
    assertThat(set.toJson().getJsonObject("idempotency"))
      .isEqualTo(new JsonObject().put("windowSeconds", 60).put("clientRequestId", false));
    for (String outOfRange : List.of("0", "2592001")) {
      assertThatThrownBy(() -> ServiceConfig.load(null, Map.of("IDEMPOTENCY_WINDOW_SECONDS", outOfRange)))
        .hasMessageContaining("idempotency.windowSeconds").hasMessageContaining("an integer from 1 to 2592000");
    }
  }

  @Test
  void everySettingHasItsOwnKeyAndVariableAndIsWrittenByToJson() {
    assertThat(ServiceConfig.SETTINGS).extracting(Setting::key).doesNotHaveDuplicates();
    assertThat(ServiceConfig.SETTINGS).extracting(Setting::env).doesNotHaveDuplicates();
    assertThat(dottedKeys(ServiceConfig.load(null, Map.of()).toJson(), ""))
      .containsExactlyInAnyOrderElementsOf(ServiceConfig.SETTINGS.stream().map(Setting::key).toList());
  }

  private static List<String> dottedKeys(JsonObject json, String prefix) {
    List<String> keys = new ArrayList<>();
    json.forEach(entry -> {
      if (entry.getValue() instanceof JsonObject child) {
        keys.addAll(dottedKeys(child, prefix + entry.getKey() + "."));
      } else {
        keys.add(prefix + entry.getKey());
      }
    });
    return keys;
  }

  @Test
  void jsonRoundTrips() {
    ServiceConfig config = ServiceConfig.load(null, Map.of("HTTP_PORT", "0", "STORE_ENTRIES", "2000"));
    assertThat(ServiceConfig.fromJson(config.toJson())).isEqualTo(config);
    assertThat(ServiceConfig.fromJson(new JsonObject())).isEqualTo(ServiceConfig.load(null, Map.of()));
  }

  @ParameterizedTest(name = "{index} {0}={1}")
  @CsvSource({
    "HTTP_PORT, eighty, http.port",
    "HTTP_PORT, 70000, http.port",
    "HTTP_BODY_LIMIT_BYTES, 10, http.bodyLimitBytes",
    "STORE_ENTRIES, 5, store.entries",
    "STORE_AVERAGE_VALUE_BYTES, lots, store.averageValueBytes",
    "PUBLIC_BASE_URL, ftp://x, http.publicBaseUrl",
    "PUBLIC_BASE_URL, https://x/, http.publicBaseUrl",
    "HTTP_HOST, ' ', http.host",
    "LIST_DEFAULT_PAGE_SIZE, 2000, list.defaultPageSize",
    "ALLOWED_HOSTS, 'a b', http.allowedHosts",
    "AUTH_JWKS_URL, file:///x, auth.jwksUrl",
    "AUDIT_ENABLED, yes, audit.enabled"})
  void anInvalidValueIsRefusedNamingTheKeyAndTheExpectedForm(String env, String value, String key) {
    assertThatThrownBy(() -> ServiceConfig.load(null, Map.of(env, value)))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining(key).hasMessageContaining(env).hasMessageContaining("expected");
  }

  @Test
  void aBrokenFileIsRefusedNamingTheFile() throws IOException {
    Path file = Files.writeString(dir.resolve("bad.yaml"), "http: [unclosed\n");
    assertThatThrownBy(() -> ServiceConfig.load(file, Map.of())).hasMessageContaining("bad.yaml");
  }
}
