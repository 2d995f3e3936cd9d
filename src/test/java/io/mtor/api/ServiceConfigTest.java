package io.mtor.api;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    assertThat(config.httpHost()).isEqualTo("0.0.0.0");
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.dataDir()).isEqualTo(Path.of("./data"));
    assertThat(config.bodyLimitBytes()).isEqualTo(65536);
    assertThat(config.publicBaseUrl()).isNull();
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
    assertThat(fromFile.httpPort()).isEqualTo(9000);
    assertThat(fromFile.httpHost()).isEqualTo("127.0.0.1");
    ServiceConfig overridden = ServiceConfig.load(file, Map.of("HTTP_PORT", "9100", "DATA_DIR", "/srv/b",
      "HTTP_HOST", "::1", "PUBLIC_BASE_URL", "https://api.example.com/graph"));
    assertThat(overridden.httpPort()).isEqualTo(9100);
    assertThat(overridden.dataDir()).isEqualTo(Path.of("/srv/b"));
    assertThat(overridden.httpHost()).isEqualTo("::1");
    assertThat(overridden.publicBaseUrl()).isEqualTo("https://api.example.com/graph");
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
    "HTTP_HOST, ' ', http.host"})
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
