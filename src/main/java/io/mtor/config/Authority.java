package io.mtor.config;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A {@code host[:port]} as a {@code Host} header or a configured host name carries it. */
public final class Authority {

  /** host[:port], where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
  private static final Pattern AUTHORITY = Pattern.compile(
    "((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\\.?)|\\[[0-9A-Fa-f:.]+])(?::[0-9]{1,5})?");

  /**
   * Well-formed authorities seen lately and their hosts: a service answers a handful of names, and every request
   * would otherwise run the regex (twice). Bounded: beyond {@value #MAX_PARSED} entries nothing more is kept.
   */
  private static final ConcurrentHashMap<String, String> PARSED = new ConcurrentHashMap<>();
  private static final int MAX_PARSED = 256;

  private Authority() {
  }

  /** The lowercase host of a {@code host[:port]}, or null if it is not one. */
  public static String host(String authority) {
    if (authority == null) {
      return null;
    }
    String known = PARSED.get(authority);
    if (known != null) {
      return known;
    }
    Matcher matcher = AUTHORITY.matcher(authority);
    String host = matcher.matches() ? matcher.group(1).toLowerCase(Locale.ROOT) : null;
    if (host != null && PARSED.size() < MAX_PARSED) {
      PARSED.put(authority, host);
    }
    return host;
  }
}
