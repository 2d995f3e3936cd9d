package io.mtor.config;


import java.util.List;

/**
 * What the service exposes, and to whom.
 *
 * @param opsHost               interface of the operations server ({@code /metrics}, detailed health)
 * @param opsPort               port of the operations server; 0 picks a free one
 * @param allowedHosts          Host header names accepted besides the server's own (its host name and addresses,
 *                              localhost); links are built from an accepted Host only
 * @param trustForwardedHeaders whether {@code Forwarded}/{@code X-Forwarded-*} from a proxy set the scheme and host
 *                              of links
 */
public record EdgeSettings(String opsHost, int opsPort, List<String> allowedHosts, boolean trustForwardedHeaders) {

  public static final Setting<EdgeSettings, String> OPS_HOST = Setting.text("ops.host", "OPS_HOST", "127.0.0.1",
    "a host name or IP address", EdgeSettings::opsHost);
  public static final Setting<EdgeSettings, Integer> OPS_PORT = Setting.integer("ops.port", "OPS_PORT", 9080, 0,
    65_535, EdgeSettings::opsPort);
  public static final Setting<EdgeSettings, List<String>> ALLOWED_HOSTS = Setting.list("http.allowedHosts",
    "ALLOWED_HOSTS", "host names separated by commas (e.g. api.example.com,10.0.0.5), or empty",
    host -> host.equalsIgnoreCase(String.valueOf(Authority.host(host))), EdgeSettings::allowedHosts);
  public static final Setting<EdgeSettings, Boolean> TRUST_FORWARDED_HEADERS = Setting.bool(
    "http.trustForwardedHeaders", "TRUST_FORWARDED_HEADERS", false, EdgeSettings::trustForwardedHeaders);

  public EdgeSettings {
    allowedHosts = List.copyOf(allowedHosts);
  }

  public static final Section<EdgeSettings> SECTION = Section.of(v -> new EdgeSettings(v.get(OPS_HOST),
    v.get(OPS_PORT), v.get(ALLOWED_HOSTS), v.get(TRUST_FORWARDED_HEADERS)));
}
