package io.mtor.app;

import io.mtor.domain.OperationResults;
import io.mtor.domain.StoredJson;
import io.mtor.query.Filter;
import io.mtor.query.OrderKey;
import io.mtor.query.QueryException;
import io.mtor.query.QueryOptions;
import io.mtor.store.OperationResultStore;
import io.mtor.store.OrderedIndex;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Runs a list request against the store's ordered index (see {@code store/OrderedIndex} and docs/api.md): for an order
 * on {@code createdDateTime} or {@code lastModifiedDateTime}, a walk in that order over the filter's best selector,
 * stopping when the page is full; for any other order, a bounded heap over the selector. Every candidate is checked
 * against its record and the whole filter. The order is {@code $orderby}, else {@code createdDateTime}, always ending
 * with {@code id} ascending; paging is keyset: a page's {@link Cursor} holds the sort key of its last record, so the
 * next page starts after it. Records created while a client pages appear in order and no record is returned
 * twice or skipped. Blocking: run it off the event loop.
 */
public final class ListQuery {

  static final List<OrderKey> DEFAULT_ORDER = List.of(new OrderKey(OperationResults.CREATED, false));

  /** A page: the records (projected, with {@code @odata.etag}), the total count or -1, the next cursor or null. */
  public record Page(List<Object> items, long count, Cursor next) {
  }

  /**
   * Where the next page starts (the sort key of the last record returned) and the page size of the pages so far
   * (1 to the maximum page size), which a follow-up request without {@code $top} keeps. Clients see it only inside a
   * signed {@code $skiptoken}.
   */
  public record Cursor(JsonObject after, int pageSize) {

    public JsonObject toJson() {
      return new JsonObject().put("a", after).put("p", pageSize);
    }

    /**
     * The cursor a token carried, with every bound checked again.
     *
     * @throws QueryException (400) when its bounds are off
     */
    public static Cursor fromJson(JsonObject json, int maxPageSize) {
      try {
        JsonObject after = json.getJsonObject("a");
        Integer pageSize = json.getInteger("p");
        if (after == null || pageSize == null || pageSize < 1 || pageSize > maxPageSize
          || !(after.getValue(OperationResults.ID) instanceof String)) {
          throw new IllegalArgumentException();
        }
        return new Cursor(after, pageSize);
      } catch (IllegalArgumentException | ClassCastException e) {
        throw new QueryException("$skiptoken", -1, "is not a token this service issued; follow @odata.nextLink as given");
      }
    }
  }

  /** A record in the running: its sort key and its stored bytes. */
  private record Candidate(JsonObject entity, byte[] stored) {
  }

  private ListQuery() {
  }

  /**
   * @param tenant when not null, only records whose {@code partnerTenantId} is this (lowercase) tenant
   *               count: they are the only ones the caller may see, in lists and in counts. Records are then
   *               stored under tenant-scoped keys ({@code tenant/id}), which is the index's scope.
   * @param checkpoint called for every record read; it throws to stop the query (its client left, its time is up)
   */
  static Page run(OperationResultStore store, QueryOptions query, Cursor cursor, String tenant,
                  Runnable checkpoint) {
    List<OrderKey> order = query.orderBy().isEmpty() ? DEFAULT_ORDER : query.orderBy();
    Plan plan = Plan.of(store.index(), query.filter(), tenant);
    OrderedIndex.Order indexed = order.size() == 1 ? OrderedIndex.Order.of(order.get(0).property()) : null;
    return indexed != null ? walk(store, query, cursor, tenant, checkpoint, plan, order, indexed)
      : scan(store, query, cursor, tenant, checkpoint, plan, order);
  }

  /**
   * Where the index leads for a filter: a selector (the scope alone, or the scope with one indexed property's
   * values: the property whose values hold the fewest records, from the counters) and nothing else; null values
   * when the filter cannot match anything.
   */
  private record Plan(OrderedIndex index, String scope, String property, Set<String> values, String tenant) {

