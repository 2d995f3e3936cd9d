package io.mtor.http;

import io.vertx.openapi.contract.OpenAPIContract;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link InlineRequestValidator} extends and builds classes of vertx-openapi's {@code impl} package, which may change
 * in any release without notice: an upgrade of the library must have it checked again.
 */
class VertxOpenApiVersionTest {

  /** The vertx-openapi release InlineRequestValidator was written and checked against. */
  static final String CHECKED = "5.0.7";

  @Test
  void inlineRequestValidatorWasCheckedAgainstThisVersionOfVertxOpenApi() throws IOException {
    Properties pom = new Properties();
    try (InputStream in = OpenAPIContract.class.getClassLoader()
      .getResourceAsStream("META-INF/maven/io.vertx/vertx-openapi/pom.properties")) {
      assertThat(in).as("vertx-openapi's pom.properties on the class path").isNotNull();
      pom.load(in);
    }
    assertThat(pom.getProperty("version"))
      .as("vertx-openapi is no longer %s. InlineRequestValidator extends RequestValidatorImpl (overriding validate, "
        + "validateParameter and validate(MediaType, ...)) and builds RequestParameterImpl, ValidatableRequestImpl and "
        + "ValidatedRequestImpl, all in vertx-openapi's impl package: compare them with the new release's code (what "
        + "the overridden methods do, the constructors' arguments), run the http tests, then set CHECKED here", CHECKED)
      .isEqualTo(CHECKED);
  }
}
