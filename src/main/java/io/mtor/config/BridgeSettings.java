package io.mtor.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The TCP event-bus bridge (outbound events only).
 *
 * @param enabled     whether the bridge runs
 * @param host        interface of the bridge
 * @param port        port of the bridge
 * @param tlsCertFile PEM certificate (chain) the bridge presents; with {@code tlsKeyFile}, the bridge speaks TLS;
 *                    {@code null} for plain TCP (loopback {@code host} only)
 * @param tlsKeyFile  PEM private key of {@code tlsCertFile}, or {@code null}
 */
public record BridgeSettings(boolean enabled, String host, int port, String tlsCertFile, String tlsKeyFile) {

  public static final Setting<BridgeSettings, Boolean> ENABLED = Setting.bool("bridge.enabled", "BRIDGE_ENABLED",
    false, BridgeSettings::enabled);
  public static final Setting<BridgeSettings, String> HOST = Setting.text("bridge.host", "BRIDGE_HOST", "127.0.0.1",
    "a host name or IP address", BridgeSettings::host);
  public static final Setting<BridgeSettings, Integer> PORT = Setting.integer("bridge.port", "BRIDGE_PORT", 7000, 1,
    65_535, BridgeSettings::port);
  public static final Setting<BridgeSettings, String> TLS_CERT_FILE = Setting.optionalText("bridge.tlsCertFile",
    "BRIDGE_TLS_CERT_FILE", "a path to a PEM certificate file (the chain, leaf first), or empty", file -> true,
    BridgeSettings::tlsCertFile);
  public static final Setting<BridgeSettings, String> TLS_KEY_FILE = Setting.optionalText("bridge.tlsKeyFile",
    "BRIDGE_TLS_KEY_FILE", "a path to the PEM private key file of bridge.tlsCertFile, or empty", file -> true,
    BridgeSettings::tlsKeyFile);

  public BridgeSettings {
    if ((tlsCertFile == null) != (tlsKeyFile == null)) {
      throw new IllegalArgumentException("Invalid configuration: " + TLS_CERT_FILE + " and " + TLS_KEY_FILE
        + " go together: expected both PEM files or neither, got '" + tlsCertFile + "' and '" + tlsKeyFile + "'");
    }
    if (enabled && tlsCertFile == null && !isLoopback(host)) {
      throw new IllegalArgumentException("Invalid configuration " + HOST + ": the event-bus bridge would serve "
        + "plaintext TCP on '" + host + "', which is not a loopback address; expected 127.0.0.1, ::1 or localhost, "
        + "or TLS: set " + TLS_CERT_FILE + " and " + TLS_KEY_FILE);
    }
  }

  public static final Section<BridgeSettings> SECTION = Section.of(v -> new BridgeSettings(v.get(ENABLED), v.get(HOST),
    v.get(PORT), v.get(TLS_CERT_FILE), v.get(TLS_KEY_FILE)));

  /** Whether the bridge speaks TLS ({@code bridge.tlsCertFile} and {@code bridge.tlsKeyFile} are set). */
  public boolean tls() {
    return tlsCertFile != null;
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
      return InetAddress.getByName(h).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
