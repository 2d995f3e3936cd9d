package io.mtor.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

/**
 * The service's own counters, in the Micrometer registry of Vert.x's metrics when they are enabled (the
 * standalone service enables them; an embedding host may or may not), otherwise nowhere.
 */
final class Meters {

  private Meters() {
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

  /** A request body or parameter the contract rejected, by JSON pointer of the property. */
  static void validationFailure(String target) {
    MeterRegistry registry = registry();
    if (registry != null) {
      Counter.builder("mtor.validation.failures").description("Contract violations by property")
        .tag("property", target == null || target.isEmpty() ? "(body)" : target).register(registry).increment();
    }
  }
}
