package io.mtor.query;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.mtor.query.Fixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QueryOptionsTest {

  private static QueryOptions parse(Map<String, List<String>> params) {
    return QueryOptions.parse(params, 100, 1000);
  }

  @Test
  void withoutOptionsEverythingIsDefault() {
    QueryOptions options = parse(params("api-version", "beta", "filter", "not even parsed", "top", "-1"));
    assertThat(options.filter()).isNull();
    assertThat(options.orderBy()).isEmpty();
    assertThat(options.select()).isEmpty();
    assertThat(options.top()).isEqualTo(-1);
    assertThat(options.skip()).isZero();
    assertThat(options.count()).isFalse();
    assertThat(options.skipToken()).isNull();
    assertThat(options.pageSize()).isEqualTo(100);
  }

  @Test
  void parsesEverySupportedOption() {
    QueryOptions options = parse(params(
      "$filter", "isSuccess eq false",
      "$orderby", "createdDateTime desc, managedTenantOperationId asc,id",
      "$select", " id , result,exception ",
      "$top", "25",
      "$skip", "007",
      "$count", "true",
      "$skiptoken", "opaque+token=="));
    assertThat(options.filter()).hasToString("isSuccess eq false");
    assertThat(options.filter().test(Fixtures.B)).isTrue();
    assertThat(options.orderBy()).containsExactly(
      new OrderKey("createdDateTime", true), new OrderKey("managedTenantOperationId", false), new OrderKey("id", false));
    assertThat(options.select()).containsExactly("id", "result", "exception");
    assertThat(options.top()).isEqualTo(25);
    assertThat(options.skip()).isEqualTo(7);
    assertThat(options.count()).isTrue();
    assertThat(options.skipToken()).isEqualTo("opaque+token==");
    assertThat(options.pageSize()).isEqualTo(25);
  }

  @Test
  void topIsThePageSizeCappedToTheMaximumPageSize() {
    // As in Graph, $top is the page size: one beyond list.maxPageSize is not an error, its pages hold the maximum.
    assertThat(parse(params("$top", "5000")).pageSize()).isEqualTo(1000);
    assertThat(parse(params("$top", "5000")).top()).isEqualTo(5000);
    assertThat(parse(params("$top", "1000")).pageSize()).isEqualTo(1000);
    assertThat(parse(params("$top", "1")).pageSize()).isEqualTo(1);
    assertThat(parse(params("$top", "250")).pageSize()).isEqualTo(250);
    assertThat(parse(params("$top", "0")).pageSize()).isZero();
    assertThat(parse(params("$count", "false")).count()).isFalse();
  }

  @Test
  void selectStarMeansAllProperties() {
    assertThat(parse(params("$select", "*")).select()).isEmpty();
    assertThat(parse(params("$select", "id, *")).select()).isEmpty();
  }

  @Test
  void anEmptyValueListIsAbsent() {
    Map<String, List<String>> raw = new LinkedHashMap<>();
    raw.put("$top", List.of());
    assertThat(parse(raw).top()).isEqualTo(-1);
  }

  @Test
  void aRepeatedOptionIsRejected() {
    Map<String, List<String>> raw = Map.of("$top", List.of("1", "2"));
    assertThatThrownBy(() -> parse(raw)).isInstanceOfSatisfying(QueryException.class, e -> {
      assertThat(e.option()).isEqualTo("$top");
      assertThat(e.getMessage()).isEqualTo("$top: query option given more than once");
    });
  }

  @Test
  void pageSizesMustBeSane() {
    assertThatThrownBy(() -> QueryOptions.parse(Map.of(), 0, 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QueryOptions.parse(Map.of(), 20, 10)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "{index} {0}={1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    $expand     | result                 | -1 | $expand: query option not supported
    $search     | timeout                | -1 | $search: query option not supported
    $format     | json                   | -1 | $format: query option not supported
    $apply      | groupby((isSuccess))   | -1 | $apply: query option not supported
    $compute    | x as y                 | -1 | $compute: query option not supported
    $levels     | 2                      | -1 | $levels: query option not supported
    $Filter     | isSuccess              | -1 | $Filter: query option not supported (option names are case-sensitive; did you mean '$filter'?)
    $TOP        | 1                      | -1 | $TOP: query option not supported (option names are case-sensitive; did you mean '$top'?)
    $top        | -1                     | -1 | $top: must be a non-negative integer, not '-1'
    $top        | abc                    | -1 | $top: must be a non-negative integer, not 'abc'
    $top        | ""                     | -1 | $top: must be a non-negative integer, not ''
    $top        | 1.5                    | -1 | $top: must be a non-negative integer, not '1.5'
    $top        | " 5"                   | -1 | $top: must be a non-negative integer, not ' 5'
    $top        | +5                     | -1 | $top: must be a non-negative integer, not '+5'
    $top        | 99999999999            | -1 | $top: must be at most 2147483647
    $skip       | -3                     | -1 | $skip: must be a non-negative integer, not '-3'
    $skip       | ten                    | -1 | $skip: must be a non-negative integer, not 'ten'
    $count      | TRUE                   | -1 | $count: must be true or false, not 'TRUE'
    $count      | 1                      | -1 | $count: must be true or false, not '1'
    $count      | ""                     | -1 | $count: must be true or false, not ''
    $select     | foo                    | 0  | $select: unknown property 'foo' at position 0
    $select     | id,foo                 | 3  | $select: unknown property 'foo' at position 3
    $select     | id, Exception          | 4  | $select: unknown property 'Exception' (property names are case-sensitive; did you mean 'exception'?) at position 4
    $select     | id, ,result            | 4  | $select: expected a property name at position 4
    $select     | id,                    | 3  | $select: expected a property name at position 3
    $select     | ""                     | 0  | $select: expected a property name at position 0
    $select     | @odata.type            | 0  | $select: '@odata.type' is an annotation and cannot be used in $select at position 0
    $select     | result/any             | 0  | $select: unknown property 'result/any' at position 0
    $orderby    | foo desc               | 0  | $orderby: unknown property 'foo' at position 0
    $orderby    | id, result             | 4  | $orderby: property 'result' is a collection and cannot be used in $orderby at position 4
    $orderby    | id desc, id            | 9  | $orderby: property 'id' appears more than once at position 9
    $orderby    | id DESC                | 3  | $orderby: 'DESC' must be written in lowercase at position 3
    $orderby    | id up                  | 3  | $orderby: expected 'asc' or 'desc' but found 'up' at position 3
    $orderby    | id asc desc            | 7  | $orderby: expected ',' but found 'desc' at position 7
    $orderby    | createdDateTime,       | 16 | $orderby: expected a property name at position 16
    $orderby    | ""                     | 0  | $orderby: expected a property name at position 0
    $filter     | isSuccess eq 'yes'     | 13 | $filter: cannot compare property 'isSuccess' (Boolean) with 'yes' (String) at position 13
    $filter     | ""                     | -1 | $filter: empty expression
    """)
  void rejectsInvalidOptions(String name, String value, int position, String message) {
    assertThatThrownBy(() -> parse(params(name, value, "other", "ignored")))
      .isInstanceOfSatisfying(QueryException.class, e -> {
        assertThat(e.option()).isEqualTo(name);
        assertThat(e.position()).isEqualTo(position);
        assertThat(e.getMessage()).isEqualTo(message);
      });
  }
}
