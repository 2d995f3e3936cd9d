package io.mtor.query;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The OData system query options of a request on {@code managedTenantOperationResults}: {@code $filter},
 * {@code $orderby}, {@code $select}, {@code $top}, {@code $skip}, {@code $count} and {@code $skiptoken}.
 * Option names are case-sensitive and need their {@code $}; other parameters are ignored. Immutable.
 */
public final class QueryOptions {

  private static final List<String> SUPPORTED =
    List.of("$filter", "$orderby", "$select", "$top", "$skip", "$count", "$skiptoken");

  private final Filter filter;
  private final List<OrderKey> orderBy;
  private final Set<String> select;
  private final int top;
  private final int skip;
  private final boolean count;
  private final String skipToken;
  private final int pageSize;

  private QueryOptions(Filter filter, List<OrderKey> orderBy, Set<String> select, int top, int skip, boolean count,
                       String skipToken, int pageSize) {
    this.filter = filter;
    this.orderBy = orderBy;
    this.select = select;
    this.top = top;
    this.skip = skip;
    this.count = count;
    this.skipToken = skipToken;
    this.pageSize = pageSize;
  }

  /**
   * Parses the query options of a request.
   *
   * @param rawParams       the URL-decoded query parameters, name to values; parameters whose name does not
   *                        start with {@code $} are ignored
   * @param defaultPageSize the page size when there is no {@code $top} (at least 1)
   * @param maxPageSize     the largest page size (at least {@code defaultPageSize}); a larger {@code $top} is
   *                        not an error, its pages hold this many
   * @throws QueryException for an unsupported {@code $} option (e.g. {@code $expand}), an option given more
   *                        than once, or an invalid value
   */
  public static QueryOptions parse(Map<String, List<String>> rawParams, int defaultPageSize, int maxPageSize) {
    if (defaultPageSize < 1 || maxPageSize < defaultPageSize) {
      throw new IllegalArgumentException("need 1 <= defaultPageSize <= maxPageSize");
    }
    Map<String, String> values = new HashMap<>();
    rawParams.forEach((name, list) -> {
      if (name == null || !name.startsWith("$") || list == null || list.isEmpty()) {
        return;
      }
      if (!SUPPORTED.contains(name)) {
        String hint = SUPPORTED.stream().filter(name::equalsIgnoreCase).findFirst()
          .map(s -> " (option names are case-sensitive; did you mean '" + s + "'?)").orElse("");
        throw new QueryException(name, -1, "query option not supported" + hint);
      }
      if (list.size() > 1) {
        throw new QueryException(name, -1, "query option given more than once");
      }
      values.put(name, Objects.requireNonNullElse(list.get(0), ""));
    });
    String filter = values.get("$filter");
    String orderBy = values.get("$orderby");
    String select = values.get("$select");
    String count = values.get("$count");
    int top = values.containsKey("$top") ? nonNegative("$top", values.get("$top")) : -1;
    if (count != null && !count.equals("true") && !count.equals("false")) {
      throw new QueryException("$count", -1, "must be true or false, not " + Text.quote(count));
    }
    return new QueryOptions(
      filter == null ? null : Filter.parse(filter),
      orderBy == null ? List.of() : orderBy(orderBy),
      select == null ? Set.of() : select(select),
      top,
      values.containsKey("$skip") ? nonNegative("$skip", values.get("$skip")) : 0,
      "true".equals(count),
      values.get("$skiptoken"),
      top < 0 ? defaultPageSize : Math.min(top, maxPageSize));
  }

  /** The {@code $filter}, or null if there is none. */
  public Filter filter() {
    return filter;
  }

  /** The {@code $orderby} keys in order; empty when there is none. */
  public List<OrderKey> orderBy() {
    return orderBy;
  }

  /** The {@code $select}ed property names; empty for all properties (no {@code $select}, or {@code *}). */
  public Set<String> select() {
    return select;
  }

  /**
   * The {@code $top} value, or -1 if absent. As in Microsoft Graph it is a page size, not a total: every page of
   * the list holds at most this many (and at most the maximum page size), and nextLinks follow while more remain.
   */
  public int top() {
    return top;
  }

  /** The {@code $skip} value, or 0 if absent. */
  public int skip() {
    return skip;
  }

  /** Whether {@code $count=true} asks for {@code @odata.count}. */
  public boolean count() {
    return count;
  }

  /** The opaque {@code $skiptoken}, or null. */
  public String skipToken() {
    return skipToken;
  }

  /** The page size: {@code min($top, maxPageSize)}, or the default page size without {@code $top}. */
  public int pageSize() {
    return pageSize;
  }

  /** {@link #comparator(List)} for this request's {@code $orderby}. */
  public Comparator<JsonObject> comparator() {
    return comparator(orderBy);
  }

  /** {@link #project(JsonObject, Set)} with this request's {@code $select}. */
  public JsonObject project(JsonObject entity) {
    return project(entity, select);
  }

