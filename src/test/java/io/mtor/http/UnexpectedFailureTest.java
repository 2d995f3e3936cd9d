package io.mtor.http;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A bug is a 500 Graph error that says nothing of the code behind it. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class UnexpectedFailureTest {

  @Test
  void anUnexpectedExceptionIsA500WithoutInternals(Vertx vertx, VertxTestContext test) {
    ResultsResource.errors(vertx, new HttpOptions(65536, null, 100, 1000))
      .compose(errors -> {
        Router router = Router.router(vertx);
        router.get("/boom").handler(ctx -> {
          throw new IllegalStateException("secret detail in com.example.Internal");
        });
        router.route().failureHandler(errors);
        return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1");
      })
      .compose(server -> WebClient.create(vertx).get(server.actualPort(), "127.0.0.1", "/boom").send())
      .onComplete(test.succeeding(response -> test.verify(() -> {
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.getHeader("content-type")).startsWith("application/json");
        JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
        assertThat(error.getString("code")).isEqualTo("internalServerError");
        assertThat(response.bodyAsString()).doesNotContain("secret", "IllegalState", "com.example", "\tat ");
        assertThat(error.getJsonObject("innerError").getString("request-id")).isEqualTo(response.getHeader("request-id"));
        test.completeNow();
      })));
  }
}
