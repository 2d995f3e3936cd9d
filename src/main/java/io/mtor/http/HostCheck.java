package io.mtor.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Links ({@code Location}, {@code @odata.context}, nextLinks) are built from the request's host when no public
 * base URL is configured, so a forged {@code Host} would poison every link a client or cache keeps. This handler
 * lets a request through only if its host (the {@code Host} header, or what a trusted proxy forwarded) is one of
 * the server's own names or an allowed one: a malformed host is 400, another host 421 Misdirected Request.
 */
public final class HostCheck implements Handler<RoutingContext> {

  /** host[:port], where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
  static final Pattern AUTHORITY = Pattern.compile(
    "((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\\.?)|\\[[0-9A-Fa-f:.]+])(?::[0-9]{1,5})?");

  private final HttpOptions options;

  HostCheck(HttpOptions options) {
    this.options = options;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (options.publicBaseUrl() != null) {
      ctx.next();
      return;
    }
    String authority;
    try {
      authority = ctx.request().authority() == null ? null : ctx.request().authority().toString();
    } catch (RuntimeException e) {
      authority = null;
    }
    String host = host(authority);
    if (host == null) {
      GraphErrors.send(ctx, 400, "badRequest", "The request has no valid Host header.", null, List.of());
    } else if (!options.allowedHosts().contains(host)) {
      GraphErrors.send(ctx, 421, "misdirectedRequest", "This server does not answer for the host in the request. "
        + "Its operator can allow it (ALLOWED_HOSTS) or set the public URL (PUBLIC_BASE_URL).", null, List.of());
    } else {
      ctx.next();
    }
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

  /**
   * Well-formed authorities seen lately and their hosts: a service answers a handful of names, and every request
   * would otherwise run the regex twice. Bounded: beyond {@value #MAX_PARSED} entries nothing more is kept.
   */
  private static final java.util.concurrent.ConcurrentHashMap<String, String> PARSED =
    new java.util.concurrent.ConcurrentHashMap<>();
  private static final int MAX_PARSED = 256;

  /** Whether a {@code Host} header value is well formed (absent counts as malformed). */
  static boolean wellFormed(String hostHeader) {
    return host(hostHeader) != null;
  }

  /** The machine's own names: localhost, its host name, and every address of its interfaces. Blocking. */
  static Set<String> ownNames() {
    Set<String> names = new TreeSet<>(List.of("localhost", "127.0.0.1", "[::1]"));
    try {
      InetAddress local = InetAddress.getLocalHost();
      names.add(local.getHostName().toLowerCase(Locale.ROOT));
      names.add(local.getCanonicalHostName().toLowerCase(Locale.ROOT));
    } catch (UnknownHostException e) {
      // no host name: addresses only
    }
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress address : Collections.list(nic.getInetAddresses())) {
          String literal = address.getHostAddress();
          int zone = literal.indexOf('%');
          literal = zone >= 0 ? literal.substring(0, zone) : literal;
          names.add(literal.contains(":") ? "[" + literal.toLowerCase(Locale.ROOT) + "]" : literal);
        }
      }
    } catch (SocketException e) {
      // no interfaces to list
    }
    return Collections.unmodifiableSet(names);
  }

  /** The server's own names and the configured ones. */
  public static Set<String> allowed(List<String> configured) {
    Set<String> names = new TreeSet<>(ownNames());
    configured.forEach(name -> names.add(name.toLowerCase(Locale.ROOT)));
    return Collections.unmodifiableSet(names);
  }
}
