package io.mtor.http;

import io.mtor.domain.OperationResults;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Gives every response a fresh {@code request-id}, echoes the client's {@code client-request-id}, and sets the
 * headers every answer carries: {@code X-Content-Type-Options: nosniff}, and {@code Cache-Control: no-store}, because
 * answers hold one tenant's records and no cache, shared or private, should keep them (clients that want to
 * revalidate keep the ETag themselves and send {@code If-None-Match}).
 */
public final class RequestIds implements Handler<RoutingContext> {

  public static final String REQUEST_ID = "request-id";
  public static final String CLIENT_REQUEST_ID = "client-request-id";
  private static final String KEY = RequestIds.class.getName();
  static final CharSequence NOSNIFF_NAME = HttpHeaders.createOptimized("X-Content-Type-Options");
  static final CharSequence NOSNIFF = HttpHeaders.createOptimized("nosniff");
  static final CharSequence NO_STORE = HttpHeaders.createOptimized("no-store");

  @Override
  public void handle(RoutingContext ctx) {
    if (ctx.get(KEY) == null) {
      String requestId = OperationResults.newGuid();
      ctx.put(KEY, requestId);
      ctx.response().putHeader(REQUEST_ID, requestId)
        .putHeader(NOSNIFF_NAME, NOSNIFF).putHeader(HttpHeaders.CACHE_CONTROL, NO_STORE);
      String clientRequestId = clientRequestId(ctx);
      if (clientRequestId != null) {
        ctx.response().putHeader(CLIENT_REQUEST_ID, clientRequestId);
      }
    }
    ctx.next();
  }

  /** This request's id; one is made on the spot if the handler has not run (a failure before routing). */
  public static String requestId(RoutingContext ctx) {
    String id = ctx.get(KEY);
    if (id == null) {
      id = OperationResults.newGuid();
      ctx.put(KEY, id);
      if (!ctx.response().headWritten()) {
        ctx.response().putHeader(REQUEST_ID, id);
      }
    }
    return id;
  }

  /** The client's correlation id, if it sent a usable one (bounded, no control characters). */
  public static String clientRequestId(RoutingContext ctx) {
    String value = ctx.request().getHeader(CLIENT_REQUEST_ID);
    if (value == null || value.isEmpty() || value.length() > 256 || !value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      return null;
    }
    return value;
  }
}
