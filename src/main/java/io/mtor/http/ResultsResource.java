package io.mtor.http;

import io.mtor.auth.TokenVerifier;
import io.mtor.domain.OperationResults;
import io.mtor.domain.StoredJson;
import io.mtor.app.ListQuery;
import io.mtor.app.ResultsApplication;
import io.mtor.auth.Caller;
import io.mtor.app.Stored;
import io.mtor.domain.EntityTags;
import io.mtor.domain.ResultException;
import io.mtor.query.QueryException;
import io.mtor.query.QueryOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.core.Handler;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.contract.Path;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.ValidatedRequest;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The managedTenantOperationResults resource: a router generated from the OpenAPI contract, which
 * validates every request before a handler sees it, and one small handler per operation.
 */
public final class ResultsResource {

  /** The contract on the class path; the router validates requests against it and serves it. */
  public static final String CONTRACT = "openapi.yaml";
  /** The CSDL document on the class path, served at {@link #METADATA_PATH}. */
  static final String METADATA = "metadata.xml";
  static final String METADATA_PATH = "/$metadata";

  /** operationIds of the contract. */
  public static final class Operations {
    public static final String LIST = "listManagedTenantOperationResults";
    public static final String CREATE = "createManagedTenantOperationResult";
    public static final String GET = "getManagedTenantOperationResult";
    public static final String UPDATE = "updateManagedTenantOperationResult";
    public static final String DELETE = "deleteManagedTenantOperationResult";

    private Operations() {
    }
  }

  private static final String COLLECTION = "/" + OperationResults.ENTITY_SET;
  private static final String ODATA_ENTITY_ID = "OData-EntityId";
  private static final String PREFERENCE_APPLIED = "Preference-Applied";
  private static final String ODATA_VERSION = "OData-Version";
  /** Says that a create's answer repeats an earlier one with the same idempotency key. */
  private static final String REPLAYED = "Idempotent-Replayed";


  private final ResultsApplication results;
  private final HttpOptions options;
  private final Scans scans;
  private final SkipTokens skipTokens;

  private ResultsResource(ResultsApplication results, HttpOptions options, Scans scans,
                          SkipTokens skipTokens) {
    this.results = results;
    this.options = options;
    this.scans = scans;
    this.skipTokens = skipTokens;
  }

  /** Parses {@value #CONTRACT}: once, for both {@link #router} and the error mapper. */
  public static Future<OpenAPIContract> contract(Vertx vertx) {
    return OpenAPIContract.from(vertx, CONTRACT);
  }

  /**
   * Builds the resource's router. It carries its own body handler (a host's body handler that ran first
   * is respected: Vert.x runs only the first one) and its own error mapper, so it can be mounted with
   * {@code subRouter} under any path. Under its mount it serves the CSDL document at {@code /$metadata} (where every
   * {@code @odata.context} points) and the contract at {@code /openapi.yaml}, both without a token, and answers every
   * other path itself with a Graph error (after the token check: 401 without one, then 404, or 405 with
   * {@code Allow} for a path it has with another method), so that nothing under the mount falls through to the
   * host.
   */
  public static Router router(Vertx vertx, OpenAPIContract contract, ResultsApplication results,
                              HttpOptions options, TokenVerifier verifier, Scans scans,
                              SkipTokens skipTokens) {
    ResultsResource resource = new ResultsResource(results, options, scans, skipTokens);
    GraphErrors errors = errors(contract, options);
    RouterBuilder builder = RouterBuilder.create(vertx, contract)
      .rootHandler(BodyHandler.create(false).setBodyLimit(options.bodyLimitBytes()))
      .rootHandler(new RequestIds())
      .rootHandler(new HostCheck(options));
    if (verifier != null) {
      builder.rootHandler(new BearerAuth(verifier));
    }
    if (options.ratePerSecond() > 0) {
      builder.rootHandler(Shedding.ratePerCaller(options.ratePerSecond(), options.burst()));
    }
    InlineRequestValidator validator = new InlineRequestValidator(vertx, contract);
    for (OpenAPIRoute route : builder.getRoutes()) {
      boolean write = route.getOperation().getHttpMethod() != io.vertx.core.http.HttpMethod.GET;
      route.setDoValidation(false)
        .addHandler(BearerAuth.permission(write))
        .addHandler(validation(validator, route.getOperation()));
    }
    builder.getRoute(Operations.LIST).addHandler(resource::listResults);
    builder.getRoute(Operations.CREATE).addHandler(resource::createResult);
    builder.getRoute(Operations.GET).addHandler(resource::getResult);
    builder.getRoute(Operations.UPDATE).addHandler(resource::updateResult);
    builder.getRoute(Operations.DELETE).addHandler(resource::deleteResult);
    Router router = builder.createRouter();
    documents(router);
    router.route().handler(ctx -> ctx.fail(404));
    router.route().failureHandler(errors);
    return router;
  }

