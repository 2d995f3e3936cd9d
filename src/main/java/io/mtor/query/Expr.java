package io.mtor.query;

import io.mtor.query.Property.Type;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * A node of a parsed, type-checked {@code $filter}. Boolean nodes evaluate to TRUE, FALSE or null
 * (unknown, as for a null Boolean property), combined with OData's three-valued logic.
 */
sealed interface Expr {

  /** The type of the value {@link #eval} returns. */
  Type type();

  /** The value for this entity: String (Guids lowercase), Boolean, Instant or null. */
  Object eval(JsonObject entity);

  /** A literal, already converted to the type of what it is compared with. */
  record Literal(Type type, Object value, String text, int position) implements Expr {
    @Override
    public Object eval(JsonObject entity) {
      return value;
    }
  }

  /** A property of the entity. */
  record Ref(Property property) implements Expr {
    @Override
    public Type type() {
      return property.type;
    }

    @Override
    public Object eval(JsonObject entity) {
      return property.value(entity);
    }
  }

  /** {@code not}: null stays null. */
  record Not(Expr operand) implements Expr {
    @Override
    public Type type() {
      return Type.BOOLEAN;
    }

    @Override
    public Object eval(JsonObject entity) {
      Object value = operand.eval(entity);
      return value == null ? null : !(Boolean) value;
    }
  }

  /** {@code and} / {@code or} over two or more operands, with null as "unknown". */
  record Logical(boolean and, List<Expr> operands) implements Expr {
    @Override
    public Type type() {
      return Type.BOOLEAN;
    }

    @Override
    public Object eval(JsonObject entity) {
      boolean unknown = false;
      for (Expr operand : operands) {
        Object value = operand.eval(entity);
        if (value == null) {
          unknown = true;
        } else if ((Boolean) value != and) {
          return !and;
        }
      }
      return unknown ? null : and;
    }
  }

  /** A comparison of a property (or Boolean expression) with a literal, in either order. */
  record Comparison(Expr left, Op op, Expr right) implements Expr {
    @Override
    public Type type() {
      return Type.BOOLEAN;
    }

    @Override
    public Object eval(JsonObject entity) {
      return op.test(left.eval(entity), right.eval(entity));
    }
  }

  /** {@code property in (literal, ...)}: true when the value equals one of them (null equals null). */
  record In(Ref subject, Set<Object> values) implements Expr {
    @Override
    public Type type() {
      return Type.BOOLEAN;
    }

    @Override
    public Object eval(JsonObject entity) {
      return values.contains(subject.eval(entity));
    }
  }

  /** {@code startswith}, {@code endswith}, {@code contains} on a String property; false on null. */
  record TextMatch(TextFunction function, Ref subject, String text) implements Expr {
    @Override
    public Type type() {
      return Type.BOOLEAN;
    }

    @Override
    public Object eval(JsonObject entity) {
      Object value = subject.eval(entity);
      return value != null && function.test.test((String) value, text);
    }
  }

  /** The supported string functions. */
  enum TextFunction {
    STARTSWITH(String::startsWith), ENDSWITH(String::endsWith), CONTAINS(String::contains);

    final String keyword = name().toLowerCase(Locale.ROOT);
    final BiPredicate<String, String> test;

    TextFunction(BiPredicate<String, String> test) {
      this.test = test;
    }

    static TextFunction find(String keyword) {
      for (TextFunction f : values()) {
        if (f.keyword.equals(keyword)) {
          return f;
        }
      }
      return null;
    }
  }

  /**
   * Comparison operators. eq/ne treat null as a value (null eq null is true); ordering operators are false
   * when either side is null.
   */
  enum Op {
    EQ, NE, GT, GE, LT, LE;

    final String keyword = name().toLowerCase(Locale.ROOT);

    boolean isEquality() {
      return this == EQ || this == NE;
    }

    boolean test(Object a, Object b) {
      if (this == EQ) {
        return Objects.equals(a, b);
      }
      if (this == NE) {
        return !Objects.equals(a, b);
      }
      if (a == null || b == null) {
        return false;
      }
      int c = Property.compare(a, b);
      return switch (this) {
        case GT -> c > 0;
        case GE -> c >= 0;
        case LT -> c < 0;
        default -> c <= 0;
      };
    }
  }
}
