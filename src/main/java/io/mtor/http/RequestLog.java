package io.mtor.http;

import io.mtor.auth.Caller;
import io.vertx.core.Handler;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One structured log line per request, written when the response ends: request id, client request id,
 * method, route template (not the raw path: ids and query strings stay out), status, duration and the
 * caller's tenant. Never a header value, a token or a body.
 */
public final class RequestLog implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger("io.mtor.requests");
  /** Where the resource puts the matched operation's path template, for the log. */
  static final String ROUTE = RequestLog.class.getName() + ".route";

  @Override
  public void handle(RoutingContext ctx) {
    long started = System.nanoTime();
    ctx.addEndHandler(done -> {
      Caller caller = ctx.get(BearerAuth.CALLER);
      String template = ctx.get(ROUTE);
      Route route = ctx.currentRoute();
      LoggingEventBuilder line = LOG.atInfo()
        .addKeyValue("requestId", RequestIds.requestId(ctx));
      String clientRequestId = RequestIds.clientRequestId(ctx);
      if (clientRequestId != null) {
        line.addKeyValue("clientRequestId", clientRequestId);
      }
      if (caller != null) {
        line.addKeyValue("tenant", caller.tenantId());
      }
      line.addKeyValue("method", ctx.request().method().name())
        .addKeyValue("route", template != null ? template
          : route == null || route.getPath() == null ? "(none)" : mountPoint(ctx) + route.getPath())
        .addKeyValue("status", ctx.response().getStatusCode())
        .addKeyValue("durationMicros", (System.nanoTime() - started) / 1_000)
        .log("request");
    });
    ctx.next();
  }

  static String mountPoint(RoutingContext ctx) {
    String mount = ctx.mountPoint();
    return mount == null || mount.equals("/") ? "" : mount.endsWith("/") ? mount.substring(0, mount.length() - 1) : mount;
  }
}
