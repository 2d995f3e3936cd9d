package io.mtor.query;

import io.mtor.domain.Guids;
import io.mtor.query.Expr.Comparison;
import io.mtor.query.Expr.In;
import io.mtor.query.Expr.Literal;
import io.mtor.query.Expr.Logical;
import io.mtor.query.Expr.Not;
import io.mtor.query.Expr.Op;
import io.mtor.query.Expr.Ref;
import io.mtor.query.Expr.TextFunction;
import io.mtor.query.Expr.TextMatch;
import io.mtor.query.Property.Type;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokenizer and recursive-descent parser for {@code $filter}, with type checking. Precedence, from
 * loosest: {@code or}, {@code and}, comparisons and {@code in}, {@code not}, then primaries (parentheses,
 * functions, literals, properties). Recursion is bounded by {@link #MAX_DEPTH} and the input by
 * {@link #MAX_LENGTH}.
 */
final class FilterParser {

  static final int MAX_LENGTH = 4096;
  static final int MAX_DEPTH = 64;
  private static final String OPTION = "$filter";

  /** A literal must not run into a word, a dot, a colon or a sign. */
  private static final String END = "(?![\\w.:+-])";
  private static final Pattern GUID_TOKEN = Pattern.compile(Guids.PATTERN + END);
  private static final Pattern DATE_TIME_TOKEN =
    Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?" + END);
  private static final Pattern DATE_TOKEN = Pattern.compile("\\d{4}-\\d{2}-\\d{2}" + END);
  private static final Pattern NUMBER_TOKEN = Pattern.compile("-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?" + END);
  private static final Pattern WORD_TOKEN = Pattern.compile("[A-Za-z_@][\\w.]*");

  private static final Set<String> KEYWORDS = Set.of("and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in",
    "true", "false", "null", "startswith", "endswith", "contains");
  private static final Set<String> OPERATORS = Set.of("and", "or", "eq", "ne", "gt", "ge", "lt", "le", "in");

  private enum Kind { WORD, STRING, GUID, DATE_TIME, NUMBER, OPEN, CLOSE, COMMA, END }

  private record Token(Kind kind, String text, Object value, int position) {
    int end() {
      return position + text.length();
    }

    String describe() {
      return switch (kind) {
        case END -> "end of input";
        case STRING -> text.length() > 60 ? text.substring(0, 60) + "..." : text;
        default -> Text.quote(text);
      };
    }
  }

  private final List<Token> tokens;
  private int next;
  private int depth;

  private FilterParser(List<Token> tokens) {
    this.tokens = tokens;
  }

  /** Parses and type-checks a {@code $filter} value; the result is a Boolean expression. */
  static Expr parse(String text) {
    if (text.length() > MAX_LENGTH) {
      throw error(-1, "longer than " + MAX_LENGTH + " characters");
    }
    FilterParser parser = new FilterParser(tokenize(text));
    if (parser.peek().kind == Kind.END) {
      throw error(-1, "empty expression");
    }
    Expr expr = parser.or();
    Token t = parser.peek();
    if (t.kind != Kind.END) {
      throw error(t.position, "unexpected " + t.describe());
    }
    return expr;
  }

  // ---- grammar ----

  private Expr or() {
    List<Expr> operands = new ArrayList<>(List.of(and()));
    while (keyword("or")) {
      next++;
      operands.add(and());
    }
    return operands.size() == 1 ? operands.get(0) : new Logical(false, List.copyOf(operands));
  }

  private Expr and() {
    List<Expr> operands = new ArrayList<>(List.of(comparison()));
    while (keyword("and")) {
      next++;
      operands.add(comparison());
    }
    return operands.size() == 1 ? operands.get(0) : new Logical(true, List.copyOf(operands));
  }

  private Expr comparison() {
    Token first = peek();
    Expr left = unary();
    for (Op op : Op.values()) {
      if (keyword(op.keyword)) {
        Token operator = take();
        return compare(left, op, operator, unary());
      }
    }
    if (keyword("in")) {
      return in(left, take());
    }
    if (left.type() != Type.BOOLEAN) {
      Token t = peek();
      throw error(t.position, "expected a comparison operator (eq, ne, gt, ge, lt, le, in) after "
        + first.describe() + " but found " + t.describe());
    }
    return left;
  }

  private Expr unary() {
    if (!keyword("not")) {
      return primary();
    }
    Token not = take();
    enter(not);
    Expr operand = unary();
    depth--;
    if (operand.type() != Type.BOOLEAN) {
      throw error(not.position, "'not' must be followed by a Boolean operand; "
        + "to negate a comparison use parentheses, e.g. not (exception eq null)");
    }
    return new Not(operand);
  }

  private Expr primary() {
    Token t = take();
    if (t.kind == Kind.OPEN) {
      enter(t);
      Expr inner = or();
      expect(Kind.CLOSE, "')'");
      depth--;
      return inner;
    }
    Literal literal = literal(t);
    if (literal != null) {
      return literal;
    }
    if (t.kind != Kind.WORD) {
      throw error(t.position, "expected an operand but found " + t.describe());
    }
    if (peek().kind == Kind.OPEN) {
      return function(t);
    }
    checkLowercase(t);
    if (OPERATORS.contains(t.text)) {
      throw error(t.position, "expected an operand but found " + t.describe());
    }
    return new Ref(Property.resolve(OPTION, t.text, t.position).scalar(OPTION, t.position));
  }

  private Expr function(Token name) {
    TextFunction function = TextFunction.find(name.text);
    if (function == null) {
      checkLowercase(name);
      throw error(name.position, "function " + name.describe()
        + " is not supported (supported: startswith, endswith, contains)");
    }
    take(); // '('
    Token arg = take();
    if (arg.kind != Kind.WORD) {
      throw error(arg.position, name.text + " expects a property as its first argument");
    }
    Property property = Property.resolve(OPTION, arg.text, arg.position).scalar(OPTION, arg.position);
    if (property.type != Type.STRING) {
      throw error(arg.position, name.text + " needs a String property, but '" + property.json + "' is of type "
        + property.type.label);
    }
    expect(Kind.COMMA, "','");
    Token text = take();
    if (text.kind != Kind.STRING) {
      throw error(text.position, name.text + " expects a string literal as its second argument");
    }
    expect(Kind.CLOSE, "')'");
    return new TextMatch(function, new Ref(property), (String) text.value);
  }

  private Expr in(Expr left, Token in) {
    if (!(left instanceof Ref ref)) {
      throw error(in.position, "'in' needs a property on its left side");
    }
    expect(Kind.OPEN, "'(' after 'in'");
    Set<Object> values = new LinkedHashSet<>();
    while (true) {
      Token t = take();
      Literal literal = literal(t);
      if (literal == null) {
        throw error(t.position, "expected a literal in the 'in' list but found " + t.describe());
      }
      values.add(check(ref, Op.EQ, in, literal).value());
      if (peek().kind != Kind.COMMA) {
        break;
      }
      next++;
    }
    expect(Kind.CLOSE, "')'");
    return new In(ref, values);
  }

  private Expr compare(Expr left, Op op, Token operator, Expr right) {
    boolean leftLiteral = left instanceof Literal;
    boolean rightLiteral = right instanceof Literal;
    if (leftLiteral == rightLiteral) {
      throw error(operator.position, leftLiteral
        ? "a comparison needs a property on one side"
        : "comparing two properties or expressions is not supported; compare a property with a literal");
    }
    return leftLiteral
      ? new Comparison(check(right, op, operator, (Literal) left), op, right)
      : new Comparison(left, op, check(left, op, operator, (Literal) right));
  }

  /** Checks that the literal fits the subject and operator, and converts it (quoted Guids) to the subject's type. */
  private static Literal check(Expr subject, Op op, Token operator, Literal literal) {
    Type type = subject.type();
    String what = subject instanceof Ref ref
      ? "property '" + ref.property().json + "' (" + type.label + ")"
      : "a Boolean expression";
    if (literal.type() == Type.NULL) {
      if (!op.isEquality()) {
        throw error(operator.position, "null can only be compared with eq or ne");
      }
      return literal;
    }
    if (type == Type.BOOLEAN && !op.isEquality()) {
      throw error(operator.position, "'" + op.keyword + "' cannot be applied to " + what
        + "; Boolean values support only eq and ne");
    }
    if (literal.type() == type) {
      return literal;
    }
    if (type == Type.GUID && literal.type() == Type.STRING) {
      String text = (String) literal.value();
      if (!Guids.isGuid(text)) {
        throw error(literal.position(), literal.text() + " is not a valid Guid for " + what);
      }
      return new Literal(Type.GUID, text.toLowerCase(Locale.ROOT), literal.text(), literal.position());
    }
    String hint = type == Type.DATE_TIME_OFFSET && literal.type() == Type.STRING
      ? "; write DateTimeOffset values without quotes, e.g. 2026-11-28T15:31:49Z" : "";
    throw error(literal.position(), "cannot compare " + what + " with "
      + (literal.type() == Type.STRING ? literal.text() : Text.quote(literal.text()))
      + " (" + literal.type().label + ")" + hint);
  }

  private static Literal literal(Token t) {
    Type type = switch (t.kind) {
      case STRING -> Type.STRING;
      case GUID -> Type.GUID;
      case DATE_TIME -> Type.DATE_TIME_OFFSET;
      case NUMBER -> Type.NUMBER;
      case WORD -> switch (t.text) {
        case "true", "false" -> Type.BOOLEAN;
        case "null" -> Type.NULL;
        default -> null;
      };
      default -> null;
    };
    if (type == null) {
      return null;
    }
    Object value = type == Type.BOOLEAN ? Boolean.valueOf(t.text) : t.value;
    return new Literal(type, value, t.text, t.position);
  }

  // ---- token helpers ----

  private Token peek() {
    return tokens.get(next);
  }

  private Token take() {
    Token t = tokens.get(next);
    if (t.kind != Kind.END) {
      next++;
    }
    return t;
  }

  /** Whether the next token is this (lowercase) keyword; a keyword in another case is an error. */
  private boolean keyword(String keyword) {
    Token t = peek();
    if (t.kind != Kind.WORD) {
      return false;
    }
    checkLowercase(t);
    return t.text.equals(keyword);
  }

  private static void checkLowercase(Token t) {
    String lower = t.text.toLowerCase(Locale.ROOT);
    if (!lower.equals(t.text) && KEYWORDS.contains(lower)) {
      throw error(t.position, t.describe() + " must be written in lowercase ('" + lower + "')");
    }
  }

  private void expect(Kind kind, String what) {
    Token t = take();
    if (t.kind != kind) {
      throw error(t.position, "expected " + what);
    }
  }

  private void enter(Token t) {
    if (++depth > MAX_DEPTH) {
      throw error(t.position, "expression nested too deeply (more than " + MAX_DEPTH + " levels)");
    }
  }

  private static QueryException error(int position, String detail) {
    return new QueryException(OPTION, position, detail);
  }

  // ---- tokenizer ----

  private static List<Token> tokenize(String in) {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    while (true) {
      while (i < in.length() && isSpace(in.charAt(i))) {
        i++;
      }
      if (i == in.length()) {
        tokens.add(new Token(Kind.END, "", null, i));
        return tokens;
      }
      Token t = switch (in.charAt(i)) {
        case '(' -> new Token(Kind.OPEN, "(", null, i);
        case ')' -> new Token(Kind.CLOSE, ")", null, i);
        case ',' -> new Token(Kind.COMMA, ",", null, i);
        case '\'' -> string(in, i);
        default -> other(in, i);
      };
      tokens.add(t);
      i = t.end();
    }
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }

  /** A single-quoted string; two quotes stand for one. */
  private static Token string(String in, int start) {
    StringBuilder value = new StringBuilder();
    int i = start + 1;
    while (true) {
      if (i >= in.length()) {
        throw error(start, "unterminated string literal");
      }
      char c = in.charAt(i++);
      if (c != '\'') {
        value.append(c);
      } else if (i < in.length() && in.charAt(i) == '\'') {
        value.append('\'');
        i++;
      } else {
        return new Token(Kind.STRING, in.substring(start, i), value.toString(), start);
      }
    }
  }

  private static Token other(String in, int i) {
    Matcher m;
    if ((m = at(GUID_TOKEN, in, i)) != null) {
      return new Token(Kind.GUID, m.group(), m.group().toLowerCase(Locale.ROOT), i);
    }
    if ((m = at(DATE_TIME_TOKEN, in, i)) != null) {
      return dateTime(m, i);
    }
    if (at(DATE_TOKEN, in, i) != null) {
      throw error(i, "Date literals are not supported; use a DateTimeOffset such as 2026-11-28T00:00:00Z");
    }
    if ((m = at(NUMBER_TOKEN, in, i)) != null) {
      return new Token(Kind.NUMBER, m.group(), m.group(), i);
    }
    if ((m = at(WORD_TOKEN, in, i)) != null) {
      return new Token(Kind.WORD, m.group(), null, i);
    }
    char c = in.charAt(i);
    if (Character.isDigit(c) || c == '-') {
      int end = i;
      while (end < in.length() && !isSpace(in.charAt(end)) && "(),".indexOf(in.charAt(end)) < 0) {
        end++;
      }
      throw error(i, "invalid literal " + Text.quote(in.substring(i, end)));
    }
    throw error(i, "unexpected character " + Text.quote(new String(Character.toChars(in.codePointAt(i)))));
  }

  private static Token dateTime(Matcher m, int i) {
    String text = m.group();
    if (m.group(1) == null) {
      throw error(i, "DateTimeOffset literal " + Text.quote(text) + " needs a time zone: end it with Z or an offset "
        + "such as +01:00 (in a URL, encode '+' as %2B)");
    }
    try {
      Instant value = OffsetDateTime.parse(text).toInstant();
      return new Token(Kind.DATE_TIME, text, value, i);
    } catch (DateTimeParseException e) {
      throw error(i, "invalid DateTimeOffset literal " + Text.quote(text));
    }
  }

  private static Matcher at(Pattern pattern, String in, int i) {
    Matcher m = pattern.matcher(in).region(i, in.length());
    return m.lookingAt() ? m : null;
  }
}
