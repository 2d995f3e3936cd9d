package io.mtor.app;

import io.mtor.domain.OperationResults;
import io.mtor.domain.StoredJson;
import io.mtor.query.Filter;
import io.mtor.query.OrderKey;
import io.mtor.query.QueryException;
import io.mtor.query.QueryOptions;
import io.mtor.store.OperationResultStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Runs a list request against the store: candidates from the secondary indexes when the filter allows it
 * (otherwise a scan), the filter, the order ({@code $orderby}, else {@code createdDateTime}, always ending
 * with {@code id}), and keyset paging: a page's {@link Cursor} holds the sort key of its last record, so the
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
   *               count: they are the only ones the caller may see, in lists and in counts
   * @param checkpoint called for every record read; it throws to stop the query (its client left, its time is up)
   */
  static Page run(OperationResultStore store, QueryOptions query, Cursor cursor, String tenant,
                  Runnable checkpoint) {
    List<OrderKey> order = query.orderBy().isEmpty() ? DEFAULT_ORDER : query.orderBy();
    Comparator<JsonObject> entities = QueryOptions.comparator(order);
    Comparator<Candidate> candidates = (a, b) -> entities.compare(a.entity, b.entity);
    // $top is the size of every page, as in Microsoft Graph (not a total: nextLinks follow while more remain).
    // A nextLink carries the request's $top; a follow-up without one keeps the page size its token carries.
    int pageSize = cursor != null && query.top() < 0 ? cursor.pageSize() : query.pageSize();
    int skip = cursor == null ? query.skip() : 0;
    int keep = skip + pageSize + 1;
    Filter filter = query.filter();
    JsonObject after = cursor == null ? null : cursor.after();
    boolean count = query.count() && cursor == null;
    // The `keep` smallest matches after the cursor, in a max-heap: memory stays bounded whatever the scan.
    PriorityQueue<Candidate> smallest = new PriorityQueue<>(candidates.reversed());
    long[] matches = {0};
    // Without a filter only the sort key matters until a record makes the page: read just that from the
    // bytes instead of decoding every record a scan passes.
    java.util.function.BiConsumer<String, byte[]> offer = (id, stored) -> {
      checkpoint.run();
      if (tenant != null && !tenant.equals(StoredJson.string(stored, OperationResults.PARTNER_TENANT))) {
        return;
      }
      JsonObject key;
      if (filter == null) {
        key = sortKey(stored, order);
      } else {
        JsonObject entity = new JsonObject(Buffer.buffer(stored));
        if (!filter.test(entity)) {
          return;
        }
        key = sortKey(entity, order);
      }
      matches[0]++;
      if (after != null && entities.compare(key, after) <= 0) {
        return;
      }
      // Only the sort key and the bytes are kept (the store may hand out one buffer for the whole scan: a copy);
      // at most $skip + page + 1 of them, which the contract bounds.
      if (smallest.size() < keep) {
        smallest.add(new Candidate(key, stored.clone()));
      } else if (entities.compare(key, smallest.peek().entity) < 0) {
        smallest.poll();
        smallest.add(new Candidate(key, stored.clone()));
      }
    };
    Set<String> ids = indexedCandidates(store, filter, checkpoint);
    if (tenant != null && store.indexed(OperationResults.PARTNER_TENANT)) {
      Set<String> own = new LinkedHashSet<>(store.idsWhere(OperationResults.PARTNER_TENANT, tenant));
      if (ids != null) {
        own.retainAll(ids);
      }
      ids = own;
    }
    if (ids == null) {
      store.forEach(offer);
    } else {
      for (String id : ids) {
        byte[] stored = store.get(id);
        if (stored != null) {
          offer.accept(id, stored);
        }
      }
    }
    List<Candidate> sorted = new ArrayList<>(smallest);
    sorted.sort(candidates);
    List<Candidate> page = sorted.subList(Math.min(skip, sorted.size()), Math.min(skip + pageSize, sorted.size()));
    List<Object> items = new ArrayList<>(page.size());
    for (Candidate candidate : page) {
      JsonObject item = new JsonObject().put("@odata.etag", OperationResults.etag(candidate.stored));
      item.mergeIn(query.project(new JsonObject(Buffer.buffer(candidate.stored))));
      items.add(item);
    }
    // $top=0 asks for an empty page (with $count, only the count): no nextLink then.
    boolean more = sorted.size() > skip + pageSize && !page.isEmpty();
    Cursor next = more ? new Cursor(page.get(page.size() - 1).entity, pageSize) : null;
    return new Page(items, count ? matches[0] : -1, next);
  }

  /** The ids the indexes allow for the filter's equality constraints, or null if it has none on indexed properties. */
  private static Set<String> indexedCandidates(OperationResultStore store, Filter filter, Runnable checkpoint) {
    if (filter == null) {
      return null;
    }
    Set<String> ids = null;
    for (Map.Entry<String, Set<String>> constraint : filter.equalityConstraints().entrySet()) {
      if (!store.indexed(constraint.getKey())) {
        continue;
      }
      Set<String> allowed = new LinkedHashSet<>();
      for (String value : constraint.getValue()) {
        checkpoint.run();
        allowed.addAll(store.idsWhere(constraint.getKey(), value));
      }
      if (ids == null) {
        ids = allowed;
      } else {
        ids.retainAll(new HashSet<>(allowed));
      }
    }
    return ids;
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

  private static JsonObject sortKey(JsonObject entity, List<OrderKey> order) {
    JsonObject key = new JsonObject();
    order.forEach(k -> key.put(k.property(), entity.getValue(k.property())));
    return key.put(OperationResults.ID, entity.getString(OperationResults.ID));
  }
}
