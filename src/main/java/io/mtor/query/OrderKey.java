package io.mtor.query;

import java.util.Objects;

/**
 * One {@code $orderby} key: a scalar property of the entity and its direction.
 *
 * @param property   the property's JSON name, e.g. {@code createdDateTime}
 * @param descending {@code true} for {@code desc}, {@code false} for {@code asc} (the default)
 */
public record OrderKey(String property, boolean descending) {

  /** Rejects a null property name. */
  public OrderKey {
    Objects.requireNonNull(property, "property");
  }
}
