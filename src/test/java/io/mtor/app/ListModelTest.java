package io.mtor.app;

import io.mtor.auth.Caller;
import io.mtor.domain.OperationResults;
import io.mtor.query.QueryOptions;
import io.mtor.store.OperationResultStore;
import io.mtor.store.StoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The list model test of {@code http/ListResultsTest}, carried to every path of the ordered index (and the scan it
 * falls back to), with writes between pages: for each query shape, with and without tenant isolation, every page is
 * compared with what an independent plain-Java model of the records says it must be at that moment: the matches
 * after the previous page's last record (keyset), in the requested order, {@code $top} of them; counts likewise.
 * Creates, updates (which move records in {@code lastModifiedDateTime} and between indexed values) and deletes run
 * between the pages. Timestamps come from a clock that gives two writes the same instant, so that ties are ordered
 * by id.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ListModelTest {

  static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");
  static final int RECORDS = 240;
  static final int PAGE = 5;
  static final List<String> PARTNERS = guids("partner", 3);
  static final List<String> TARGETS = guids("target", 6);
  static final List<String> REQUESTS = guids("request", 6);
  static final List<String> OPERATIONS = List.of("op-0", "op-1", "op-2", "op-3");
  /** An instant about a third into the initial records, and one about two thirds. */
  static final String LOW = OperationResults.timestamp(T0.plusMillis(RECORDS / 3 / 2));
  static final String HIGH = OperationResults.timestamp(T0.plusMillis(2 * RECORDS / 3 / 2));

  @TempDir
  Path dir;

  static List<String> guids(String seed, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(UUID.nameUUIDFromBytes((seed + i).getBytes(StandardCharsets.UTF_8)).toString());
    }
    return out;
  }

  /** A query shape: its options, what it matches in the model, and the order it lists in. */
  record Shape(String name, Map<String, String> options, Predicate<JsonObject> filter, Comparator<JsonObject> order) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Instant instant(JsonObject e, String property) {
    return Instant.parse(e.getString(property));
  }

  static final Comparator<JsonObject> BY_ID = Comparator.comparing(e -> e.getString("id"));

  static Comparator<JsonObject> byTime(String property, boolean descending) {
    Comparator<JsonObject> time = Comparator.comparing(e -> instant(e, property));
    return (descending ? time.reversed() : time).thenComparing(BY_ID);
  }

  static Shape shape(String name, Predicate<JsonObject> filter, Comparator<JsonObject> order, String... options) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < options.length; i += 2) {
      map.put(options[i], options[i + 1]);
    }
    return new Shape(name, map, filter, order);
  }

  static Stream<Shape> shapes() {
    List<Shape> shapes = new ArrayList<>();
    Comparator<JsonObject> createdAsc = byTime("createdDateTime", false);
    Comparator<JsonObject> createdDesc = byTime("createdDateTime", true);
    Predicate<JsonObject> all = e -> true;
    shapes.add(shape("default order", all, createdAsc));
    for (String property : List.of("createdDateTime", "lastModifiedDateTime")) {
      for (boolean desc : List.of(false, true)) {
        String orderBy = property + (desc ? " desc" : "");
        shapes.add(shape(orderBy, all, byTime(property, desc), "$orderby", orderBy));
      }
    }
    Map<String, String> eq = Map.of("targetTenantId", TARGETS.get(1), "managedTenantOperationId", "op-2",
      "requestId", REQUESTS.get(3), "partnerTenantId", PARTNERS.get(0));
    for (Map.Entry<String, String> e : eq.entrySet()) {
      String literal = e.getKey().equals("managedTenantOperationId") ? "'" + e.getValue() + "'" : e.getValue();
      Predicate<JsonObject> match = r -> e.getValue().equals(r.getString(e.getKey()));
      shapes.add(shape(e.getKey() + " eq", match, createdAsc, "$filter", e.getKey() + " eq " + literal));
      shapes.add(shape(e.getKey() + " eq, createdDateTime desc", match, createdDesc, "$filter",
        e.getKey() + " eq " + literal, "$orderby", "createdDateTime desc"));
      shapes.add(shape(e.getKey() + " eq, lastModifiedDateTime desc", match, byTime("lastModifiedDateTime", true),
        "$filter", e.getKey() + " eq " + literal, "$orderby", "lastModifiedDateTime desc"));
    }
    Set<String> targets = Set.of(TARGETS.get(0), TARGETS.get(2), TARGETS.get(5));
    Predicate<JsonObject> inTargets = r -> targets.contains(r.getString("targetTenantId"));
    String inFilter = "targetTenantId in (" + TARGETS.get(0) + ", " + TARGETS.get(2) + ", " + TARGETS.get(5) + ")";
    shapes.add(shape("targetTenantId in", inTargets, createdAsc, "$filter", inFilter));
    shapes.add(shape("targetTenantId in, desc", inTargets, createdDesc, "$filter", inFilter, "$orderby",
      "createdDateTime desc"));
    shapes.add(shape("targetTenantId in, lastModifiedDateTime", inTargets, byTime("lastModifiedDateTime", false),
      "$filter", inFilter, "$orderby", "lastModifiedDateTime"));
    Predicate<JsonObject> inOps = r -> Set.of("op-1", "op-3").contains(r.getString("managedTenantOperationId"));
    shapes.add(shape("managedTenantOperationId in, desc", inOps, createdDesc, "$filter",
      "managedTenantOperationId in ('op-1', 'op-3')", "$orderby", "createdDateTime desc"));
    shapes.add(shape("partnerTenantId in", r -> Set.of(PARTNERS.get(0), PARTNERS.get(1))
      .contains(r.getString("partnerTenantId")), createdAsc, "$filter", "partnerTenantId in (" + PARTNERS.get(0)
      + ", " + PARTNERS.get(1) + ")"));
    Predicate<JsonObject> range = r -> !instant(r, "createdDateTime").isBefore(Instant.parse(LOW))
      && instant(r, "createdDateTime").isBefore(Instant.parse(HIGH));
    String rangeFilter = "createdDateTime ge " + LOW + " and createdDateTime lt " + HIGH;
    shapes.add(shape("created range", range, createdAsc, "$filter", rangeFilter));
    shapes.add(shape("created range, desc", range, createdDesc, "$filter", rangeFilter, "$orderby",
      "createdDateTime desc"));
    shapes.add(shape("created range, lastModifiedDateTime desc", range, byTime("lastModifiedDateTime", true),
      "$filter", rangeFilter, "$orderby", "lastModifiedDateTime desc"));
    shapes.add(shape("created range and targetTenantId eq, desc", range.and(r -> TARGETS.get(1)
      .equals(r.getString("targetTenantId"))), createdDesc, "$filter", rangeFilter + " and targetTenantId eq "
      + TARGETS.get(1), "$orderby", "createdDateTime desc"));
    shapes.add(shape("created gt, and in", r -> instant(r, "createdDateTime").isAfter(Instant.parse(LOW))
      && inTargets.test(r), createdAsc, "$filter", "createdDateTime gt " + LOW + " and " + inFilter));
    shapes.add(shape("created le (literal first), desc", r -> !instant(r, "createdDateTime").isAfter(Instant.parse(HIGH)),
      createdDesc, "$filter", HIGH + " ge createdDateTime", "$orderby", "createdDateTime desc"));
    Predicate<JsonObject> failed = r -> Boolean.FALSE.equals(r.getBoolean("isSuccess"));
    shapes.add(shape("residual isSuccess eq false", failed, createdAsc, "$filter", "isSuccess eq false"));
    shapes.add(shape("residual isSuccess eq false, lastModifiedDateTime desc", failed,
      byTime("lastModifiedDateTime", true), "$filter", "isSuccess eq false", "$orderby", "lastModifiedDateTime desc"));
    shapes.add(shape("residual contains, with eq, desc", r -> r.getString("executionInfo") != null
        && r.getString("executionInfo").contains("1") && "op-1".equals(r.getString("managedTenantOperationId")),
      createdDesc, "$filter", "contains(executionInfo,'1') and managedTenantOperationId eq 'op-1'", "$orderby",
      "createdDateTime desc"));
    shapes.add(shape("or (no usable selector)", r -> failed.test(r) || TARGETS.get(3).equals(r.getString("targetTenantId")),
      createdAsc, "$filter", "isSuccess eq false or targetTenantId eq " + TARGETS.get(3)));
    shapes.add(shape("$count, all", all, createdAsc, "$count", "true"));
    shapes.add(shape("$count, indexed eq", r -> "op-2".equals(r.getString("managedTenantOperationId")), createdDesc,
      "$count", "true", "$filter", "managedTenantOperationId eq 'op-2'", "$orderby", "createdDateTime desc"));
    shapes.add(shape("$count, indexed in", inTargets, createdAsc, "$count", "true", "$filter", inFilter));
    shapes.add(shape("$count, residual", failed, createdAsc, "$count", "true", "$filter", "isSuccess eq false"));
    shapes.add(shape("$skip", all, createdDesc, "$skip", "5", "$orderby", "createdDateTime desc"));
    Comparator<JsonObject> byTarget = Comparator.<JsonObject, String>comparing(r -> r.getString("targetTenantId"))
      .reversed().thenComparing(BY_ID);
    shapes.add(shape("non-indexed orderby targetTenantId desc", all, byTarget, "$orderby", "targetTenantId desc"));
    Comparator<JsonObject> bySuccessThenCreated = Comparator.<JsonObject, Boolean>comparing(r -> r.getBoolean("isSuccess"))
      .thenComparing(byTime("createdDateTime", false));
    shapes.add(shape("non-indexed orderby, two keys, with eq and $count", r -> "op-1".equals(
        r.getString("managedTenantOperationId")), bySuccessThenCreated, "$orderby", "isSuccess,createdDateTime",
      "$filter", "managedTenantOperationId eq 'op-1'", "$count", "true"));
    return shapes.stream();
  }

  static Stream<Arguments> cases() {
    return shapes().flatMap(shape -> Stream.of(arguments(false, shape), arguments(true, shape)));
  }

  /** A clock that gives every two readings the same instant, one millisecond apart. */
  static final class PairClock extends Clock {
    final AtomicLong readings = new AtomicLong();

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return T0.plusMillis(readings.getAndIncrement() / 2);
    }
  }

  /** The service side and the model side of one run. */
  final class Run {
    final ResultsApplication app;
    final Caller caller;
    /** By store key: every record the model says exists. */
    final Map<String, JsonObject> model = new LinkedHashMap<>();
    final Random random = new Random(7);
    final boolean isolation;
    int next;

    Run(Vertx vertx, OperationResultStore store, boolean isolation) {
      this.isolation = isolation;
      this.app = new ResultsApplication(store, vertx.eventBus(), new PairClock(), isolation, Duration.ofHours(1));
      this.caller = new Caller(PARTNERS.get(0), UUID.randomUUID().toString(), null, Set.of());
    }

    /** A caller of the record's partner (with isolation, only it may write the record). */
    Caller callerOf(String partner) {
      return new Caller(partner, "user", null, Set.of());
    }

    ResultsApplication.Request request(String partner) {
      return new ResultsApplication.Request(isolation ? callerOf(partner) : null, UUID.randomUUID().toString(), null);
    }

    String key(String partner, String id) {
      return isolation ? partner + "/" + id : id;
    }

    void create() {
      String partner = PARTNERS.get(random.nextInt(PARTNERS.size()));
      // Ids in no particular order, so that ties on time are broken by id, not by creation.
      String id = String.format("%08x-%d", random.nextInt(), next++);
      JsonObject body = new JsonObject().put("id", id).put("partnerTenantId", partner)
        .put("partnerUserId", UUID.randomUUID().toString())
        .put("targetTenantId", TARGETS.get(random.nextInt(TARGETS.size())))
        .put("managedTenantOperationId", OPERATIONS.get(random.nextInt(OPERATIONS.size())))
        .put("requestId", REQUESTS.get(random.nextInt(REQUESTS.size())))
        .put("isSuccess", random.nextInt(3) > 0)
        .put("exception", null)
        .put("executionInfo", random.nextInt(4) == 0 ? null : "info " + random.nextInt(30))
        .put("result", new JsonArray());
      Stored stored = app.create(request(partner), body, null).await();
      model.put(key(partner, id), new JsonObject(Buffer.buffer(stored.json())));
    }

    void update() {
      JsonObject record = pick();
      String partner = record.getString("partnerTenantId");
      JsonObject patch = new JsonObject().put("isSuccess", random.nextBoolean());
      if (random.nextBoolean()) {
        patch.put("targetTenantId", TARGETS.get(random.nextInt(TARGETS.size())));
      }
      if (random.nextBoolean()) {
        patch.put("managedTenantOperationId", OPERATIONS.get(random.nextInt(OPERATIONS.size())));
      }
      Stored stored = app.update(request(partner), record.getString("id"), null, patch).await();
      model.put(key(partner, record.getString("id")), new JsonObject(Buffer.buffer(stored.json())));
    }

    void delete() {
      JsonObject record = pick();
      String partner = record.getString("partnerTenantId");
      app.delete(request(partner), record.getString("id"), null).await();
      model.remove(key(partner, record.getString("id")));
    }

    JsonObject pick() {
      List<JsonObject> records = new ArrayList<>(model.values());
      return records.get(random.nextInt(records.size()));
    }

    /** What the caller may see, matching the shape, in its order. */
    List<JsonObject> expected(Shape shape) {
      return model.values().stream()
        .filter(r -> !isolation || PARTNERS.get(0).equals(r.getString("partnerTenantId")))
        .filter(shape.filter).sorted(shape.order).toList();
    }
  }

  @ParameterizedTest(name = "{index} isolation {0}: {1}")
  @MethodSource("cases")
  void everyPageIsWhatTheModelSaysWhileWritesGoOn(boolean isolation, Shape shape, Vertx vertx) {
    try (OperationResultStore store = OperationResultStore.open(new StoreOptions(dir, 2_000, 36, 512, 0,
      OperationResults.INDEXED))) {
      Run run = new Run(vertx, store, isolation);
      for (int i = 0; i < RECORDS; i++) {
        run.create();
      }
      Map<String, List<String>> params = new LinkedHashMap<>();
      shape.options().forEach((name, value) -> params.put(name, List.of(value)));
      params.put("$top", List.of(String.valueOf(PAGE)));
      QueryOptions query = QueryOptions.parse(params, 100, 1_000);
      int skip = query.skip();
      ListQuery.Cursor cursor = null;
      JsonObject last = null;
      Set<String> seen = new HashSet<>();
      int pages = 0;
      do {
        List<JsonObject> matching = run.expected(shape);
        List<JsonObject> after = new ArrayList<>();
        for (JsonObject record : matching) {
          if (last == null || shape.order.compare(record, last) > 0) {
            after.add(record);
          }
        }
        int from = cursor == null ? Math.min(skip, after.size()) : 0;
        List<JsonObject> expected = after.subList(from, Math.min(from + PAGE, after.size()));
        ListQuery.Page page = run.app.list(isolation ? run.caller : null, query, cursor, () -> { });
        List<JsonObject> items = page.items().stream().map(item -> {
          JsonObject copy = ((JsonObject) item).copy();
          copy.remove("@odata.etag");
          return copy;
        }).toList();
        assertThat(items).as("page %d of %s", pages, shape).containsExactlyElementsOf(expected);
        if (cursor == null && shape.options().containsKey("$count")) {
          assertThat(page.count()).as("count of %s", shape).isEqualTo(matching.size());
        }
        assertThat(page.next() == null).as("last page of %s", shape).isEqualTo(from + PAGE >= after.size());
        items.forEach(item -> seen.add(item.getString("id")));
        if (!items.isEmpty()) {
          last = items.get(items.size() - 1);
        }
        // A token, as the client gets it.
        cursor = page.next() == null ? null : ListQuery.Cursor.fromJson(new JsonObject(page.next().toJson().encode()),
          1_000);
        pages++;
        // Writes between pages: creates (later in time, some tied with the previous write and ordered by id), updates (moving records in lastModifiedDateTime and between indexed values) and deletes.
        run.create();
        run.update();
        run.delete();
      } while (cursor != null);
      assertThat(seen).as(shape.name()).isNotEmpty();
    }
  }
}
