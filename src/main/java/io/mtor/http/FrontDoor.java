package io.mtor.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a standalone server checks before a request reaches its router, so that no per-request bookkeeping
 * (routing, logging, the router's metrics) happens for it: a method this service does not implement (501), a URL
 * whose percent-encoding is malformed (400) and a missing or malformed {@code Host} (400). Each is answered with a
 * Graph error and the connection is closed. Each is logged as one WARN line without a stack trace, at most one
 * line a second (with the count of those not logged since), so that a flood of them cannot flood the log.
 */
public final class FrontDoor implements Handler<HttpServerRequest> {

  private static final Logger LOG = LoggerFactory.getLogger(FrontDoor.class);

  private final Handler<HttpServerRequest> next;
  private final java.util.concurrent.atomic.AtomicLong lastLogged = new java.util.concurrent.atomic.AtomicLong(
    System.nanoTime() - 2_000_000_000L);
  private final java.util.concurrent.atomic.AtomicLong unlogged = new java.util.concurrent.atomic.AtomicLong();

  public FrontDoor(Handler<HttpServerRequest> next) {
    this.next = next;
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (!Meters.METHODS.contains(request.method().name())) {
      reject(request, 501, "notImplemented", "This server does not implement the request's method.");
    } else if (!wellEncoded(request.uri())) {
      reject(request, 400, "badRequest", "The request URL is not valid: every '%' must be followed by two "
        + "hexadecimal digits.");
    } else if (!hostOk(request)) {
      reject(request, 400, "badRequest", "The request has no valid Host header.");
    } else {
      next.handle(request);
    }
  }

  private static boolean hostOk(HttpServerRequest request) {
    String host = request.getHeader(HttpHeaders.HOST);
    if (host == null) {
      // HTTP/1.0 may omit it (links then need PUBLIC_BASE_URL); HTTP/2 carries :authority instead.
      return request.version() != HttpVersion.HTTP_1_1;
    }
    return HostCheck.wellFormed(host);
  }

  /** Whether every {@code %} in {@code uri} starts a two-hex-digit escape. */
  static boolean wellEncoded(String uri) {
    for (int i = uri.indexOf('%'); i >= 0; i = uri.indexOf('%', i + 1)) {
      if (i + 2 >= uri.length() || Character.digit(uri.charAt(i + 1), 16) < 0 || Character.digit(uri.charAt(i + 2), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  private void reject(HttpServerRequest request, int status, String code, String message) {
    String requestId = GraphErrors.reject(request, status, code, message);
    long now = System.nanoTime();
    long last = lastLogged.get();
    if (now - last >= 1_000_000_000L && lastLogged.compareAndSet(last, now)) {
      LOG.warn("Rejected a request before routing: {} {} (request-id {}; {} more rejected without a line since the "
        + "last)", status, code, requestId, unlogged.getAndSet(0));
    } else {
      unlogged.incrementAndGet();
    }
  }
}
