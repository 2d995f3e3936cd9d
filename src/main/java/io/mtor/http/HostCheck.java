package io.mtor.http;

import io.mtor.config.Authority;
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

/**
 * Links ({@code Location}, {@code @odata.context}, nextLinks) are built from the request's host when no public
 * base URL is configured, so a forged {@code Host} would poison every link a client or cache keeps. This handler
 * lets a request through only if its host (the {@code Host} header, or what a trusted proxy forwarded) is one of
 * the server's own names or an allowed one: a malformed host is 400, another host 421 Misdirected Request.
 */
public final class HostCheck implements Handler<RoutingContext> {

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
    String host = Authority.host(authority);
    if (host == null) {
      GraphErrors.send(ctx, 400, "badRequest", "The request has no valid Host header.", null, List.of());
    } else if (!options.allowedHosts().contains(host)) {
      GraphErrors.send(ctx, 421, "misdirectedRequest", "This server does not answer for the host in the request. "
        + "Its operator can allow it (ALLOWED_HOSTS) or set the public URL (PUBLIC_BASE_URL).", null, List.of());
    } else {
      ctx.next();
    }
  }

  /** Whether a {@code Host} header value is well formed (absent counts as malformed). */
  static boolean wellFormed(String hostHeader) {
    return Authority.host(hostHeader) != null;
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