  /**
   * A total order for entities: the keys in turn, then {@code id} ascending as the tiebreaker (unless a key
   * is {@code id} already). Nulls come first in ascending order and last in descending order, as in OData;
   * DateTimeOffsets compare as instants, Booleans false before true, Guids case-insensitively, Strings
   * ordinally.
   *
   * @throws IllegalArgumentException if a key names an unknown or collection property
   */
  public static Comparator<JsonObject> comparator(List<OrderKey> keys) {
    Comparator<JsonObject> order = (a, b) -> 0;
    boolean hasId = false;
    for (OrderKey key : keys) {
      Property p = Property.find(key.property());
      if (p == null || p.type == Property.Type.STRING_COLLECTION) {
        throw new IllegalArgumentException("not an orderable property: " + key.property());
      }
      hasId |= p == Property.ID;
      Comparator<JsonObject> one = (a, b) -> compareNullsFirst(p.value(a), p.value(b));
      order = order.thenComparing(key.descending() ? one.reversed() : one);
    }
    if (!hasId) {
      order = order.thenComparing((a, b) -> compareNullsFirst(Property.ID.value(a), Property.ID.value(b)));
    }
    return order;
  }

  /**
   * A copy of the entity with only the selected properties, in the entity's order. {@code id} is always
   * kept; {@code @odata.type} is kept only when {@code select} is empty (all properties).
   */
  public static JsonObject project(JsonObject entity, Set<String> select) {
    JsonObject copy = entity.copy();
    if (!select.isEmpty()) {
      copy.fieldNames().removeIf(name -> !name.equals(Property.ID.json) && !select.contains(name));
    }
    return copy;
  }

  @Override
  public String toString() {
    return "QueryOptions[filter=" + filter + ", orderBy=" + orderBy + ", select=" + select + ", top=" + top
      + ", skip=" + skip + ", count=" + count + ", skipToken=" + skipToken + ", pageSize=" + pageSize + "]";
  }

  private static int compareNullsFirst(Object a, Object b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    return Property.compare(a, b);
  }

  private static int nonNegative(String option, String value) {
    if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new QueryException(option, -1, "must be a non-negative integer, not " + Text.quote(value));
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new QueryException(option, -1, "must be at most " + Integer.MAX_VALUE);
    }
  }

  private static Set<String> select(String value) {
    Set<String> names = new LinkedHashSet<>();
    boolean all = false;
    for (Item item : split(value)) {
      if (item.text.isEmpty()) {
        throw new QueryException("$select", item.position, "expected a property name");
      }
      if (item.text.equals("*")) {
        all = true;
      } else {
        names.add(Property.resolve("$select", item.text, item.position).json);
      }
    }
    return all ? Set.of() : Collections.unmodifiableSet(names);
  }

  private static List<OrderKey> orderBy(String value) {
    List<OrderKey> keys = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (Item item : split(value)) {
      if (item.text.isEmpty()) {
        throw new QueryException("$orderby", item.position, "expected a property name");
      }
      List<Item> words = item.words();
      Item name = words.get(0);
      Property p = Property.resolve("$orderby", name.text, name.position).scalar("$orderby", name.position);
      if (!seen.add(p.json)) {
        throw new QueryException("$orderby", name.position, "property '" + p.json + "' appears more than once");
      }
      boolean descending = false;
      if (words.size() > 1) {
        Item direction = words.get(1);
        if (direction.text.equalsIgnoreCase("asc") || direction.text.equalsIgnoreCase("desc")) {
          if (!direction.text.equals(direction.text.toLowerCase(Locale.ROOT))) {
            throw new QueryException("$orderby", direction.position, Text.quote(direction.text)
              + " must be written in lowercase");
          }
          descending = direction.text.equals("desc");
        } else {
          throw new QueryException("$orderby", direction.position, "expected 'asc' or 'desc' but found "
            + Text.quote(direction.text));
        }
      }
      if (words.size() > 2) {
        throw new QueryException("$orderby", words.get(2).position, "expected ',' but found "
          + Text.quote(words.get(2).text));
      }
      keys.add(new OrderKey(p.json, descending));
    }
    return List.copyOf(keys);
  }

  /** A trimmed piece of an option's value and its offset in that value. */
  private record Item(String text, int position) {
    /** The whitespace-separated words of this item. */
    List<Item> words() {
      List<Item> words = new ArrayList<>();
      int i = 0;
      while (i < text.length()) {
        int start = i;
        while (i < text.length() && !isSpace(text.charAt(i))) {
          i++;
        }
        words.add(new Item(text.substring(start, i), position + start));
        while (i < text.length() && isSpace(text.charAt(i))) {
          i++;
        }
      }
      return words;
    }
  }

  /** The comma-separated items of a value, trimmed; an empty item is kept (at its offset) to report it. */
  private static List<Item> split(String value) {
    List<Item> items = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= value.length(); i++) {
      if (i == value.length() || value.charAt(i) == ',') {
        int a = start;
        int b = i;
        while (a < b && isSpace(value.charAt(a))) {
          a++;
        }
        while (b > a && isSpace(value.charAt(b - 1))) {
          b--;
        }
        items.add(new Item(value.substring(a, b), a));
        start = i + 1;
      }
    }
    return items;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }
}
