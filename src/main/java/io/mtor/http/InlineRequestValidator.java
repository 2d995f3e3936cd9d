package io.mtor.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaValidationException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.contract.Style;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.ValidatedRequest;
import io.vertx.openapi.validation.ValidationContext;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.openapi.validation.analyser.ContentAnalyser;
import io.vertx.openapi.validation.impl.RequestParameterImpl;
import io.vertx.openapi.validation.impl.RequestValidatorImpl;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;
import io.vertx.openapi.validation.impl.ValidatedRequestImpl;
import io.vertx.openapi.validation.transformer.FormTransformer;
import io.vertx.openapi.validation.transformer.ParameterTransformer;
import io.vertx.openapi.validation.transformer.SimpleTransformer;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

import static io.vertx.openapi.validation.SchemaValidationException.createErrorFromOutputUnitType;
import static io.vertx.openapi.validation.SchemaValidationException.createInvalidValueBody;
import static io.vertx.openapi.validation.ValidatorErrorType.UNSUPPORTED_VALUE_FORMAT;
import static io.vertx.openapi.validation.ValidatorException.createMissingRequiredParameter;
import static io.vertx.openapi.validation.ValidatorException.createUnsupportedValueFormat;

/**
 * Vert.x OpenAPI's request validator, run on the calling thread with its schema validators built once.
 *
 * <p>The stock {@code RequestValidatorImpl} hops to a worker thread for every request and compiles a
 * schema validator for the body and each parameter every time; both cost more than the validation of a body
 * the contract accepts, which is short enough for the event loop. The checks are the library's own: same
 * contract, same JSON Schema validator, same exceptions.
 *
 * <p>The one class that uses vertx-openapi's {@code impl} package (its validator, parameter and request classes),
 * which may change in any release: {@code VertxOpenApiVersionTest} fails on another version of the library, to
 * have this class checked again.
 */
final class InlineRequestValidator extends RequestValidatorImpl {

  private final Map<JsonSchema, Validator> validators = new IdentityHashMap<>();
  private final Map<Style, ParameterTransformer> transformers = Map.of(Style.SIMPLE, new SimpleTransformer(),
    Style.FORM, new FormTransformer());

  /**
   * A body the compiled checks do not accept goes to the library, whose time grows with the number of violations,
   * so that a large body of bad items would hold an event loop. Above this size that runs on a single worker
   * thread of its own, never on an event loop, with at most {@link #MAX_DEFERRED} waiting (503 beyond).
   */
  static final int INLINE_REJECTION_BYTES = 8 * 1024;
  static final int MAX_DEFERRED = 16;

  private final io.vertx.core.WorkerExecutor rejections;
  private final java.util.concurrent.atomic.AtomicInteger deferred = new java.util.concurrent.atomic.AtomicInteger();
  /** Set on the rejections thread: there the library may take its time. */
  private static final ThreadLocal<Boolean> ON_WORKER = ThreadLocal.withInitial(() -> false);

