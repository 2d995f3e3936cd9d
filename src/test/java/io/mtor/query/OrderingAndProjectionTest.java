package io.mtor.query;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static io.mtor.query.Fixtures.A;
import static io.mtor.query.Fixtures.B;
import static io.mtor.query.Fixtures.C;
import static io.mtor.query.Fixtures.entity;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OrderingAndProjectionTest {

  private static List<String> sorted(String orderBy, JsonObject... entities) {
    QueryOptions options = QueryOptions.parse(Fixtures.params("$orderby", orderBy), 10, 10);
    List<JsonObject> list = new ArrayList<>(List.of(entities));
    Collections.shuffle(list, new Random(orderBy.hashCode()));
    list.sort(options.comparator());
    return list.stream().map(e -> e.getString("id")).collect(Collectors.toList());
  }

  @Test
  void nullsComeFirstAscendingAndLastDescending() {
    assertThat(sorted("exception", A, B, C)).containsExactly("a", "c", "b");
    assertThat(sorted("exception asc", A, B, C)).containsExactly("a", "c", "b");
    assertThat(sorted("exception desc", A, B, C)).containsExactly("b", "c", "a");
  }

  @Test
  void datesCompareAsInstantsAndBooleansFalseFirst() {
    JsonObject early = entity("x", Fixtures.T1, "op", true, null, "2026-11-28T16:00:00.0000000+01:00");
    JsonObject late = entity("y", Fixtures.T1, "op", true, null, "2026-11-28T15:30:00.0000000Z");
    assertThat(sorted("createdDateTime", late, early)).containsExactly("x", "y");
    assertThat(sorted("createdDateTime desc", A, B, C)).containsExactly("b", "a", "c");
    assertThat(sorted("isSuccess", A, B, C)).containsExactly("b", "c", "a");
    assertThat(sorted("isSuccess desc, createdDateTime", A, B, C)).containsExactly("a", "c", "b");
  }

  @Test
  void stringsCompareOrdinallyAndGuidsIgnoringCase() {
    JsonObject upper = entity("u", "AAAAAAAA-0000-4000-8000-000000000000", "Zeta", true, null, "2026-01-01T00:00:00Z");
    JsonObject lower = entity("l", "bbbbbbbb-0000-4000-8000-000000000000", "alpha", true, null, "2026-01-01T00:00:00Z");
    assertThat(sorted("managedTenantOperationId", lower, upper)).containsExactly("u", "l");
    assertThat(sorted("targetTenantId", lower, upper)).containsExactly("u", "l");
  }

  @RepeatedTest(3)
  void idBreaksTiesSoTheOrderIsTotal() {
    JsonObject[] same = new JsonObject[6];
    for (int i = 0; i < same.length; i++) {
      same[i] = entity("id-" + (5 - i), Fixtures.T1, "op", true, null, "2026-01-01T00:00:00Z");
    }
    List<String> expected = List.of("id-0", "id-1", "id-2", "id-3", "id-4", "id-5");
    assertThat(sorted("isSuccess", same)).isEqualTo(expected);
    assertThat(sorted("createdDateTime desc, targetTenantId", same)).isEqualTo(expected);
    assertThat(sorted("id desc", same)).isEqualTo(List.of("id-5", "id-4", "id-3", "id-2", "id-1", "id-0"));

    List<JsonObject> list = new ArrayList<>(List.of(same));
    list.sort(QueryOptions.comparator(List.of()));
    assertThat(list).extracting(e -> e.getString("id")).isEqualTo(expected);
  }

  @Test
  void theComparatorRejectsKeysThatCannotBeOrdered() {
    assertThatThrownBy(() -> QueryOptions.comparator(List.of(new OrderKey("result", false))))
      .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QueryOptions.comparator(List.of(new OrderKey("nope", false))))
      .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void projectionKeepsTheSelectedPropertiesAndTheId() {
    JsonObject projected = QueryOptions.project(A, Set.of("result", "exception"));
    assertThat(projected.fieldNames()).containsExactly("id", "exception", "result");
    assertThat(projected.getValue("exception")).isNull();
    assertThat(projected.getJsonArray("result")).isEqualTo(new JsonArray().add("item-a"));
    assertThat(A.fieldNames()).hasSize(13);
  }

  @Test
  void withoutSelectTheWholeEntityIsACopy() {
    QueryOptions all = QueryOptions.parse(Fixtures.params("$select", "*"), 10, 10);
    JsonObject projected = all.project(A);
    assertThat(projected).isEqualTo(A).isNotSameAs(A);
    assertThat(projected.getString("@odata.type")).isNotNull();
    projected.getJsonArray("result").add("changed");
    assertThat(A.getJsonArray("result")).hasSize(1);

    QueryOptions some = QueryOptions.parse(Fixtures.params("$select", "isSuccess"), 10, 10);
    assertThat(some.project(A).fieldNames()).containsExactly("id", "isSuccess");
  }
}
