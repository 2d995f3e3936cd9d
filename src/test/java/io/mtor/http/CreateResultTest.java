package io.mtor.http;

import io.mtor.TestService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class CreateResultTest {

  static final String GUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
  static final String TIMESTAMP = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{7}Z";

  @TempDir
  Path dataDir;
  TestService service;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext test) {
    TestService.start(vertx, TestService.config(dataDir)).onComplete(test.succeeding(s -> {
      service = s;
      test.completeNow();
    }));
  }

  @AfterEach
  void stop(VertxTestContext test) {
    service.stop().onComplete(test.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> post(String path, JsonObject body) {
    return service.client.post(path).putHeader("content-type", "application/json").sendJsonObject(body);
  }

  @ParameterizedTest(name = "{index} POST {0}/managedTenantOperationResults")
  @ValueSource(strings = {"", "/beta"})
  void createAnswers201WithTheWholeEntityAndReadsBack(String prefix, VertxTestContext test) {
    JsonObject body = TestService.body();
    Instant before = Instant.now();
    service.client.post(prefix + "/managedTenantOperationResults")
      .putHeader("content-type", "application/json")
      .putHeader("client-request-id", "my-correlation-1")
      .sendJsonObject(body)
      .compose(created -> {
        test.verify(() -> {
          assertThat(created.statusCode()).isEqualTo(201);
          assertThat(created.getHeader("content-type")).startsWith("application/json");
          assertThat(created.getHeader("request-id")).matches(GUID);
          assertThat(created.getHeader("client-request-id")).isEqualTo("my-correlation-1");
          JsonObject entity = created.bodyAsJsonObject();
          String base = "http://localhost:" + service.port() + prefix;
          assertThat(entity.getString("@odata.context"))
            .isEqualTo(base + "/$metadata#managedTenantOperationResults/$entity");
          assertThat(entity.getString("@odata.type"))
            .isEqualTo("#microsoft.management.services.api.managedTenantOperationResult");
          assertThat(entity.getString("id")).matches(GUID);
          assertThat(created.getHeader("location"))
            .isEqualTo(base + "/managedTenantOperationResults/" + entity.getString("id"));
          for (String property : body.fieldNames()) {
            assertThat(entity.getValue(property)).as(property).isEqualTo(body.getValue(property));
          }
          assertThat(entity.getString("createdDateTime")).matches(TIMESTAMP)
            .isEqualTo(entity.getString("lastModifiedDateTime"));
          Instant createdAt = Instant.parse(entity.getString("createdDateTime"));
          assertThat(createdAt).isBetween(before.minusMillis(1), Instant.now().plusMillis(1));
        });
        return service.client.getAbs(created.getHeader("location")).send()
          .map(read -> {
            test.verify(() -> {
              assertThat(read.statusCode()).isEqualTo(200);
              assertThat(read.getHeader("request-id")).matches(GUID).isNotEqualTo(created.getHeader("request-id"));
              assertThat(read.bodyAsJsonObject()).isEqualTo(created.bodyAsJsonObject());
            });
            return read;
          });
      })
      .onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{index} @odata.type {0}")
  @ValueSource(strings = {"#microsoft.management.services.api.managedTenantOperationResult",
    "#microsoft.graph.managedTenantOperationResult"})
  void acceptsBothNamespacesOfTheType(String type, VertxTestContext test) {
    post("/managedTenantOperationResults", TestService.body().put("@odata.type", type))
      .onComplete(test.succeeding(response -> test.verify(() -> {
        assertThat(response.statusCode()).isEqualTo(201);
        test.completeNow();
      })));
  }

  @Test
  void guidsAreStoredInLowercase(VertxTestContext test) {
    JsonObject body = TestService.body().put("targetTenantId", "2F1E3D4C-5B6A-4798-8A7B-6C5D4E3F2A31");
    post("/managedTenantOperationResults", body).onComplete(test.succeeding(response -> test.verify(() -> {
      assertThat(response.statusCode()).isEqualTo(201);
      assertThat(response.bodyAsJsonObject().getString("targetTenantId")).isEqualTo("2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31");
      test.completeNow();
    })));
  }

  @Test
  void preferReturnMinimalAnswers204WithLocation(VertxTestContext test) {
    service.client.post("/beta/managedTenantOperationResults")
      .putHeader("content-type", "application/json")
      .putHeader("Prefer", "odata.maxpagesize=5, return=minimal")
      .sendJsonObject(TestService.body())
      .compose(created -> {
        test.verify(() -> {
          assertThat(created.statusCode()).isEqualTo(204);
          assertThat(created.body()).isNull();
          assertThat(created.getHeader("location")).startsWith("http://localhost:" + service.port()
            + "/beta/managedTenantOperationResults/");
          assertThat(created.getHeader("OData-EntityId")).isEqualTo(created.getHeader("location"));
          assertThat(created.getHeader("Preference-Applied")).isEqualTo("return=minimal");
          assertThat(created.getHeader("request-id")).matches(GUID);
        });
        return service.client.getAbs(created.getHeader("location")).send();
      })
      .onComplete(test.succeeding(read -> test.verify(() -> {
        assertThat(read.statusCode()).isEqualTo(200);
        test.completeNow();
      })));
  }

  @Test
  void clientSuppliedIdIsKeptAndADuplicateIs409LeavingTheRecordUntouched(VertxTestContext test) {
    JsonObject first = TestService.body().put("id", "run-2026.11~tenant_42");
    JsonObject second = TestService.body().put("id", "run-2026.11~tenant_42").put("isSuccess", false);
    post("/managedTenantOperationResults", first)
      .compose(created -> {
        test.verify(() -> {
          assertThat(created.statusCode()).isEqualTo(201);
          assertThat(created.getHeader("location")).endsWith("/managedTenantOperationResults/run-2026.11~tenant_42");
        });
        return post("/managedTenantOperationResults", second).map(conflict -> {
          test.verify(() -> {
            assertThat(conflict.statusCode()).isEqualTo(409);
            JsonObject error = conflict.bodyAsJsonObject().getJsonObject("error");
            assertThat(error.getString("code")).isEqualTo("conflict");
            assertThat(error.getString("message")).contains("run-2026.11~tenant_42");
          });
          return created.bodyAsJsonObject();
        });
      })
      .compose(original -> service.client.get("/managedTenantOperationResults/run-2026.11~tenant_42").send()
        .map(read -> {
          test.verify(() -> assertThat(read.bodyAsJsonObject()).isEqualTo(original));
          return read;
        }))
      .onComplete(test.succeedingThenComplete());
  }

  @Test
  void idsThatLookLikeJsonAreReadBackAsTheStringsTheyAre() {
    for (String id : List.of("123", "1e5", "true", "null", "1234e567-aaaa-4bbb-8ccc-123456789012", "-5")) {
      assertThat(post("/managedTenantOperationResults", TestService.body().put("id", id)).await().statusCode())
        .as(id).isEqualTo(201);
      HttpResponse<Buffer> read = service.client.get("/beta/managedTenantOperationResults/" + id).send().await();
      assertThat(read.statusCode()).as(id).isEqualTo(200);
      assertThat(read.bodyAsJsonObject().getValue("id")).as(id).isEqualTo(id);
    }
    // Quotes are part of the id as sent (and not a valid id), not JSON to unwrap into "123".
    assertThat(service.client.get("/managedTenantOperationResults/%22123%22").send().await().statusCode()).isEqualTo(400);
  }

  @Test
  void concurrentCreatesOfOneIdGiveOne201AndTheRest409(VertxTestContext test) {
    List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      responses.add(post("/managedTenantOperationResults", TestService.body().put("id", "contended")
        .put("managedTenantOperationId", "attempt-" + i)));
    }
    Future.all(responses).compose(all -> {
      List<Integer> statuses = responses.stream().map(f -> f.result().statusCode()).toList();
      test.verify(() -> {
        assertThat(statuses).filteredOn(s -> s == 201).hasSize(1);
        assertThat(statuses).filteredOn(s -> s == 409).hasSize(49);
      });
      String winner = responses.stream().map(Future::result).filter(r -> r.statusCode() == 201)
        .findFirst().orElseThrow().bodyAsJsonObject().getString("managedTenantOperationId");
      return service.client.get("/managedTenantOperationResults/contended").send().map(read -> {
        test.verify(() -> assertThat(read.bodyAsJsonObject().getString("managedTenantOperationId")).isEqualTo(winner));
        return read;
      });
    }).onComplete(test.succeedingThenComplete());
  }

  @Test
  void unknownIdIs404GraphError(VertxTestContext test) {
    service.client.get("/beta/managedTenantOperationResults/no-such-id")
      .putHeader("client-request-id", "abc")
      .send()
      .onComplete(test.succeeding(response -> test.verify(() -> {
        assertThat(response.statusCode()).isEqualTo(404);
        JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
        assertThat(error.getString("code")).isEqualTo("notFound");
        assertThat(error.getString("message")).contains("no-such-id");
        assertThat(error.getJsonObject("innerError").getString("request-id")).isEqualTo(response.getHeader("request-id"));
        assertThat(error.getJsonObject("innerError").getString("client-request-id")).isEqualTo("abc");
        assertThat(error.getJsonObject("innerError").getString("date")).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}");
        test.completeNow();
      })));
  }

  @Test
  void restartKeepsEveryRecord(Vertx vertx, VertxTestContext test) {
    List<Future<HttpResponse<Buffer>>> creates = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      creates.add(post("/managedTenantOperationResults", TestService.body()));
    }
    Future.all(creates)
      .compose(all -> service.stop())
      .compose(stopped -> TestService.start(vertx, service.config))
      .compose(restarted -> {
        service = restarted;
        List<Future<HttpResponse<Buffer>>> reads = new ArrayList<>();
        for (Future<HttpResponse<Buffer>> created : creates) {
          reads.add(service.client.get("/managedTenantOperationResults/"
            + created.result().bodyAsJsonObject().getString("id")).send());
        }
        return Future.all(reads).map(done -> {
          test.verify(() -> {
            assertThat(service.verticle.service().recovered()).isFalse();
            assertThat(service.verticle.service().size()).isEqualTo(100);
            for (int i = 0; i < creates.size(); i++) {
              assertThat(reads.get(i).result().statusCode()).isEqualTo(200);
              // The port, hence @odata.context, differs after the restart; the entity must not.
              JsonObject read = reads.get(i).result().bodyAsJsonObject();
              JsonObject created = creates.get(i).result().bodyAsJsonObject();
              read.remove("@odata.context");
              created.remove("@odata.context");
              assertThat(read).isEqualTo(created);
            }
          });
          return done;
        });
      })
      .onComplete(test.succeedingThenComplete());
  }

}
