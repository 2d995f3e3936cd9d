package io.mtor.http;

import io.mtor.domain.ResultException;
import io.mtor.query.QueryException;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorErrorType;
import io.vertx.openapi.validation.ValidatorException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The one error mapper: turns every failure of a request (contract violation, domain failure, router
 * status, unexpected exception) into a Microsoft Graph error body. Never HTML, never a stack trace.
 */
public final class GraphErrors implements Handler<RoutingContext> {

  public static final String JSON = "application/json; charset=utf-8";
  /** The header that makes a create idempotent (IETF httpapi draft). */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  private static final Logger LOG = LoggerFactory.getLogger(GraphErrors.class);
  private static final DateTimeFormatter INNER_DATE = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");

  /** One violation in an error's {@code details}. */
  public record Detail(String code, String message, String target) {
    JsonObject toJson() {
      JsonObject json = new JsonObject().put("code", code).put("message", message);
      return target == null ? json : json.put("target", target);
    }
  }

  private final int bodyLimitBytes;
  private final Function<String, Set<String>> allowedMethods;
  private final JsonObject contract;
  /** The contract's property names: the closed set of the validation-failure metric's label. */
  private final Set<String> properties;

  /**
   * @param bodyLimitBytes the body limit, for the 413 message
   * @param allowedMethods methods the contract defines for a request path (for 405's {@code Allow})
   * @param contract       the raw OpenAPI document, for what a value should look like
   */
  GraphErrors(int bodyLimitBytes, Function<String, Set<String>> allowedMethods, JsonObject contract) {
    this.bodyLimitBytes = bodyLimitBytes;
    this.allowedMethods = allowedMethods;
    this.contract = contract;
    Set<String> names = new java.util.HashSet<>();
    JsonObject schemas = contract.getJsonObject("components", new JsonObject()).getJsonObject("schemas", new JsonObject());
    schemas.forEach(schema -> {
      if (schema.getValue() instanceof JsonObject object && object.getValue("properties") instanceof JsonObject props) {
        names.addAll(props.fieldNames());
      }
    });
    this.properties = Set.copyOf(names);
  }