    static Plan of(OrderedIndex index, Filter filter, String tenant) {
      String scope = tenant == null ? "" : tenant;
      String best = null;
      Set<String> bestValues = null;
      long fewest = index.count(scope, null, null);
      if (filter != null) {
        for (Map.Entry<String, Set<String>> constraint : filter.equalityConstraints().entrySet()) {
          String property = constraint.getKey();
          Set<String> values = constraint.getValue();
          if (tenant != null && property.equals(OperationResults.PARTNER_TENANT)) {
            // The scope is the partner tenant already: another one matches nothing.
            if (!values.contains(tenant)) {
              return new Plan(index, scope, property, Set.of(), tenant);
            }
            continue;
          }
          long records = 0;
          for (String value : values) {
            records += index.count(scope, property, value);
          }
          if (records <= fewest) {
            fewest = records;
            best = property;
            bestValues = values;
          }
        }
      }
      return best == null ? new Plan(index, scope, null, Collections.singleton(null), tenant)
        : new Plan(index, scope, best, bestValues, tenant);
    }

    /** The count of matches from the counters, or -1 when they cannot tell it (the filter has more than a selector). */
    long count(Filter filter) {
      if (filter != null) {
        if (!filter.onlyEqualityConstraints() || filter.equalityConstraints().size() != 1) {
          return -1;
        }
        Map.Entry<String, Set<String>> only = filter.equalityConstraints().entrySet().iterator().next();
        if (tenant != null && only.getKey().equals(OperationResults.PARTNER_TENANT)) {
          return only.getValue().contains(tenant) ? index.count(scope, null, null) : 0;
        }
      }
      long total = 0;
      for (String value : values) {
        total += index.count(scope, property, value);
      }
      return total;
    }

    String key(String id) {
      return scope.isEmpty() ? id : scope + "/" + id;
    }

    /** The selector's records in an index order, merged over its values, from {@code after} on. */
    Walk walk(OrderedIndex.Order order, boolean descending, OrderedIndex.Hit after, long low, long high, int batch) {
      return new Walk(this, order, descending, after, low, high, batch);
    }
  }

  /** The records of a plan's selector in index order: one index walk per value, merged; a batch per read. */
  private static final class Walk {
    private final Comparator<OrderedIndex.Hit> order;
    private final PriorityQueue<Source> heads;

    Walk(Plan plan, OrderedIndex.Order by, boolean descending, OrderedIndex.Hit after, long low, long high,
         int batch) {
      Comparator<OrderedIndex.Hit> sort = Comparator.comparingLong(OrderedIndex.Hit::sort);
      this.order = (descending ? sort.reversed() : sort).thenComparing(OrderedIndex.Hit::key);
      this.heads = new PriorityQueue<>((a, b) -> order.compare(a.head(), b.head()));
      for (String value : plan.values) {
        Source source = new Source(plan, value, by, descending, after, low, high, batch);
        if (source.head() != null) {
          heads.add(source);
        }
      }
    }

    /** The next record's place, or null at the end. */
    OrderedIndex.Hit next() {
      Source source = heads.poll();
      if (source == null) {
        return null;
      }
      OrderedIndex.Hit hit = source.head();
      source.advance();
      if (source.head() != null) {
        heads.add(source);
      }
      return hit;
    }
  }

  /** One index walk, read in batches (each in a short read transaction), growing while the walk goes on. */
  private static final class Source {
    private static final int MAX_BATCH = 1024;
    private final Plan plan;
    private final String value;
    private final OrderedIndex.Order order;
    private final boolean descending;
    private final long low;
    private final long high;
    private int batch;
    private List<OrderedIndex.Hit> buffer;
    private int position;
    private boolean exhausted;

    Source(Plan plan, String value, OrderedIndex.Order order, boolean descending, OrderedIndex.Hit after, long low,
           long high, int batch) {
      this.plan = plan;
      this.value = value;
      this.order = order;
      this.descending = descending;
      this.low = low;
      this.high = high;
      this.batch = batch;
      fill(after);
    }

