package io.mtor.query;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every rejected $filter names the option, the position and the problem, and never leaks Java internals. */
class FilterErrorsTest {

  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    foo eq 'x'                                               | 0  | unknown property 'foo'
    IsSuccess eq true                                        | 0  | unknown property 'IsSuccess' (property names are case-sensitive; did you mean 'isSuccess'?)
    result eq 'x'                                            | 0  | property 'result' is a collection and cannot be used in $filter
    startswith(result, 'a')                                  | 11 | property 'result' is a collection
    @odata.type eq 'x'                                       | 0  | '@odata.type' is an annotation and cannot be used in $filter
    isSuccess eq 'yes'                                       | 13 | cannot compare property 'isSuccess' (Boolean) with 'yes' (String)
    isSuccess eq 1                                           | 13 | cannot compare property 'isSuccess' (Boolean) with '1' (number)
    'yes' ne isSuccess                                       | 0  | cannot compare property 'isSuccess' (Boolean) with 'yes' (String)
    isSuccess gt true                                        | 10 | 'gt' cannot be applied to property 'isSuccess' (Boolean); Boolean values support only eq and ne
    startswith(id, 'a') le true                              | 20 | 'le' cannot be applied to a Boolean expression
    exception gt null                                        | 10 | null can only be compared with eq or ne
    targetTenantId eq 'not-a-guid'                           | 18 | 'not-a-guid' is not a valid Guid for property 'targetTenantId' (Guid)
    targetTenantId eq 42                                     | 18 | cannot compare property 'targetTenantId' (Guid) with '42' (number)
    targetTenantId eq true                                   | 18 | cannot compare property 'targetTenantId' (Guid) with 'true' (Boolean)
    managedTenantOperationId eq 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31 | 28 | cannot compare property 'managedTenantOperationId' (String) with '2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31' (Guid)
    exception eq 2026-11-28T15:31:49Z                        | 13 | cannot compare property 'exception' (String) with '2026-11-28T15:31:49Z' (DateTimeOffset)
    createdDateTime gt '2026-11-28T15:31:49Z'                | 19 | cannot compare property 'createdDateTime' (DateTimeOffset) with '2026-11-28T15:31:49Z' (String); write DateTimeOffset values without quotes
    createdDateTime gt 2026-11-28T15:31:49                   | 19 | DateTimeOffset literal '2026-11-28T15:31:49' needs a time zone
    createdDateTime gt 2026-11-28T15:31:49.123 01:00         | 19 | in a URL, encode '+' as %2B
    createdDateTime gt 2026-11-28                            | 19 | Date literals are not supported
    createdDateTime gt 2026-13-28T15:31:49Z                  | 19 | invalid DateTimeOffset literal '2026-13-28T15:31:49Z'
    createdDateTime gt 2026-11-28T15:31:49.1234567890Z       | 19 | invalid DateTimeOffset literal
    exception eq 6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a1         | 13 | invalid literal '6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a1'
    isSuccess eq -                                           | 13 | invalid literal '-'
    (isSuccess eq true                                       | 18 | expected ')'
    ((isSuccess eq true)                                     | 20 | expected ')'
    isSuccess eq true)                                       | 17 | unexpected ')'
    isSuccess eq true eq false                               | 18 | unexpected 'eq'
    isSuccess eq true isSuccess                              | 18 | unexpected 'isSuccess'
    ()                                                       | 1  | expected an operand but found ')'
    eq 'x'                                                   | 0  | expected an operand but found 'eq'
    id eq                                                    | 5  | expected an operand but found end of input
    id eq 'a' or                                             | 12 | expected an operand but found end of input
    id                                                       | 2  | expected a comparison operator (eq, ne, gt, ge, lt, le, in) after 'id' but found end of input
    id 'a'                                                   | 3  | after 'id' but found 'a'
    partnerTenantId has 'x'                                  | 16 | after 'partnerTenantId' but found 'has'
    id eq id                                                 | 3  | comparing two properties or expressions is not supported
    startswith(id, 'a') eq isSuccess                         | 20 | comparing two properties or expressions is not supported
    'a' eq 'b'                                               | 4  | a comparison needs a property on one side
    not exception eq null                                    | 0  | 'not' must be followed by a Boolean operand; to negate a comparison use parentheses
    not id                                                   | 0  | 'not' must be followed by a Boolean operand
    isSuccess EQ true                                        | 10 | 'EQ' must be written in lowercase ('eq')
    isSuccess eq true AND id eq 'a'                          | 18 | 'AND' must be written in lowercase ('and')
    isSuccess Or id eq 'a'                                   | 10 | 'Or' must be written in lowercase ('or')
    NOT isSuccess                                            | 0  | 'NOT' must be written in lowercase ('not')
    Not(isSuccess)                                           | 0  | 'Not' must be written in lowercase ('not')
    id IN ('a')                                              | 3  | 'IN' must be written in lowercase ('in')
    isSuccess eq TRUE                                        | 13 | 'TRUE' must be written in lowercase ('true')
    exception eq Null                                        | 13 | 'Null' must be written in lowercase ('null')
    StartsWith(id, 'a')                                      | 0  | 'StartsWith' must be written in lowercase ('startswith')
    tolower(id) eq 'a'                                       | 0  | function 'tolower' is not supported (supported: startswith, endswith, contains)
    startswith(targetTenantId, '2f')                         | 11 | startswith needs a String property, but 'targetTenantId' is of type Guid
    startswith(id)                                           | 13 | expected ','
    startswith(id, 5)                                        | 15 | startswith expects a string literal as its second argument
    startswith('a', id)                                      | 11 | startswith expects a property as its first argument
    startswith(id, 'a'                                       | 18 | expected ')'
    id eq 'x                                                 | 6  | unterminated string literal
    id in ()                                                 | 7  | expected a literal in the 'in' list but found ')'
    id in 'a'                                                | 6  | expected '(' after 'in'
    id in ('a' 'b')                                          | 11 | expected ')'
    id in ('a', id)                                          | 12 | expected a literal in the 'in' list but found 'id'
    'a' in ('a')                                             | 4  | 'in' needs a property on its left side
    isSuccess in (true, 'x')                                 | 20 | cannot compare property 'isSuccess' (Boolean) with 'x' (String)
    result/any(r: r eq 'x')                                  | 6  | unexpected character '/'
    id eq 'a' & isSuccess                                    | 10 | unexpected character '&'
    """)
  void rejectsWithOptionPositionAndMessage(String filter, int position, String message) {
    assertThatThrownBy(() -> Filter.parse(filter)).isInstanceOfSatisfying(QueryException.class, e -> {
      assertThat(e.option()).isEqualTo("$filter");
      assertThat(e.position()).as(e.getMessage()).isEqualTo(position);
      assertThat(e.getMessage())
        .startsWith("$filter: ")
        .contains(message)
        .endsWith(" at position " + position)
        .doesNotContain("java.", "Exception");
    });
  }

  @Test
  void theUnclosedParenthesisMessageIsExact() {
    assertThatThrownBy(() -> Filter.parse("(isSuccess eq true"))
      .hasMessage("$filter: expected ')' at position 18");
    assertThatThrownBy(() -> Filter.parse("foo eq 'x'"))
      .hasMessage("$filter: unknown property 'foo' at position 0");
  }

  @ParameterizedTest(name = "{index} \"{0}\"")
  @ValueSource(strings = {"", " ", "\t  "})
  void rejectsAnEmptyFilter(String filter) {
    assertThatThrownBy(() -> Filter.parse(filter)).isInstanceOfSatisfying(QueryException.class, e -> {
      assertThat(e.position()).isEqualTo(-1);
      assertThat(e.getMessage()).isEqualTo("$filter: empty expression");
    });
  }

  @Test
  void rejectsTenThousandParenthesesAsTooLong() {
    assertThatThrownBy(() -> Filter.parse("(".repeat(10_000))).isInstanceOfSatisfying(QueryException.class, e -> {
      assertThat(e.position()).isEqualTo(-1);
      assertThat(e.getMessage()).isEqualTo("$filter: longer than 4096 characters");
    });
    String tooLong = "id eq '" + "x".repeat(4090) + "'";
    assertThatThrownBy(() -> Filter.parse(tooLong)).hasMessageContaining("longer than 4096 characters");
  }

  @ParameterizedTest(name = "{index} {0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
    4096 opening parentheses  | 64
    65 nested parentheses     | 64
    65 nots                   | 256
    alternating ( and not     | 160
    """)
  void rejectsDeepNestingWithoutOverflowingTheStack(String shape, int position) {
    String filter = switch (shape) {
      case "4096 opening parentheses" -> "(".repeat(4096);
      case "65 nested parentheses" -> "(".repeat(65) + "isSuccess" + ")".repeat(65);
      case "65 nots" -> "not ".repeat(65) + "isSuccess";
      default -> "(not ".repeat(40) + "isSuccess" + ")".repeat(40);
    };
    assertThatThrownBy(() -> Filter.parse(filter)).isInstanceOfSatisfying(QueryException.class, e -> {
      assertThat(e.position()).isEqualTo(position);
      assertThat(e.getMessage()).isEqualTo("$filter: expression nested too deeply (more than 64 levels) at position "
        + position);
    });
  }
}