  /**
   * {@code /$metadata} and {@code /openapi.yaml}, ordered before the builder's root route (token, rate limit), so
   * that they need no token, as anywhere in Graph.
   */
  private static void documents(Router router) {
    RequestIds ids = new RequestIds();
    for (String[] document : new String[][] {{METADATA_PATH, METADATA, "application/xml; charset=utf-8"},
      {"/" + CONTRACT, CONTRACT, "application/yaml; charset=utf-8"}}) {
      Buffer content = classpathResource(document[1]);
      String type = document[2];
      router.route(document[0]).method(io.vertx.core.http.HttpMethod.GET).method(io.vertx.core.http.HttpMethod.HEAD)
        .order(-1).handler(ids).handler(ctx -> {
          ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, type);
          if (document[1].equals(METADATA)) {
            ctx.response().putHeader(ODATA_VERSION, "4.0");
          }
          ctx.response().end(content);
        });
    }
  }

  private static Buffer classpathResource(String name) {
    try (java.io.InputStream in = ResultsResource.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the class path");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The error mapper for this contract, also for a host router's own 404/405 and failures. */
  public static Future<GraphErrors> errors(Vertx vertx, HttpOptions options) {
    return contract(vertx).map(contract -> errors(contract, options));
  }

  /** As {@link #errors(Vertx, HttpOptions)}, with the contract already parsed. */
  public static GraphErrors errors(OpenAPIContract contract, HttpOptions options) {
    Map<Pattern, Set<String>> methodsByPath = new LinkedHashMap<>();
    for (Path path : contract.getPaths()) {
      Set<String> methods = new LinkedHashSet<>();
      path.getOperations().forEach(op -> methods.add(op.getHttpMethod().name()));
      // A path matches wherever the resource is mounted, hence the free prefix.
      Pattern pattern = Pattern.compile("(?:/.*)?" + path.getName().replaceAll("\\{[^}]+}", "[^/]+") + "/?");
      methodsByPath.put(pattern, methods);
    }
    for (String document : new String[] {METADATA_PATH, "/" + CONTRACT}) {
      methodsByPath.put(Pattern.compile("(?:/.*)?" + Pattern.quote(document)), new LinkedHashSet<>(List.of("GET", "HEAD")));
    }
    return new GraphErrors(options.bodyLimitBytes(), requestPath -> methodsByPath.entrySet().stream()
      .filter(e -> e.getKey().matcher(requestPath).matches())
      .map(Map.Entry::getValue)
      .findFirst()
      .orElse(Set.of()), contract.getRawContract());
  }

  /** What the application service needs to know of the request: who asks, and the request's ids. */
  private static ResultsApplication.Request request(RoutingContext ctx) {
    return new ResultsApplication.Request(ctx.get(BearerAuth.CALLER), RequestIds.requestId(ctx),
      RequestIds.clientRequestId(ctx));
  }

  /**
   * A create's idempotency key: its {@code Idempotency-Key} header (the contract allows 1 to 255 visible ASCII
   * characters), else, when so configured, its {@code client-request-id}, else null.
   */
  private String idempotencyKey(RoutingContext ctx) {
    String key = ctx.request().getHeader(GraphErrors.IDEMPOTENCY_KEY);
    if (key != null) {
      return "key:" + key;
    }
    String clientRequestId = options.clientRequestIdIsIdempotencyKey() ? RequestIds.clientRequestId(ctx) : null;
    return clientRequestId == null ? null : "client-request-id:" + clientRequestId;
  }

  private void createResult(RoutingContext ctx) {
    ValidatedRequest request = ctx.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
    results.create(request(ctx), request.getBody().getJsonObject(), idempotencyKey(ctx))
      .onSuccess(created -> {
        String location = baseUrl(ctx) + COLLECTION + "/" + StoredJson.string(created.json(), OperationResults.ID);
        ctx.response().putHeader(HttpHeaders.LOCATION, location).putHeader(ODATA_VERSION, "4.0");
        if (created.replayed()) {
          ctx.response().putHeader(REPLAYED, "true");
        }
        if (prefersMinimal(ctx.request())) {
          ctx.response()
            .putHeader(ODATA_ENTITY_ID, location)
            .putHeader(PREFERENCE_APPLIED, "return=minimal")
            .setStatusCode(204)
            .end();
        } else {
          sendEntity(ctx, 201, created);
        }
      })
      .onFailure(ctx::fail);
  }

  private void getResult(RoutingContext ctx) {
    results.get(ctx.get(BearerAuth.CALLER), ctx.pathParam("id"))
      .onSuccess(stored -> {
        ctx.response().putHeader(ODATA_VERSION, "4.0");
        if (EntityTags.matches(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH), stored.etag())) {
          ctx.response().putHeader(HttpHeaders.ETAG, stored.etag()).setStatusCode(304).end();
        } else {
          sendEntity(ctx, 200, stored);
        }
      })
      .onFailure(ctx::fail);
  }

  private void listResults(RoutingContext ctx) {
    QueryOptions query;
    ListQuery.Cursor cursor;
    Caller caller = ctx.get(BearerAuth.CALLER);
    String binding = binding(ctx, results.tenantOf(caller));
    try {
      query = QueryOptions.parse(queryParameters(ctx), options.defaultPageSize(), options.maxPageSize());
      cursor = query.skipToken() == null ? null
        : ListQuery.Cursor.fromJson(skipTokens.verify(query.skipToken(), binding), options.maxPageSize());
    } catch (QueryException e) {
      ctx.fail(e);
      return;
    }
    String base = baseUrl(ctx);
    // A list may read many records (a scan, or a large tenant): off the event loop, bounded and stoppable.
    scans.run(ctx, budget -> results.list(caller, query, cursor, budget::check))
      .onSuccess(page -> {
        JsonObject body = new JsonObject().put("@odata.context", base + "/$metadata#" + OperationResults.ENTITY_SET
          + (query.select().isEmpty() ? "" : "(" + String.join(",", query.select()) + ")"));
        if (page.count() >= 0) {
          body.put("@odata.count", page.count());
        }
        body.put("value", new JsonArray(page.items()));
        if (page.next() != null) {
          body.put("@odata.nextLink", nextLink(ctx, base, skipTokens.issue(page.next().toJson(), binding)));
        }
        ctx.response().putHeader(ODATA_VERSION, "4.0").putHeader(HttpHeaders.CONTENT_TYPE, GraphErrors.JSON)
          .end(body.toBuffer());
      })
      .onFailure(e -> ctx.fail(e instanceof Scans.Stopped stopped ? stopped(stopped) : e));
  }

  /** A query stopped half-way: its budget (400, it needs narrowing), or the service stopping (503). */
  private static Throwable stopped(Scans.Stopped stopped) {
    return switch (stopped.reason()) {
      case BUDGET -> new QueryException("$filter", -1, "the query read the store until " + stopped.getMessage()
        + " without filling its page; narrow it with an equality on an indexed property (targetTenantId, "
        + "managedTenantOperationId or requestId, eq or in)");
      case SHUTDOWN -> ResultException.unavailable("The service is stopping; retry in a second.");
      // Nobody is left to read this answer.
      case CLIENT_GONE -> ResultException.unavailable("The request ended before its query finished.");
    };
  }

  /**
   * What a {@code $skiptoken} is bound to: the caller's tenant and the query options that shape the result (the
   * nextLink carries them unchanged), so that a token is worthless to another caller or for another query. Not
   * $top: it is only the page size, which a client may keep or change between pages.
   */
  private static String binding(RoutingContext ctx, String tenant) {
    StringBuilder binding = new StringBuilder(tenant == null ? "*" : tenant);
    for (String option : new String[] {"$filter", "$orderby", "$select"}) {
      binding.append('\u0000').append(option).append('=').append(String.join("\u0001", ctx.queryParam(option)));
    }
    return binding.toString();
  }

  private static Map<String, List<String>> queryParameters(RoutingContext ctx) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    ctx.queryParams().forEach(entry -> params.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).add(entry.getValue()));
    return params;
  }

  /**
   * The request's own URL with its options ($top, the page size, included, as Graph's nextLinks have it), and the
   * position after this page instead of $skip.
   */
  private static String nextLink(RoutingContext ctx, String base, String skipToken) {
    StringBuilder link = new StringBuilder(base).append(COLLECTION).append('?');
    ctx.queryParams().forEach(entry -> {
      String name = entry.getKey();
      if (!name.equals("$skip") && !name.equals("$skiptoken") && !name.equals("$count")) {
        link.append(encode(name)).append('=').append(encode(entry.getValue())).append('&');
      }
    });
    return link.append("$skiptoken=").append(skipToken).toString();
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20").replace("%24", "$");
  }

  private void updateResult(RoutingContext ctx) {
    ValidatedRequest request = ctx.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
    results.update(request(ctx), ctx.pathParam("id"), ctx.request().getHeader(HttpHeaders.IF_MATCH),
        request.getBody().getJsonObject())
      .onSuccess(updated -> {
        ctx.response().putHeader(ODATA_VERSION, "4.0");
        if (prefersMinimal(ctx.request())) {
          ctx.response().putHeader(HttpHeaders.ETAG, updated.etag())
            .putHeader(PREFERENCE_APPLIED, "return=minimal").setStatusCode(204).end();
        } else {
          sendEntity(ctx, 200, updated);
        }
      })
      .onFailure(ctx::fail);
  }

  private void deleteResult(RoutingContext ctx) {
    results.delete(request(ctx), ctx.pathParam("id"), ctx.request().getHeader(HttpHeaders.IF_MATCH))
      .onSuccess(deleted -> ctx.response().setStatusCode(204).end())
      .onFailure(ctx::fail);
  }

  /**
   * Writes the stored JSON with {@code @odata.context} and {@code @odata.etag} spliced in front, without
   * re-encoding it, and the {@code ETag} header.
   */
  private void sendEntity(RoutingContext ctx, int status, Stored stored) {
    byte[] json = stored.json();
    String etag = stored.etag();
    byte[] annotations = ("{\"@odata.context\":\"" + baseUrl(ctx) + "/$metadata#" + OperationResults.ENTITY_SET
      + "/$entity\",\"@odata.etag\":\"" + etag.replace("\"", "\\\"") + "\",").getBytes(StandardCharsets.UTF_8);
    Buffer body = Buffer.buffer(annotations.length + json.length).appendBytes(annotations)
      .appendBytes(json, 1, json.length - 1);
    ctx.response()
      .setStatusCode(status)
      .putHeader(HttpHeaders.ETAG, etag)
      .putHeader(HttpHeaders.CONTENT_TYPE, GraphErrors.JSON)
      .end(body);
  }

  /** The absolute URL the resource is mounted at: the configured public URL, or the request's own. */
  private String baseUrl(RoutingContext ctx) {
    String mountPoint = RequestLog.mountPoint(ctx);
    if (options.publicBaseUrl() != null) {
      return options.publicBaseUrl() + mountPoint;
    }
    HttpServerRequest request = ctx.request();
    return request.scheme() + "://" + request.authority() + mountPoint;
  }

  private static boolean prefersMinimal(HttpServerRequest request) {
    for (String header : request.headers().getAll("Prefer")) {
      for (String preference : header.split(",")) {
        if (preference.trim().equalsIgnoreCase("return=minimal")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Validates the request against the contract with Vert.x OpenAPI's validator (see
   * {@link InlineRequestValidator} for why it is not the router's own validation handler) and hands the
   * handlers the validated request, as the router's handler would.
   */
  private static Handler<RoutingContext> validation(InlineRequestValidator validator, Operation operation) {
    return ctx -> {
      ctx.put(RequestLog.ROUTE, RequestLog.mountPoint(ctx) + operation.getOpenAPIPath());
      validate(ctx, validator, operation);
    };
  }

  private static void validate(RoutingContext ctx, InlineRequestValidator validator, Operation operation) {
    extract(ctx, operation)
      .compose(request -> validator.validate(request, operation.getOperationId()))
      .onSuccess(validated -> {
        ctx.put(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST, validated);
        ctx.next();
      })
      .onFailure(e -> ctx.fail(e instanceof ValidatorException ? new HttpException(400, e.getMessage(), e) : e));
  }

  /**
   * The request as the validator sees it, read from the router (which knows where the resource is mounted; the stock
   * extractor counts path segments from the root and so reads the wrong segment under {@code /beta} or a host's
   * mount point), with query values decoded exactly once (the stock extractor decodes them a second time, so a
   * literal {@code %} could not be sent), and a body only if its media type is {@code application/json} (any case,
   * charset UTF-8 if one is named), its bytes are UTF-8 (overlong and other malformed sequences included) and they
   * are one JSON value without duplicate properties ({@link BodySyntax}: the 400 says where).
   */
  private static Future<ValidatableRequest> extract(RoutingContext ctx, Operation operation) {
    Map<String, RequestParameter> headers = new HashMap<>();
    Map<String, RequestParameter> path = new HashMap<>();
    Map<String, RequestParameter> query = new HashMap<>();
    for (Parameter parameter : operation.getParameters()) {
      String name = parameter.getName();
      switch (parameter.getIn()) {
        case PATH -> path.put(name, InlineRequestValidator.parameter(ctx.pathParam(name)));
        case QUERY -> query.put(name, InlineRequestValidator.parameter(ctx.queryParams().get(name)));
        case HEADER -> headers.put(name, InlineRequestValidator.parameter(ctx.request().getHeader(name)));
        default -> {
          // the contract has no cookie parameters
        }
      }
    }
    String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    Buffer body = ctx.body().buffer();
    if (operation.getRequestBody() != null && contentType != null) {
      if (!MediaTypes.isJsonUtf8(contentType)) {
        return Future.failedFuture(new HttpException(415));
      }
      if (body != null && body.length() > 0) {
        try {
          BodySyntax.check(body, body.getBytes());
        } catch (BodySyntax.Malformed e) {
          return Future.failedFuture(e);
        }
      }
      contentType = MediaTypes.JSON;
    }
    return Future.succeededFuture(InlineRequestValidator.request(headers, path, query,
      body == null || body.length() == 0 ? null : InlineRequestValidator.parameter(body), contentType));
  }
}