  @Override
  public void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    int status = ctx.statusCode();
    if (failure instanceof io.vertx.core.http.HttpClosedException || ctx.response().closed()) {
      // The client went away: nobody to answer, and not the service's failure.
      LOG.debug("request-id {}: the client closed the connection", RequestIds.requestId(ctx));
      return;
    }
    if (failure instanceof HttpException http) {
      status = http.getStatusCode();
      if (http.getCause() != null) {
        failure = http.getCause();
      }
    }
    if (failure instanceof ResultException domain) {
      domain(ctx, domain);
    } else if (failure instanceof QueryException query) {
      send(ctx, 400, "badRequest", query.getMessage(), query.option(),
        List.of(new Detail("invalidQueryOption", query.getMessage(), query.option())));
    } else if (failure instanceof InlineRequestValidator.InvalidParameter parameter) {
      send(ctx, 400, "badRequest", parameter.getMessage(), parameter.name(),
        SchemaViolations.parameterDetails(parameter.violation().getOutputUnit(), contract, parameter.name()));
    } else if (failure instanceof BodySyntax.Malformed malformed) {
      send(ctx, 400, "badRequest", malformed.getMessage(), malformed.target(), malformed.details());
    } else if (failure instanceof InlineRequestValidator.InvalidBody body) {
      invalidBody(ctx, body.reason());
    } else if (failure instanceof ValidatorException invalid) {
      invalidParameter(ctx, invalid);
    } else if (status == 404 && failure == null && !allowedMethods.apply(ctx.normalizedPath()).isEmpty()) {
      // A resource path reached with a method it lacks: routers mounted side by side report that as 404.
      methodNotAllowed(ctx);
    } else if (status == 404) {
      send(ctx, 404, "notFound", "No resource matches '" + ctx.request().path() + "'.", null, List.of());
    } else if (status == 405) {
      methodNotAllowed(ctx);
    } else if (status == 413) {
      send(ctx, 413, "requestEntityTooLarge", "The request body exceeds the limit of " + bodyLimitBytes
        + " bytes.", null, List.of());
    } else if (status == 408) {
      send(ctx, 408, "requestTimeout", "The request was not complete within the time allowed.", null, List.of());
    } else if (status == 415) {
      unsupportedMediaType(ctx);
    } else if (status >= 400 && status < 500 && failure == null) {
      send(ctx, status, "badRequest", "The request is invalid.", null, List.of());
    } else {
      LOG.error("request-id {}: unexpected failure of {} {}", RequestIds.requestId(ctx), ctx.request().method(),
        ctx.request().path(), failure);
      send(ctx, 500, "internalServerError", "An unexpected error occurred. Quote the request-id when reporting it.",
        null, List.of());
    }
  }

  private void methodNotAllowed(RoutingContext ctx) {
    Set<String> allowed = allowedMethods.apply(ctx.normalizedPath());
    if (!allowed.isEmpty() && !ctx.response().headWritten()) {
      ctx.response().putHeader(HttpHeaders.ALLOW, String.join(", ", allowed));
    }
    send(ctx, 405, "methodNotAllowed", "The method " + ctx.request().method() + " is not allowed on '"
      + ctx.request().path() + "'; allowed: " + String.join(", ", allowed) + ".", null, List.of());
  }

  private void domain(RoutingContext ctx, ResultException e) {
    switch (e.kind()) {
      case NOT_FOUND -> send(ctx, 404, "notFound", e.getMessage(), null, List.of());
      case CONFLICT -> send(ctx, 409, "conflict", e.getMessage(), "id", List.of());
      case UNAUTHENTICATED, TOKEN_MISSING -> {
        if (!ctx.response().headWritten()) {
          String realm = "Bearer realm=\"managedTenantOperationResults\"";
          ctx.response().putHeader("WWW-Authenticate", e.kind() == ResultException.Kind.TOKEN_MISSING
            ? realm : realm + ", error=\"invalid_token\", error_description=\"" + e.getMessage().replace("\"", "'") + "\"");
        }
        send(ctx, 401, "InvalidAuthenticationToken", e.getMessage(), null, List.of());
      }
      case FORBIDDEN -> send(ctx, 403, "Authorization_RequestDenied", e.getMessage(), null, List.of());
      case PRECONDITION_FAILED -> send(ctx, 412, "preconditionFailed", e.getMessage(), "If-Match",
        List.of(new Detail("entityTagDoesNotMatch", e.getMessage(), "If-Match")));
      case STORE_FULL -> send(ctx, 507, "insufficientStorage", e.getMessage(), null, List.of());
      case IN_PROGRESS -> {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
        send(ctx, 409, "conflict", e.getMessage(), IDEMPOTENCY_KEY, List.of());
      }
      case KEY_REUSED -> send(ctx, 422, "unprocessableEntity", e.getMessage(), IDEMPOTENCY_KEY, List.of());
      case THROTTLED -> {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
        send(ctx, 429, "tooManyRequests", e.getMessage(), null, List.of());
      }
      case BUSY -> {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
        send(ctx, 503, "serviceUnavailable", e.getMessage(), null, List.of());
      }
      case STORE_UNAVAILABLE, AUDIT_BACKLOG_FULL -> {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
        send(ctx, 503, "serviceUnavailable", e.getMessage(), null, List.of());
      }
    }
  }

  /** A request body the contract rejects, told apart by the validator's exception type and error type. */
  private void invalidBody(RoutingContext ctx, ValidatorException e) {
    if (e instanceof SchemaValidationException schema) {
      List<Detail> details = SchemaViolations.details(schema.getOutputUnit(), contract);
      details.stream().filter(detail -> !SchemaViolations.MORE.equals(detail.code()))
        .forEach(detail -> Meters.validationFailure(detail.target(), properties));
      String message = details.isEmpty() ? "The request body is invalid." : details.get(0).message();
      send(ctx, 400, "badRequest", message, details.isEmpty() ? null : details.get(0).target(), details);
    } else if (e.type() == ValidatorErrorType.UNSUPPORTED_VALUE_FORMAT) {
      unsupportedMediaType(ctx);
    } else if (e.type() == ValidatorErrorType.MISSING_REQUIRED_PARAMETER) {
      send(ctx, 400, "badRequest", "The request body is empty; a JSON object is required.", null, List.of());
    } else {
      send(ctx, 400, "badRequest", "The request body is not valid JSON (malformed, not UTF-8, or nested too deeply).",
        null, List.of());
    }
  }

  /** Any other contract violation: a parameter, whose name the validator's message gives. */
  private void invalidParameter(RoutingContext ctx, ValidatorException e) {
    List<Detail> details = e instanceof SchemaValidationException schema
      ? SchemaViolations.details(schema.getOutputUnit(), contract) : List.of();
    send(ctx, 400, "badRequest", e.getMessage(), null, details);
  }

  private static void unsupportedMediaType(RoutingContext ctx) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    send(ctx, 415, "unsupportedMediaType", "The request body must be application/json"
      + (type == null ? "; no Content-Type was sent." : ", not '" + type + "'."), null, List.of());
  }

  /**
   * For requests the HTTP codec rejects before any routing (a request line or headers over the server's
   * limits, a malformed request): the same Graph error body, then the connection closes.
   */
  public static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status = cause instanceof TooLongHttpLineException ? 414 : cause instanceof TooLongHttpHeaderException ? 431 : 400;
    String code = status == 414 ? "requestUriTooLong" : status == 431 ? "requestHeaderFieldsTooLarge" : "badRequest";
    String message = status == 414 ? "The request URL is too long." : status == 431 ? "The request headers are too large."
      : "The request is not valid HTTP.";
    reject(request, status, code, message);
  }

  /**
   * Answers a request that never reached a router with a Graph error, then closes the connection.
   *
   * @return the request id the answer carries
   */
  static String reject(HttpServerRequest request, int status, String code, String message) {
    String requestId = io.mtor.domain.OperationResults.newGuid();
    request.response().setStatusCode(status)
      .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
      .putHeader(HttpHeaders.CONNECTION, "close")
      .putHeader(RequestIds.NOSNIFF_NAME, RequestIds.NOSNIFF)
      .putHeader(HttpHeaders.CACHE_CONTROL, RequestIds.NO_STORE)
      .putHeader(RequestIds.REQUEST_ID, requestId)
      .end(body(code, message, null, List.of(), requestId, null))
      .onComplete(done -> request.connection().close());
    return requestId;
  }

  /** Ends the response with a Graph error body. */
  public static void send(RoutingContext ctx, int status, String code, String message, String target,
                          List<Detail> details) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    if (response.headWritten()) {
      // Too late for a proper error: cut the connection so the client sees a failure, not a short body.
      ctx.request().connection().close();
      return;
    }
    response.setStatusCode(status)
      .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
      .end(body(code, message, target, details, RequestIds.requestId(ctx), RequestIds.clientRequestId(ctx)));
  }

  /**
   * A Graph error body: code, message, the target and details if any, and the {@code innerError} that ties the
   * answer to the logs (when, the request id, the client's request id if it sent one).
   */
  private static Buffer body(String code, String message, String target, List<Detail> details, String requestId,
                             String clientRequestId) {
    JsonObject inner = new JsonObject()
      .put("date", LocalDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS).format(INNER_DATE))
      .put(RequestIds.REQUEST_ID, requestId);
    if (clientRequestId != null) {
      inner.put(RequestIds.CLIENT_REQUEST_ID, clientRequestId);
    }
    JsonObject error = new JsonObject().put("code", code).put("message", message);
    if (target != null) {
      error.put("target", target);
    }
    if (!details.isEmpty()) {
      JsonArray array = new JsonArray(new ArrayList<>(details.size()));
      details.forEach(d -> array.add(d.toJson()));
      error.put("details", array);
    }
    return new JsonObject().put("error", error.put("innerError", inner)).toBuffer();
  }
}