  /** Thrown on an event loop for a large body that needs the library: validation moves to the worker. */
  private static final class Deferred extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Deferred() {
      super(null, null, false, false);
    }
  }

  InlineRequestValidator(Vertx vertx, OpenAPIContract contract) {
    super(vertx, contract);
    this.rejections = vertx.createSharedWorkerExecutor("mtor-rejected-bodies", 1);
    // Built up front and read-only afterwards, so that event loops can share it without locking.
    for (Operation operation : contract.operations()) {
      operation.getParameters().forEach(p -> validators.put(p.getSchema(), CompiledSchema.validator(contract.getSchemaRepository(), p.getSchema())));
      if (operation.getRequestBody() != null) {
        operation.getRequestBody().getContent().values()
          .forEach(m -> validators.put(m.getSchema(), CompiledSchema.validator(contract.getSchemaRepository(), m.getSchema())));
      }
    }
  }

  @Override
  public Future<ValidatedRequest> validate(ValidatableRequest request, String operationId) {
    try {
      return validateHere(request, operationId);
    } catch (Deferred large) {
      if (deferred.incrementAndGet() > MAX_DEFERRED) {
        deferred.decrementAndGet();
        return Future.failedFuture(io.mtor.domain.ResultException.unavailable(
          "Too many large invalid bodies are being checked; retry in a second."));
      }
      return rejections.<Future<ValidatedRequest>>executeBlocking(() -> {
        ON_WORKER.set(true);
        try {
          return validateHere(request, operationId);
        } finally {
          ON_WORKER.set(false);
        }
      }, false).compose(validated -> validated).onComplete(done -> deferred.decrementAndGet());
    }
  }

  private Future<ValidatedRequest> validateHere(ValidatableRequest request, String operationId) {
    Operation operation = contract.operation(operationId);
    try {
      Map<String, RequestParameter> headers = new HashMap<>();
      Map<String, RequestParameter> path = new HashMap<>();
      Map<String, RequestParameter> query = new HashMap<>();
      for (Parameter param : operation.getParameters()) {
        switch (param.getIn()) {
          case HEADER -> headers.put(param.getName(), validateParameter(param, request.getHeaders().get(param.getName())));
          case PATH -> path.put(param.getName(), validateParameter(param, request.getPathParameters().get(param.getName())));
          case QUERY -> query.put(param.getName(), validateParameter(param, request.getQuery().get(param.getName())));
          default -> throw createUnsupportedValueFormat(param);
        }
      }
      RequestParameter body;
      try {
        body = validateBody(operation.getRequestBody(), request);
      } catch (ValidatorException e) {
        throw new InvalidBody(e);
      }
      return Future.succeededFuture(new ValidatedRequestImpl(Map.of(), headers, path, query, body));
    } catch (ValidatorException | InvalidParameter | InvalidBody e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public RequestParameter validateParameter(Parameter parameter, RequestParameter value) {
    ParameterTransformer transformer = transformers.get(parameter.getStyle());
    if (transformer == null) {
      return super.validateParameter(parameter, value);
    }
    if (value == null || value.isNull()) {
      if (parameter.isRequired()) {
        throw createMissingRequiredParameter(parameter);
      }
      return new RequestParameterImpl(null);
    }
    // A string parameter is taken as sent. The stock transformer reads values as JSON first: that strips the
    // quotes of an entity tag ("abc" becomes abc), rejects a weak one (W/"abc") outright, and costs a regex
    // compilation and a thrown-and-caught parse exception for every GUID in a path.
    Object transformed = parameter.getSchemaType() == SchemaType.STRING
      ? String.valueOf(value.get()) : transformer.transform(parameter, String.valueOf(value.get()));
    OutputUnit result = validators.get(parameter.getSchema()).validate(transformed);
    try {
      result.checkValidity();
      return new RequestParameterImpl(transformed);
    } catch (JsonSchemaValidationException e) {
      throw new InvalidParameter(parameter.getName(), createErrorFromOutputUnitType(parameter, result, e));
    }
  }

  /** A parameter's value the contract rejects, with the parameter's name for the error's details. */
  static final class InvalidParameter extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String name;

    InvalidParameter(String name, io.vertx.openapi.validation.SchemaValidationException cause) {
      super(cause.getMessage(), cause, false, false);
      this.name = name;
    }

    String name() {
      return name;
    }

    io.vertx.openapi.validation.SchemaValidationException violation() {
      return (io.vertx.openapi.validation.SchemaValidationException) getCause();
    }
  }

  /**
   * A request body the contract rejects (a violation, malformed or empty, or another media type), apart from a
   * parameter's rejection: the error mapper tells these apart by type, not by the library's wording.
   */
  static final class InvalidBody extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InvalidBody(ValidatorException cause) {
      super(cause.getMessage(), cause, false, false);
    }

    ValidatorException reason() {
      return (ValidatorException) getCause();
    }
  }

  /** A request parameter's value (or the body's bytes) as the validator reads it. */
  static RequestParameter parameter(Object value) {
    return new RequestParameterImpl(value);
  }

  /** A request as the validator reads it; no cookies (the contract has none). */
  static ValidatableRequest request(Map<String, RequestParameter> headers, Map<String, RequestParameter> path,
                                    Map<String, RequestParameter> query, RequestParameter body, String contentType) {
    return new ValidatableRequestImpl(Map.of(), headers, path, query, body, contentType);
  }

  @Override
  protected RequestParameterImpl validate(MediaType mediaType, String contentType, Buffer rawContent,
                                          ValidationContext requestOrResponse) {
    ContentAnalyser analyser = mediaType == null ? null
      : ContentAnalyser.getContentAnalyser(mediaType, contentType, rawContent, requestOrResponse);
    if (analyser == null) {
      throw new ValidatorException("The format of the " + requestOrResponse + " body is not supported",
        UNSUPPORTED_VALUE_FORMAT);
    }
    analyser.checkSyntacticalCorrectness();
    if (!isSchemaValidationRequired(mediaType)) {
      return new RequestParameterImpl(rawContent);
    }
    Object value = analyser.transform();
    Validator validator = validators.get(mediaType.getSchema());
    if (validator instanceof CompiledSchema compiled && !ON_WORKER.get() && rawContent.length() > INLINE_REJECTION_BYTES
      && !compiled.accepts(value)) {
      throw new Deferred();
    }
    OutputUnit result = validator.validate(value);
    try {
      result.checkValidity();
      return new RequestParameterImpl(value);
    } catch (JsonSchemaValidationException e) {
      throw createInvalidValueBody(result, requestOrResponse, e);
    }
  }
}
