package io.mtor.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.mtor.events.ResultEvents;
import io.vertx.micrometer.backends.BackendRegistries;

import java.util.Set;

/**
 * The service's own counters, in the Micrometer registry of Vert.x's metrics when they are enabled (the
 * standalone service enables them; an embedding host may or may not), otherwise nowhere.
 *
 * <p>Every label value comes from a closed set: a client's method, path or body never names a series.
 */
public final class Meters {

  /** The label value for anything outside a label's closed set. */
  public static final String OTHER = "other";
  /** Methods counted by name; any other method is counted as {@value #OTHER}. */
  static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  /** Most values one label of one meter may take, whatever happens: a last line of defence. */
  private static final int MAX_VALUES_PER_LABEL = 64;

  private Meters() {
  }

  /**
   * Filters for a registry before Vert.x registers its meters: HTTP methods outside {@link #METHODS} and event-bus
   * addresses that are not the service's become {@value #OTHER}, and no label of Vert.x's meters takes more than a
   * fixed number of values (meters beyond are not recorded).
   */
  public static void closeLabels(MeterRegistry registry) {
    registry.config()
      .meterFilter(MeterFilter.replaceTagValues("method", method -> METHODS.contains(method) ? method : OTHER))
      .meterFilter(MeterFilter.replaceTagValues("address",
        address -> address.startsWith(ResultEvents.PREFIX) ? address : OTHER));
    for (String label : new String[] {"method", "route", "code", "address", "side"}) {
      registry.config().meterFilter(MeterFilter.maximumAllowableTags("vertx.", label, MAX_VALUES_PER_LABEL,
        MeterFilter.deny()));
    }
  }

  private static MeterRegistry registry() {
    return BackendRegistries.getDefaultNow();
  }

  /** A change stored: {@code type} is created, updated or deleted. */
  static void change(String type) {
    MeterRegistry registry = registry();
    if (registry != null) {
      Counter.builder("mtor.results.changes").description("Records created, updated and deleted")
        .tag("type", type).register(registry).increment();
    }
  }

  /**
   * A request body or parameter the contract rejected, by the contract property it concerns: the first segment of
   * the violation's JSON pointer when the contract knows that property, {@code (body)} for the body as a whole,
   * {@value #OTHER} for anything else (an unknown property, say).
   */
  static void validationFailure(String target, Set<String> properties) {
    MeterRegistry registry = registry();
    if (registry != null) {
      Counter.builder("mtor.validation.failures").description("Contract violations by property")
        .tag("property", property(target, properties)).register(registry).increment();
    }
  }

  static String property(String target, Set<String> properties) {
    if (target == null || target.isEmpty()) {
      return "(body)";
    }
    int end = target.indexOf('/', 1);
    String first = target.substring(1, end < 0 ? target.length() : end);
    return properties.contains(first) ? first : OTHER;
  }
}