    private void fill(OrderedIndex.Hit after) {
      buffer = plan.index.walk(order, descending, plan.scope, plan.property, value, after, low, high, batch);
      position = 0;
      exhausted = buffer.size() < batch;
      batch = Math.min(MAX_BATCH, batch * 2);
    }

    OrderedIndex.Hit head() {
      return position < buffer.size() ? buffer.get(position) : null;
    }

    void advance() {
      OrderedIndex.Hit last = buffer.get(position++);
      if (position == buffer.size() && !exhausted) {
        fill(last);
      }
    }
  }

  /**
   * A page read in the requested order from the index: seek to the cursor (or the range's start), walk, check
   * every candidate against its record (it may have changed or gone since the index was read) and the whole filter,
   * stop once {@code $skip + page + 1} matched. O(page) when the filter's other conditions match often; a count that
   * the counters cannot give walks on to the end of the selector (budgeted by the checkpoint).
   */
  private static Page walk(OperationResultStore store, QueryOptions query, Cursor cursor, String tenant,
                           Runnable checkpoint, Plan plan, List<OrderKey> order, OrderedIndex.Order by) {
    int pageSize = pageSize(query, cursor);
    int skip = cursor == null ? query.skip() : 0;
    int keep = skip + pageSize + 1;
    Filter filter = query.filter();
    boolean descending = order.get(0).descending();
    long low = Long.MIN_VALUE;
    long high = Long.MAX_VALUE;
    if (filter != null) {
      Instant[] range = filter.range(by.property);
      low = range[0] == null ? low : OrderedIndex.sortValue(range[0]);
      high = range[1] == null ? high : OrderedIndex.sortValue(range[1]);
    }
    OrderedIndex.Hit after = null;
    if (cursor != null) {
      Object sort = cursor.after().getValue(by.property);
      after = new OrderedIndex.Hit(OrderedIndex.sortValue(sort instanceof String s ? s : null),
        plan.key(cursor.after().getString(OperationResults.ID)));
    }
    long count = query.count() && cursor == null ? plan.count(filter) : -1;
    boolean counting = query.count() && cursor == null && count < 0;
    long matches = 0;
    List<byte[]> found = new ArrayList<>(Math.min(keep, 1024));
    Walk walk = plan.walk(by, descending, after, low, high, Math.max(16, Math.min(keep + 8, 256)));
    for (OrderedIndex.Hit hit = walk.next(); hit != null && (counting || found.size() < keep); hit = walk.next()) {
      checkpoint.run();
      byte[] stored = store.get(hit.key());
      if (stored == null || !matches(stored, hit, by, tenant, filter)) {
        continue;
      }
      matches++;
      if (found.size() < keep) {
        found.add(stored);
      }
    }
    List<byte[]> page = found.subList(Math.min(skip, found.size()), Math.min(skip + pageSize, found.size()));
    List<Object> items = new ArrayList<>(page.size());
    for (byte[] stored : page) {
      items.add(item(query, stored));
    }
    boolean more = found.size() > skip + pageSize && !page.isEmpty();
    Cursor next = more ? new Cursor(sortKey(page.get(page.size() - 1), order), pageSize) : null;
    return new Page(items, counting ? matches : count, next);
  }

  /**
   * Whether a record found through the index is a match: still at the place the index gave (a record updated
   * since is found at its new place instead), the caller's tenant's, and matching the filter.
   */
  private static boolean matches(byte[] stored, OrderedIndex.Hit hit, OrderedIndex.Order by, String tenant,
                                 Filter filter) {
    if (OrderedIndex.sortValue(StoredJson.string(stored, by.property)) != hit.sort()) {
      return false;
    }
    if (tenant != null && !tenant.equals(StoredJson.string(stored, OperationResults.PARTNER_TENANT))) {
      return false;
    }
    return filter == null || filter.test(new JsonObject(Buffer.buffer(stored)));
  }

  private static JsonObject item(QueryOptions query, byte[] stored) {
    JsonObject item = new JsonObject().put("@odata.etag", OperationResults.etag(stored));
    item.mergeIn(query.project(new JsonObject(Buffer.buffer(stored))));
    return item;
  }

