package io.mtor.query;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;

import static io.mtor.query.Fixtures.A;
import static io.mtor.query.Fixtures.matching;
import static org.assertj.core.api.Assertions.assertThat;

/** What a $filter matches; fixture entities a, b, c are described in {@link Fixtures}. */
class FilterTest {

  /** Column 2 lists the ids that match, separated by spaces; '-' for none. */
  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    managedTenantOperationId eq 'resetPassword'                   | b
    managedTenantOperationId ne 'resetPassword'                   | a c
    managedTenantOperationId gt 'm'                               | b
    managedTenantOperationId gt 'resetPassword'                   | -
    managedTenantOperationId lt 'applyConditionalAccessPolicy'    | -
    managedTenantOperationId ge 'resetPassword'                   | b
    managedTenantOperationId lt 'resetPassword'                   | a c
    managedTenantOperationId le 'applyConditionalAccessPolicy'    | a c
    managedTenantOperationId eq 'ResetPassword'                   | -
    exception lt 'a'                                              | b c
    id eq 'b'                                                     | b
    'resetPassword' eq managedTenantOperationId                   | b
    'm' lt managedTenantOperationId                               | b
    isSuccess eq true                                             | a
    isSuccess eq false                                            | b c
    isSuccess ne true                                             | b c
    isSuccess                                                     | a
    true                                                          | a b c
    false                                                         | -
    """)
  void comparesStringsOrdinallyAndBooleans(String filter, String ids) {
    assertThat(matching(filter)).isEqualTo(ids(ids));
  }

  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    createdDateTime gt 2026-11-28T15:31:49Z                        | a b
    createdDateTime eq 2026-11-28T15:31:49.7895107Z                | a
    createdDateTime gt 2026-11-28T15:31:49.7895107Z                | b
    createdDateTime ge 2026-11-28T15:31:49.7895107Z                | a b
    createdDateTime eq 2026-11-28T16:31:49.7895107+01:00           | a
    createdDateTime lt 2026-11-28T16:31:49.7895107+01:00           | c
    createdDateTime le 2026-11-28T10:31:49.7895107-05:00           | a c
    createdDateTime ge 2026-11-29T03:00:00-05:00                   | b
    createdDateTime eq 2026-11-29T08:00Z                           | b
    createdDateTime ne 2026-11-29T08:00:00.000Z                    | a c
    2026-11-28T00:00:00Z lt createdDateTime                        | a b
    lastModifiedDateTime lt 2026-11-28T00:00:00.0000001Z           | c
    """)
  void comparesDateTimeOffsetsAsInstants(String filter, String ids) {
    assertThat(matching(filter)).isEqualTo(ids(ids));
  }

  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    targetTenantId eq 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31         | a
    targetTenantId eq 2F1E3D4C-5B6A-4798-8A7B-6C5D4E3F2A31         | a
    targetTenantId eq '2F1E3D4C-5b6a-4798-8A7B-6c5d4e3f2a31'       | a
    '7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D' eq targetTenantId       | b c
    targetTenantId ne 2F1E3D4C-5B6A-4798-8A7B-6C5D4E3F2A31         | b c
    targetTenantId in ('7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D')     | b c
    targetTenantId gt 5fffffff-ffff-ffff-ffff-ffffffffffff         | b c
    """)
  void comparesGuidsIgnoringCase(String filter, String ids) {
    assertThat(matching(filter)).isEqualTo(ids(ids));
  }

  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    isSuccess eq true or isSuccess eq false and managedTenantOperationId eq 'resetPassword'   | a b
    (isSuccess eq true or isSuccess eq false) and managedTenantOperationId eq 'resetPassword' | b
    isSuccess eq false and managedTenantOperationId eq 'resetPassword' or id eq 'a'           | a b
    isSuccess eq false and (managedTenantOperationId eq 'resetPassword' or id eq 'a')         | b
    not isSuccess                                                                            | b c
    not isSuccess and managedTenantOperationId eq 'resetPassword'                            | b
    not (isSuccess or managedTenantOperationId eq 'resetPassword')                           | c
    not isSuccess eq true                                                                    | b c
    not not isSuccess                                                                        | a
    not (exception eq null)                                                                  | b c
    ((((id eq 'a'))))                                                                        | a
    id eq 'a' or id eq 'b' or id eq 'c'                                                      | a b c
    id ne 'a' and id ne 'b' and id ne 'c'                                                    | -
    """)
  void appliesOperatorPrecedence(String filter, String ids) {
    assertThat(matching(filter)).isEqualTo(ids(ids));
  }

  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    managedTenantOperationId in ('resetPassword', 'other')         | b
    managedTenantOperationId in ('other')                          | -
    id in ('a','c')                                                | a c
    exception in (null, 'Access denied')                           | a c
    isSuccess in (false)                                           | b c
    createdDateTime in (2026-11-29T09:00:00+01:00)                 | b
    startswith(managedTenantOperationId, 'apply')                  | a c
    startswith(managedTenantOperationId, 'Apply')                  | -
    endswith(exception, 'denied')                                  | c
    contains(exception, 'talking')                                 | b
    startswith(exception, '')                                      | b c
    not startswith(exception, 'A')                                 | a b
    startswith(id, 'b') eq true                                    | b
    startswith(id, 'b') eq false                                   | a c
    contains(executionInfo, 'Password') and not isSuccess          | b
    """)
  void supportsInAndStringFunctions(String filter, String ids) {
    assertThat(matching(filter)).isEqualTo(ids(ids));
  }

  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    exception eq null                 | a
    null eq exception                 | a
    exception ne null                 | b c
    exception gt 'A'                  | b c
    exception le 'zzz'                | b c
    not (exception gt 'A')            | a
    """)
  void followsODataNullSemantics(String filter, String ids) {
    assertThat(matching(filter)).isEqualTo(ids(ids));
  }

  @Test
  void aNullBooleanIsUnknownUnderNotAndOr() {
    JsonObject unknown = Fixtures.entity("n", Fixtures.T1, "op", null, null, "2026-11-28T15:31:49.0000000Z");
    assertThat(Filter.parse("isSuccess").test(unknown)).isFalse();
    assertThat(Filter.parse("not isSuccess").test(unknown)).isFalse();
    assertThat(Filter.parse("isSuccess eq null").test(unknown)).isTrue();
    assertThat(Filter.parse("isSuccess ne false").test(unknown)).isTrue();
    assertThat(Filter.parse("isSuccess and id eq 'n'").test(unknown)).isFalse();
    assertThat(Filter.parse("not (isSuccess and id eq 'x')").test(unknown)).isTrue();
    assertThat(Filter.parse("isSuccess or id eq 'n'").test(unknown)).isTrue();
    assertThat(Filter.parse("not (isSuccess or id eq 'x')").test(unknown)).isFalse();
  }

  @Test
  void anAbsentOrMistypedValueIsNull() {
    JsonObject sparse = new JsonObject().put("id", "s").put("createdDateTime", "yesterday").put("isSuccess", "yes");
    assertThat(Filter.parse("exception eq null and managedTenantOperationId eq null").test(sparse)).isTrue();
    assertThat(Filter.parse("createdDateTime eq null").test(sparse)).isTrue();
    assertThat(Filter.parse("createdDateTime lt 2999-01-01T00:00:00Z").test(sparse)).isFalse();
    assertThat(Filter.parse("isSuccess eq null").test(sparse)).isTrue();
    assertThat(Filter.parse("startswith(exception, 'x')").test(sparse)).isFalse();
  }

  @Test
  void doubledQuotesEscapeAQuote() {
    JsonObject quoted = A.copy().put("exception", "it's 'quoted'");
    assertThat(Filter.parse("exception eq 'it''s ''quoted'''").test(quoted)).isTrue();
    assertThat(Filter.parse("contains(exception, '''')").test(quoted)).isTrue();
    assertThat(Filter.parse("exception eq 'its quoted'").test(quoted)).isFalse();
  }

  @Test
  void toleratesWhitespaceAndKeepsTheText() {
    String text = "  (isSuccess\teq  true)and( id  eq 'a' )  ";
    Filter filter = Filter.parse(text);
    assertThat(filter.test(A)).isTrue();
    assertThat(filter).hasToString(text);
  }

  @Test
  void acceptsTheLongestAllowedFilterAndShallowNestingLimit() {
    String chain = "isSuccess and ".repeat(290) + "id eq 'a'";
    assertThat(chain.length()).isLessThanOrEqualTo(4096);
    assertThat(Filter.parse(chain).test(A)).isTrue();

    String nested = "(".repeat(64) + "id eq 'a'" + ")".repeat(64);
    assertThat(Filter.parse(nested).test(A)).isTrue();
    assertThat(Filter.parse("not ".repeat(64) + "isSuccess").test(A)).isTrue();
  }

  private static List<String> ids(String ids) {
    return ids.equals("-") ? List.of() : Arrays.asList(ids.trim().split("\\s+"));
  }
}
