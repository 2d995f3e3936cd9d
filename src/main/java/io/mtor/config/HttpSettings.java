package io.mtor.config;

/**
 * The HTTP server.
 *
 * @param host           interface to listen on
 * @param port           port to listen on; 0 picks a free one
 * @param instances      event loops serving HTTP (one server each, sharing the port)
 * @param bodyLimitBytes largest accepted request body; larger ones get 413
 * @param publicBaseUrl  absolute URL prefix for {@code Location} and {@code @odata.context} (e.g. behind a proxy);
 *                       {@code null} derives it from the request
 */
public record HttpSettings(String host, int port, int instances, int bodyLimitBytes, String publicBaseUrl) {

  public static final Setting<HttpSettings, String> HOST = Setting.text("http.host", "HTTP_HOST", "0.0.0.0",
    "a host name or IP address", HttpSettings::host);
  public static final Setting<HttpSettings, Integer> PORT = Setting.integer("http.port", "HTTP_PORT", 8080, 0, 65_535,
    HttpSettings::port);
  public static final Setting<HttpSettings, Integer> INSTANCES = Setting.integer("http.instances", "HTTP_INSTANCES",
    Runtime.getRuntime().availableProcessors(), 1, 256, HttpSettings::instances).documentedAs("CPU cores");
  public static final Setting<HttpSettings, Integer> BODY_LIMIT = Setting.integer("http.bodyLimitBytes",
    "HTTP_BODY_LIMIT_BYTES", 65_536, 1024, 16 << 20, HttpSettings::bodyLimitBytes);
  public static final Setting<HttpSettings, String> PUBLIC_BASE_URL = Setting.optionalText("http.publicBaseUrl",
    "PUBLIC_BASE_URL", "an absolute http(s) URL without a trailing slash, or empty",
    url -> url.matches("https?://[^/?#\\s]+(/[^?#\\s]*)?") && !url.endsWith("/"), HttpSettings::publicBaseUrl);

  public static final Section<HttpSettings> SECTION = Section.of(v -> new HttpSettings(v.get(HOST), v.get(PORT),
    v.get(INSTANCES), v.get(BODY_LIMIT), v.get(PUBLIC_BASE_URL)));
}
