package io.mtor.query;

import io.mtor.query.Expr.Comparison;
import io.mtor.query.Expr.In;
import io.mtor.query.Expr.Literal;
import io.mtor.query.Expr.Logical;
import io.mtor.query.Expr.Op;
import io.mtor.query.Expr.Ref;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A parsed, type-checked {@code $filter} over managedTenantOperationResult entities stored as JSON.
 *
 * <p>Supported: {@code eq ne gt ge lt le} between a property and a literal (either side), {@code and},
 * {@code or}, {@code not}, parentheses, {@code property in (literal, ...)},
 * {@code startswith|endswith|contains(property, 'text')} and a Boolean property on its own. Literals:
 * {@code 'string'} ({@code ''} escapes a quote), {@code true}, {@code false}, {@code null}, Guids (bare or
 * quoted, compared case-insensitively) and DateTimeOffsets such as {@code 2026-11-28T15:31:49.123+01:00}
 * (compared as instants). Null semantics follow OData: {@code null eq null} is true, ordering comparisons
 * with null are false, and a null Boolean property is "unknown" under {@code and}/{@code or}/{@code not}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Filter implements Predicate<JsonObject> {

  private final String text;
  private final Expr root;
  private final Map<String, Set<String>> constraints;

  private Filter(String text, Expr root) {
    this.text = text;
    this.root = root;
    Map<String, Set<String>> found = new LinkedHashMap<>();
    collect(root, found);
    found.replaceAll((property, values) -> Collections.unmodifiableSet(values));
    this.constraints = Collections.unmodifiableMap(found);
  }

  /**
   * Parses a {@code $filter} value (already URL-decoded).
   *
   * @throws QueryException with option {@code $filter} and the position of the problem, for a syntax error,
   *                        an unknown or unfilterable property, a type mismatch, more than
   *                        {@value FilterParser#MAX_LENGTH} characters or more than
   *                        {@value FilterParser#MAX_DEPTH} levels of nesting
   */
  public static Filter parse(String text) {
    return new Filter(text, FilterParser.parse(text));
  }

  /** Whether the entity matches: the filter evaluates to true (not false, not unknown). */
  @Override
  public boolean test(JsonObject entity) {
    return Boolean.TRUE.equals(root.eval(entity));
  }

  /**
   * Constraints a store can answer from its ordered index: for each indexed property ({@code targetTenantId},
   * {@code partnerTenantId}, {@code managedTenantOperationId}, {@code requestId}) constrained by
   * {@code P eq 'v'} or {@code P in (...)} in the top-level {@code and} chain, the set of values it may have
   * (Guids in lowercase). Every entity the filter matches has, for each reported property, one of the
   * reported values; an empty set means nothing matches. Constraints under {@code or} or {@code not}, or
   * that allow null, are not reported. Candidates must still be checked with {@link #test}.
   *
   * @return an unmodifiable map, empty when there is no usable constraint
   */
  public Map<String, Set<String>> equalityConstraints() {
    return constraints;
  }

  /**
   * Whether the filter is only what {@link #equalityConstraints()} reports: every operand of its top-level
   * {@code and} is an {@code eq} or {@code in} with non-null literals on an indexed property. Then a record matches
   * exactly when its values are among the reported ones, and a count can come from an index.
   */
  public boolean onlyEqualityConstraints() {
    List<Expr> operands = root instanceof Logical logical && logical.and() ? logical.operands() : List.of(root);
    for (Expr operand : operands) {
      if (operand instanceof In in && in.subject().property().indexed && !in.values().contains(null)) {
        continue;
      }
      if (operand instanceof Comparison c && c.op() == Op.EQ) {
        Expr subject = c.left() instanceof Literal ? c.right() : c.left();
        Expr other = subject == c.left() ? c.right() : c.left();
        if (subject instanceof Ref ref && ref.property().indexed && other instanceof Literal literal
          && literal.value() != null) {
          continue;
        }
      }
      return false;
    }
    return true;
  }

  /**
   * The range of a DateTimeOffset property that the comparisons ({@code ge gt le lt eq}) of the top-level {@code and}
   * allow: {@code [lowest, highest]}, each null when unbounded. Bounds are inclusive (a {@code gt} is reported as
   * its instant): every matching entity lies within them; candidates must still be checked with {@link #test}.
   */
  public Instant[] range(String property) {
    Instant[] range = new Instant[2];
    List<Expr> operands = root instanceof Logical logical && logical.and() ? logical.operands() : List.of(root);
    for (Expr operand : operands) {
      if (!(operand instanceof Comparison c)) {
        continue;
      }
      boolean flipped = c.left() instanceof Literal;
      Expr subject = flipped ? c.right() : c.left();
      Expr other = flipped ? c.left() : c.right();
      if (!(subject instanceof Ref ref && ref.property().json.equals(property)
        && other instanceof Literal literal && literal.value() instanceof Instant at)) {
        continue;
      }
      Op op = c.op();
      boolean lower = op == Op.EQ || (flipped ? op == Op.LT || op == Op.LE : op == Op.GT || op == Op.GE);
      boolean upper = op == Op.EQ || (flipped ? op == Op.GT || op == Op.GE : op == Op.LT || op == Op.LE);
      if (lower && (range[0] == null || at.isAfter(range[0]))) {
        range[0] = at;
      }
      if (upper && (range[1] == null || at.isBefore(range[1]))) {
        range[1] = at;
      }
    }
    return range;
  }

  /** The filter's text as given. */
  @Override
  public String toString() {
    return text;
  }

  private static void collect(Expr expr, Map<String, Set<String>> out) {
    if (expr instanceof Logical logical) {
      if (logical.and()) {
        logical.operands().forEach(operand -> collect(operand, out));
      }
      return;
    }
    if (expr instanceof Comparison c && c.op() == Op.EQ) {
      Expr subject = c.left() instanceof Literal ? c.right() : c.left();
      Expr other = subject == c.left() ? c.right() : c.left();
      if (subject instanceof Ref ref && other instanceof Literal literal && literal.value() != null) {
        constrain(out, ref, Set.of(literal.value()));
      }
    } else if (expr instanceof In in && !in.values().contains(null)) {
      constrain(out, in.subject(), in.values());
    }
  }

  /** Adds (intersects) the allowed values of an indexed property; the values of indexed properties are Strings. */
  private static void constrain(Map<String, Set<String>> out, Ref ref, Set<Object> values) {
    if (!ref.property().indexed) {
      return;
    }
    Set<String> allowed = new LinkedHashSet<>();
    values.forEach(value -> allowed.add((String) value));
    out.merge(ref.property().json, allowed, (a, b) -> {
      a.retainAll(b);
      return a;
    });
  }
}
