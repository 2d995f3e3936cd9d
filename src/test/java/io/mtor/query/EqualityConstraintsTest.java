package io.mtor.query;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.Set;

import static io.mtor.query.Fixtures.PARTNER;
import static io.mtor.query.Fixtures.REQUEST;
import static io.mtor.query.Fixtures.T1;
import static io.mtor.query.Fixtures.T2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which constraints a store may answer from an index: only those every match must satisfy. */
class EqualityConstraintsTest {

  private static Map<String, Set<String>> constraints(String filter) {
    return Filter.parse(filter).equalityConstraints();
  }

  @Test
  void reportsEqualityOnIndexedPropertiesWithGuidsInLowercase() {
    assertThat(constraints("targetTenantId eq '" + T1.toUpperCase() + "'")).isEqualTo(Map.of("targetTenantId", Set.of(T1)));
    assertThat(constraints(T2.toUpperCase() + " eq targetTenantId")).isEqualTo(Map.of("targetTenantId", Set.of(T2)));
    assertThat(constraints("managedTenantOperationId eq 'resetPassword'"))
      .isEqualTo(Map.of("managedTenantOperationId", Set.of("resetPassword")));
  }

  @Test
  void collectsThroughAndChainsAndParentheses() {
    Map<String, Set<String>> found = constraints("partnerTenantId eq " + PARTNER
      + " and (managedTenantOperationId in ('a', 'b') and isSuccess) and (requestId eq '" + REQUEST + "')"
      + " and createdDateTime gt 2026-01-01T00:00:00Z");
    assertThat(found).isEqualTo(Map.of(
      "partnerTenantId", Set.of(PARTNER),
      "managedTenantOperationId", Set.of("a", "b"),
      "requestId", Set.of(REQUEST)));
  }

  @Test
  void intersectsRepeatedConstraintsOnOneProperty() {
    assertThat(constraints("targetTenantId in (" + T1 + ", " + T2 + ") and targetTenantId eq " + T2))
      .isEqualTo(Map.of("targetTenantId", Set.of(T2)));
    assertThat(constraints("targetTenantId eq " + T1 + " and targetTenantId eq " + T2))
      .isEqualTo(Map.of("targetTenantId", Set.of()));
  }

  @ParameterizedTest(name = "{index} {0}")
  @ValueSource(strings = {
    "targetTenantId eq 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31 or targetTenantId eq 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "targetTenantId eq 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31 or isSuccess",
    "not (targetTenantId eq 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31)",
    "not (targetTenantId ne 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31)",
    "targetTenantId ne 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31",
    "targetTenantId ge 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31",
    "targetTenantId eq null",
    "targetTenantId in (null, 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31)",
    "(targetTenantId eq 2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31) eq true",
    "partnerUserId eq 0b6a4b5e-1d2c-4e3f-8a9b-7c6d5e4f3a21",
    "id eq 'a' and isSuccess eq true and exception eq 'x'",
    "startswith(managedTenantOperationId, 'reset')",
    "isSuccess and (requestId eq 9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c41 or id eq 'a')",
  })
  void reportsNothingUnderOrNotOrForOtherComparisons(String filter) {
    assertThat(constraints(filter)).isEmpty();
  }

  @Test
  void keepsConstraintsBesideAnOr() {
    assertThat(constraints("requestId eq " + REQUEST + " and (targetTenantId eq " + T1 + " or isSuccess)"))
      .isEqualTo(Map.of("requestId", Set.of(REQUEST)));
  }

  @Test
  void everyMatchSatisfiesTheReportedConstraints() {
    Filter filter = Filter.parse("targetTenantId in ('" + T2.toUpperCase() + "') and not isSuccess");
    assertThat(filter.equalityConstraints()).isEqualTo(Map.of("targetTenantId", Set.of(T2)));
    assertThat(Fixtures.ALL).filteredOn(filter)
      .extracting(e -> e.getString("targetTenantId"))
      .isNotEmpty()
      .allMatch(T2::equals);
  }

  @Test
  void theResultIsUnmodifiable() {
    Map<String, Set<String>> found = constraints("requestId eq " + REQUEST);
    assertThatThrownBy(() -> found.put("x", Set.of())).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> found.get("requestId").clear()).isInstanceOf(UnsupportedOperationException.class);
  }
}
