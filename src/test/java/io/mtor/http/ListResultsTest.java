package io.mtor.http;

import io.mtor.TestService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * List with OData query options over a few thousand generated records, each answer checked against an
 * independent computation in plain Java over the records the test created. {@code app/ListModelTest} carries this
 * model to every path of the ordered index, page by page with writes between pages, with and without isolation.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ListResultsTest {

  static final int RECORDS = 3000;
  static final List<String> TENANTS = new ArrayList<>();
  static final List<String> PARTNERS = new ArrayList<>();
  /** The test's own model of the store: every record it created, as the service answered. */
  static final List<JsonObject> CREATED = java.util.Collections.synchronizedList(new ArrayList<>());
  static String median;

  @TempDir
  static Path dataDir;
  static TestService service;

  @BeforeAll
  static void load(Vertx vertx) {
    Random random = new Random(42);
    for (int i = 0; i < 20; i++) {
      TENANTS.add(UUID.nameUUIDFromBytes(("tenant-" + i).getBytes(StandardCharsets.UTF_8)).toString());
    }
    for (int i = 0; i < 5; i++) {
      PARTNERS.add(UUID.nameUUIDFromBytes(("partner-" + i).getBytes(StandardCharsets.UTF_8)).toString());
    }
    service = TestService.start(vertx, TestService.config(dataDir)).await();
    for (int batch = 0; batch < RECORDS / 500; batch++) {
      List<Future<HttpResponse<Buffer>>> creates = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        JsonObject body = TestService.body()
          .put("targetTenantId", TENANTS.get(random.nextInt(TENANTS.size())))
          .put("partnerTenantId", PARTNERS.get(random.nextInt(PARTNERS.size())))
          .put("managedTenantOperationId", "op-" + random.nextInt(12))
          .put("isSuccess", random.nextBoolean())
          .put("exception", random.nextInt(3) == 0 ? "failure " + random.nextInt(5) : null)
          .put("executionInfo", random.nextInt(4) == 0 ? null : "info " + random.nextInt(100));
        creates.add(service.client.post("/managedTenantOperationResults").putHeader("content-type", "application/json")
          .sendJsonObject(body));
      }
      Future.all(creates).await();
      for (Future<HttpResponse<Buffer>> created : creates) {
        assertThat(created.result().statusCode()).isEqualTo(201);
        JsonObject entity = created.result().bodyAsJsonObject();
        entity.remove("@odata.context");
        CREATED.add(entity);
      }
    }
  }

  @AfterAll
  static void stop() {
    service.stop().await();
  }

  /** Every page of a list, following nextLink; checks each page's shape on the way. */
  static List<JsonObject> pages(String query) {
    List<JsonObject> pages = new ArrayList<>();
    String url = "http://localhost:" + service.port() + "/beta/managedTenantOperationResults" + query;
    while (url != null) {
      HttpResponse<Buffer> response = service.client.getAbs(url).send().await();
      assertThat(response.statusCode()).as(url + " " + response.bodyAsString()).isEqualTo(200);
      JsonObject page = response.bodyAsJsonObject();
      assertThat(page.getString("@odata.context")).startsWith("http://localhost:" + service.port()
        + "/beta/$metadata#managedTenantOperationResults");
      assertThat(page.getJsonArray("value").size()).isLessThanOrEqualTo(1000);
      pages.add(page);
      url = page.getString("@odata.nextLink");
      assertThat(pages).hasSizeLessThan(500);
    }
    return pages;
  }

  /** One page, answered 200. */
  static JsonObject page(String url) {
    HttpResponse<Buffer> response = service.client.getAbs(url).send().await();
    assertThat(response.statusCode()).as(url + " " + response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  static List<JsonObject> all(String query) {
    List<JsonObject> items = new ArrayList<>();
    pages(query).forEach(page -> page.getJsonArray("value").forEach(item -> items.add((JsonObject) item)));
    return items;
  }

  static String q(String... pairs) {
    StringBuilder query = new StringBuilder();
    for (int i = 0; i < pairs.length; i += 2) {
      query.append(query.length() == 0 ? '?' : '&').append(pairs[i]).append('=')
        .append(URLEncoder.encode(pairs[i + 1], StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return query.toString();
  }

  static final Comparator<JsonObject> BY_ID = Comparator.comparing(e -> e.getString("id"));
  static final Comparator<JsonObject> DEFAULT_ORDER =
    Comparator.<JsonObject, Instant>comparing(e -> Instant.parse(e.getString("createdDateTime"))).thenComparing(BY_ID);

  static String tenant(int i) {
    return TENANTS.get(i);
  }

  static synchronized String median() {
    if (median == null) {
      List<JsonObject> sorted = new ArrayList<>(CREATED);
      sorted.sort(DEFAULT_ORDER);
      median = sorted.get(sorted.size() / 2).getString("createdDateTime");
    }
    return median;
  }

  static Stream<Arguments> queries() {
    Comparator<JsonObject> byOperationDescThenCreated = Comparator.<JsonObject, String>comparing(
      e -> e.getString("managedTenantOperationId")).reversed()
      .thenComparing(e -> Instant.parse(e.getString("createdDateTime"))).thenComparing(BY_ID);
    Comparator<JsonObject> bySuccessThenTenantDesc = Comparator.<JsonObject, Boolean>comparing(e -> e.getBoolean("isSuccess"))
      .thenComparing(Comparator.<JsonObject, String>comparing(e -> e.getString("targetTenantId")).reversed()).thenComparing(BY_ID);
    return Stream.of(
      arguments("no options", q(), (Predicate<JsonObject>) e -> true, DEFAULT_ORDER),
      arguments("indexed eq", q("$filter", "targetTenantId eq " + tenant(3)),
        (Predicate<JsonObject>) e -> e.getString("targetTenantId").equals(tenant(3)), DEFAULT_ORDER),
      arguments("indexed eq, uppercase GUID, and a scan condition", q("$filter", "targetTenantId eq "
          + tenant(4).toUpperCase() + " and isSuccess eq true"),
        (Predicate<JsonObject>) e -> e.getString("targetTenantId").equals(tenant(4)) && e.getBoolean("isSuccess"), DEFAULT_ORDER),
      arguments("indexed in", q("$filter", "partnerTenantId in ('" + PARTNERS.get(0) + "', '" + PARTNERS.get(2) + "')"),
        (Predicate<JsonObject>) e -> Set.of(PARTNERS.get(0), PARTNERS.get(2)).contains(e.getString("partnerTenantId")), DEFAULT_ORDER),
      arguments("two indexes", q("$filter", "managedTenantOperationId eq 'op-3' and targetTenantId eq " + tenant(1)),
        (Predicate<JsonObject>) e -> e.getString("managedTenantOperationId").equals("op-3")
          && e.getString("targetTenantId").equals(tenant(1)), DEFAULT_ORDER),
      arguments("startswith", q("$filter", "startswith(managedTenantOperationId,'op-1')"),
        (Predicate<JsonObject>) e -> e.getString("managedTenantOperationId").startsWith("op-1"), DEFAULT_ORDER),
      arguments("not, or, null", q("$filter", "not (isSuccess eq true) or exception eq null"),
        (Predicate<JsonObject>) e -> !e.getBoolean("isSuccess") || e.getValue("exception") == null, DEFAULT_ORDER),
      arguments("ne null and parentheses", q("$filter", "(exception ne null and executionInfo eq null) or targetTenantId eq " + tenant(0)),
        (Predicate<JsonObject>) e -> (e.getValue("exception") != null && e.getValue("executionInfo") == null)
          || e.getString("targetTenantId").equals(tenant(0)), DEFAULT_ORDER),
      arguments("DateTimeOffset gt", q("$filter", "createdDateTime gt " + median()),
        (Predicate<JsonObject>) e -> Instant.parse(e.getString("createdDateTime")).isAfter(Instant.parse(median())), DEFAULT_ORDER),
      arguments("DateTimeOffset le with an offset", q("$filter", "createdDateTime le "
          + Instant.parse(median()).atOffset(java.time.ZoneOffset.ofHours(2))),
        (Predicate<JsonObject>) e -> !Instant.parse(e.getString("createdDateTime")).isAfter(Instant.parse(median())), DEFAULT_ORDER),
      arguments("string lt", q("$filter", "managedTenantOperationId lt 'op-3'"),
        (Predicate<JsonObject>) e -> e.getString("managedTenantOperationId").compareTo("op-3") < 0, DEFAULT_ORDER),
      arguments("orderby two keys", q("$orderby", "managedTenantOperationId desc,createdDateTime"),
        (Predicate<JsonObject>) e -> true, byOperationDescThenCreated),
      arguments("orderby with filter", q("$orderby", "isSuccess asc, targetTenantId desc", "$filter", "exception eq null"),
        (Predicate<JsonObject>) e -> e.getValue("exception") == null, bySuccessThenTenantDesc));
  }

  @ParameterizedTest(name = "{index} {0}")
  @MethodSource("queries")
  void filterAndOrderMatchAnIndependentComputation(String name, String query, Predicate<JsonObject> filter,
                                                   Comparator<JsonObject> order) {
    List<JsonObject> expected = new ArrayList<>(CREATED).stream().filter(filter).sorted(order).toList();
    List<JsonObject> actual = all(query);
    assertThat(actual).extracting(e -> e.getString("id")).containsExactlyElementsOf(expected.stream().map(e -> e.getString("id")).toList());
    for (int i = 0; i < actual.size(); i++) {
      JsonObject item = actual.get(i).copy();
      assertThat(item.remove("@odata.etag")).asString().startsWith("W/\"");
      JsonObject created = expected.get(i).copy();
      created.remove("@odata.etag");
      assertThat(item).isEqualTo(created);
    }
  }

  @Test
  void topIsThePageSizeAndSkipAppliesFirst() {
    List<JsonObject> expected = new ArrayList<>(CREATED).stream().sorted(DEFAULT_ORDER).toList();
    List<String> ids = expected.stream().map(e -> e.getString("id")).toList();
    // As in Graph, $top is the page size: nextLinks follow until every record is returned, each page holding $top.
    List<JsonObject> pages = pages(q("$top", "250"));
    assertThat(pages).hasSize((ids.size() + 249) / 250);
    assertThat(pages.subList(0, pages.size() - 1)).allSatisfy(page -> {
      assertThat(page.getJsonArray("value").size()).isEqualTo(250);
      assertThat(page.getString("@odata.nextLink")).contains("$top=250");
    });
    assertThat(all(q("$top", "250"))).extracting(e -> e.getString("id")).containsExactlyElementsOf(ids);
    // $skip applies first, on the first page only; the pages after it go on from there.
    JsonObject skipped = page("http://localhost:" + service.port() + "/beta/managedTenantOperationResults"
      + q("$skip", "10", "$top", "5"));
    assertThat(skipped.getJsonArray("value")).extracting(e -> ((JsonObject) e).getString("id"))
      .containsExactlyElementsOf(ids.subList(10, 15));
    assertThat(page(skipped.getString("@odata.nextLink")).getJsonArray("value")).extracting(e -> ((JsonObject) e).getString("id"))
      .containsExactlyElementsOf(ids.subList(15, 20));
    List<JsonObject> inTenant = expected.stream().filter(e -> e.getString("targetTenantId").equals(tenant(3))).toList();
    assertThat(all(q("$filter", "targetTenantId eq " + tenant(3), "$skip", "10", "$top", "7")))
      .extracting(e -> e.getString("id"))
      .containsExactlyElementsOf(inTenant.subList(10, inTenant.size()).stream().map(e -> e.getString("id")).toList());
    // $top=0 is an empty page and no nextLink.
    List<JsonObject> none = pages(q("$top", "0"));
    assertThat(none).hasSize(1);
    assertThat(none.get(0).getJsonArray("value")).isEmpty();
    assertThat(none.get(0).containsKey("@odata.nextLink")).isFalse();
    assertThat(all(q("$skip", String.valueOf(expected.size() - 10)))).hasSize(10);
    // Pages hold at most list.maxPageSize (1000) records: a larger $top is capped to it, and paging goes on.
    List<JsonObject> capped = pages(q("$top", "1500"));
    assertThat(capped).hasSize((ids.size() + 999) / 1000);
    assertThat(capped.subList(0, capped.size() - 1))
      .allSatisfy(page -> assertThat(page.getJsonArray("value").size()).isEqualTo(1000));
    assertThat(capped.get(capped.size() - 1).containsKey("@odata.nextLink")).isFalse();
    assertThat(capped).flatMap(page -> page.getJsonArray("value").stream().map(e -> ((JsonObject) e).getString("id")).toList())
      .containsExactlyElementsOf(ids);
    assertThat(pages(q()).get(0).getJsonArray("value").size()).isEqualTo(100);
  }

  @Test
  void aFollowUpKeepsItsPageSizeWithOrWithoutTop() {
    String filter = "targetTenantId eq " + tenant(5);
    List<String> ids = new ArrayList<>(CREATED).stream().filter(e -> e.getString("targetTenantId").equals(tenant(5)))
      .sorted(DEFAULT_ORDER).map(e -> e.getString("id")).toList();
    assertThat(ids).hasSizeGreaterThan(30);
    JsonObject first = pages(q("$filter", filter, "$top", "7")).get(0);
    String next = first.getString("@odata.nextLink");
    String token = next.substring(next.indexOf("$skiptoken=") + "$skiptoken=".length());
    String base = "http://localhost:" + service.port() + "/beta/managedTenantOperationResults";
    // As given (it carries $top=7), with $top kept as the client first sent it, and without $top (the token keeps it).
    for (String url : List.of(next, base + q("$filter", filter, "$top", "7") + "&$skiptoken=" + token,
      base + q("$filter", filter) + "&$skiptoken=" + token)) {
      JsonObject page = page(url);
      assertThat(page.getJsonArray("value")).as(url).extracting(e -> ((JsonObject) e).getString("id"))
        .containsExactlyElementsOf(ids.subList(7, 14));
      // and so do the pages after it
      assertThat(page(page.getString("@odata.nextLink")).getJsonArray("value")).as(url)
        .extracting(e -> ((JsonObject) e).getString("id")).containsExactlyElementsOf(ids.subList(14, 21));
    }
    // The page size is the client's to change between pages (the token binds only what shapes the result).
    JsonObject bigger = page(base + q("$filter", filter, "$top", "20") + "&$skiptoken=" + token);
    assertThat(bigger.getJsonArray("value")).extracting(e -> ((JsonObject) e).getString("id"))
      .containsExactlyElementsOf(ids.subList(7, 27));
    assertThat(bigger.getString("@odata.nextLink")).contains("$top=20");
    // $top=0 with $count: only the count.
    JsonObject counted = pages(q("$filter", filter, "$count", "true", "$top", "0")).get(0);
    assertThat(counted.getLong("@odata.count")).isEqualTo(ids.size());
    assertThat(counted.getJsonArray("value")).isEmpty();
    assertThat(counted.containsKey("@odata.nextLink")).isFalse();
  }

  @Test
  void selectKeepsTheSelectedPropertiesAndTheId() {
    List<JsonObject> items = all(q("$select", "isSuccess,targetTenantId", "$filter", "targetTenantId eq " + tenant(7)));
    assertThat(items).isNotEmpty().allSatisfy(item ->
      assertThat(item.fieldNames()).containsExactlyInAnyOrder("@odata.etag", "id", "isSuccess", "targetTenantId"));
    assertThat(pages(q("$select", "isSuccess")).get(0).getString("@odata.context")).endsWith("#managedTenantOperationResults(isSuccess)");
  }

  @Test
  void countIsOnTheFirstPageAndCountsEveryMatch() {
    long expected = new ArrayList<>(CREATED).stream().filter(e -> e.getBoolean("isSuccess")).count();
    List<JsonObject> pages = pages(q("$count", "true", "$filter", "isSuccess eq true", "$top", "120"));
    assertThat(pages.get(0).getLong("@odata.count")).isEqualTo(expected);
    assertThat(pages.subList(1, pages.size())).allSatisfy(page -> assertThat(page.containsKey("@odata.count")).isFalse());
    assertThat(pages(q("$count", "true", "$filter", "requestId eq " + CREATED.get(17).getString("requestId")))
      .get(0).getLong("@odata.count")).isEqualTo(1);
  }

  @Test
  void anOverlongUrlIsA414GraphError() {
    HttpResponse<Buffer> response = service.client.getAbs("http://localhost:" + service.port()
      + "/managedTenantOperationResults" + q("$filter", "x".repeat(9000))).send().await();
    assertThat(response.statusCode()).isEqualTo(414);
    assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("code")).isNotBlank();
  }

  @Test
  void pagingWhileRecordsAreCreatedReturnsEveryExistingRecordExactlyOnce() {
    Set<String> before = new HashSet<>();
    CREATED.forEach(e -> before.add(e.getString("id")));
    List<String> seen = new ArrayList<>();
    String url = "http://localhost:" + service.port() + "/managedTenantOperationResults";
    int pages = 0;
    while (url != null) {
      JsonObject page = service.client.getAbs(url).send().await().bodyAsJsonObject();
      page.getJsonArray("value").forEach(item -> seen.add(((JsonObject) item).getString("id")));
      url = page.getString("@odata.nextLink");
      // Writers keep going between pages.
      List<Future<HttpResponse<Buffer>>> creates = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        creates.add(service.client.post("/managedTenantOperationResults").putHeader("content-type", "application/json")
          .sendJsonObject(TestService.body()));
      }
      Future.all(creates).await();
      for (Future<HttpResponse<Buffer>> created : creates) {
        JsonObject entity = created.result().bodyAsJsonObject();
        entity.remove("@odata.context");
        CREATED.add(entity);
      }
      pages++;
    }
    assertThat(pages).isGreaterThan(20);
    assertThat(seen).doesNotHaveDuplicates().containsAll(before);
  }

  static Stream<Arguments> badOptions() {
    return Stream.of(
      arguments(q("$filter", "colour eq 'red'"), "$filter", "colour"),
      arguments(q("$filter", "isSuccess eq 'yes'"), "$filter", "position"),
      arguments(q("$filter", "targetTenantId eq "), "$filter", "position"),
      arguments(q("$filter", "(".repeat(70) + "isSuccess" + ")".repeat(70)), "$filter", "position"),
      arguments(q("$orderby", "result"), "$orderby", "result"),
      arguments(q("$orderby", "isSuccess sideways"), "$orderby", "$orderby"),
      arguments(q("$select", "id,nope"), "$select", "nope"),
      arguments(q("$top", "-1"), "$top", "$top"),
      arguments(q("$top", "ten"), "$top", "$top"),
      arguments(q("$skip", "1000001"), "$skip", "$skip"),
      arguments(q("$count", "yes"), "$count", "$count"),
      arguments(q("$expand", "x"), "$expand", "$expand"),
      arguments(q("$search", "x"), "$search", "$search"),
      arguments(q("$skiptoken", "garbage"), "$skiptoken", "$skiptoken"));
  }

  @ParameterizedTest(name = "{index} {0}")
  @MethodSource("badOptions")
  void anOptionItCannotHonourIsA400NamingIt(String query, String option, String words) {
    HttpResponse<Buffer> response = service.client.getAbs("http://localhost:" + service.port()
      + "/managedTenantOperationResults" + query).send().await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("badRequest");
    assertThat(error.getString("message")).contains(option).contains(words);
  }

}