  /**
   * $top is the size of every page, as in Microsoft Graph (not a total: nextLinks follow while more remain). A
   * nextLink carries the request's $top; a follow-up without one keeps the page size its token carries.
   */
  private static int pageSize(QueryOptions query, Cursor cursor) {
    return cursor != null && query.top() < 0 ? cursor.pageSize() : query.pageSize();
  }

  /**
   * An order the index does not have ({@code $orderby} on another property, or on several): every record of the
   * plan's selector is read (from the index, in creation order) and the {@code $skip + page + 1} smallest after the
   * cursor are kept in a heap. O(selected records), bounded by the checkpoint's budget; memory O(page).
   */
  private static Page scan(OperationResultStore store, QueryOptions query, Cursor cursor, String tenant,
                           Runnable checkpoint, Plan plan, List<OrderKey> order) {
    Comparator<JsonObject> entities = QueryOptions.comparator(order);
    Comparator<Candidate> candidates = (a, b) -> entities.compare(a.entity, b.entity);
    int pageSize = pageSize(query, cursor);
    int skip = cursor == null ? query.skip() : 0;
    int keep = skip + pageSize + 1;
    Filter filter = query.filter();
    JsonObject after = cursor == null ? null : cursor.after();
    boolean count = query.count() && cursor == null;
    // The `keep` smallest matches after the cursor, in a max-heap: memory stays bounded whatever the scan.
    PriorityQueue<Candidate> smallest = new PriorityQueue<>(candidates.reversed());
    long matches = 0;
    long low = Long.MIN_VALUE;
    long high = Long.MAX_VALUE;
    if (filter != null) {
      Instant[] range = filter.range(OrderedIndex.Order.CREATED.property);
      low = range[0] == null ? low : OrderedIndex.sortValue(range[0]);
      high = range[1] == null ? high : OrderedIndex.sortValue(range[1]);
    }
    Walk walk = plan.walk(OrderedIndex.Order.CREATED, false, null, low, high, 256);
    for (OrderedIndex.Hit hit = walk.next(); hit != null; hit = walk.next()) {
      checkpoint.run();
      byte[] stored = store.get(hit.key());
      if (stored == null || !matches(stored, hit, OrderedIndex.Order.CREATED, tenant, filter)) {
        continue;
      }
      // Without a filter only the sort key matters until a record makes the page: read just that from the bytes.
      JsonObject key = sortKey(stored, order);
      matches++;
      if (after != null && entities.compare(key, after) <= 0) {
        continue;
      }
      if (smallest.size() < keep) {
        smallest.add(new Candidate(key, stored));
      } else if (entities.compare(key, smallest.peek().entity) < 0) {
        smallest.poll();
        smallest.add(new Candidate(key, stored));
      }
    }
    List<Candidate> sorted = new ArrayList<>(smallest);
    sorted.sort(candidates);
    List<Candidate> page = sorted.subList(Math.min(skip, sorted.size()), Math.min(skip + pageSize, sorted.size()));
    List<Object> items = new ArrayList<>(page.size());
    for (Candidate candidate : page) {
      items.add(item(query, candidate.stored));
    }
    // $top=0 asks for an empty page (with $count, only the count): no nextLink then.
    boolean more = sorted.size() > skip + pageSize && !page.isEmpty();
    Cursor next = more ? new Cursor(page.get(page.size() - 1).entity, pageSize) : null;
    return new Page(items, count ? matches : -1, next);
  }

  /**
   * The sort key read straight from a stored entity's bytes. The service writes that JSON itself: every
   * sort property is a top-level scalar, and {@code "name":} cannot occur inside a string value (its quotes
   * would be escaped there).
   */
  static JsonObject sortKey(byte[] stored, List<OrderKey> order) {
    JsonObject key = new JsonObject();
    order.forEach(k -> key.put(k.property(), StoredJson.scalar(stored, k.property())));
    return key.put(OperationResults.ID, StoredJson.scalar(stored, OperationResults.ID));
  }
}
