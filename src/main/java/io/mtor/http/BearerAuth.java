package io.mtor.http;

import io.mtor.auth.Caller;
import io.mtor.auth.TokenVerifier;
import io.mtor.domain.ResultException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Requires {@code Authorization: Bearer <token>} and puts the {@link Caller} it speaks for on the context.
 * Failures are 401 {@code InvalidAuthenticationToken} whose message says what is wrong without the token.
 *
 * <p>Checking a signature costs CPU (an ECDSA check is about a millisecond), and a client that sends tokens that
 * fail costs it every time: each client address may fail {@value #FAILURES_PER_SECOND} times a second (bursts of
 * {@value #FAILURE_BURST}); beyond, tokens the verifier has not already accepted get 429 without a check, while
 * tokens it has accepted (cached) still pass.
 */
final class BearerAuth implements Handler<RoutingContext> {

  static final String CALLER = Caller.class.getName();

  static final int FAILURES_PER_SECOND = 20;
  static final int FAILURE_BURST = 100;

  private final TokenVerifier verifier;
  private final Shedding.Buckets failures = new Shedding.Buckets(FAILURES_PER_SECOND, FAILURE_BURST);

  BearerAuth(TokenVerifier verifier) {
    this.verifier = verifier;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || header.isBlank()) {
      ctx.fail(ResultException.tokenMissing());
      return;
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
      ctx.fail(ResultException.unauthenticated(
        "Access token validation failure: the Authorization header must be 'Bearer <token>'."));
      return;
    }
    String token = header.substring(7).trim();
    String address = verifier.accepted(token) ? null
      : ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
    if (address != null && failures.empty(address)) {
      ctx.fail(ResultException.throttled("Too many failed authentications from this address; retry later."));
      return;
    }
    // The verifier requires and checks tid (a GUID under tenant isolation), so a caller always has a tenant.
    verifier.verify(token)
      .onSuccess(caller -> {
        ctx.put(CALLER, caller);
        ctx.next();
      })
      .onFailure(e -> {
        if (address != null) {
          failures.take(address);
        }
        ctx.fail(ResultException.unauthenticated("Access token validation failure: "
          + (e instanceof TokenVerifier.Rejected ? e.getMessage() : "the token could not be checked") + "."));
      });
  }

  /** Reads need Read.All or ReadWrite.All; writes need ReadWrite.All. */
  static Handler<RoutingContext> permission(boolean write) {
    return ctx -> {
      Caller caller = ctx.get(CALLER);
      if (caller != null && !(write ? caller.canWrite() : caller.canRead())) {
        ctx.fail(ResultException.forbidden("Insufficient privileges to complete the operation: it needs the "
          + (write ? Caller.READ_WRITE : Caller.READ + " or " + Caller.READ_WRITE) + " permission (scp or roles)."));
        return;
      }
      ctx.next();
    };
  }
}
