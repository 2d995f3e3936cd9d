package io.mtor.api;

import io.mtor.AuditTrail;
import io.mtor.TestService;
import io.mtor.audit.AuditVerticle;
import io.mtor.events.ResultEvents;
import io.mtor.store.OperationResultStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class EventsAndAuditTest {

  @TempDir
  Path dataDir;

  ServiceConfig config() {
    return TestService.config(dataDir);
  }

  /** A host application with its own route, mounting the resource under /api/graph. */
  Future<HttpServer> host(Vertx vertx, ResultsService service, boolean ownBodyHandler) {
    Router host = Router.router(vertx);
    if (ownBodyHandler) {
      host.route().handler(BodyHandler.create());
    }
    host.get("/hello").handler(ctx -> ctx.response().end("host route"));
    host.route("/api/graph/*").subRouter(service.router());
    return vertx.createHttpServer().requestHandler(host).listen(0, "127.0.0.1");
  }

  static WebClient client(Vertx vertx, int port) {
    return WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port),
      new PoolOptions().setHttp1MaxSize(64));
  }

  static Future<HttpResponse<Buffer>> create(WebClient client, String path) {
    return client.post(path).putHeader("content-type", "application/json").sendJsonObject(TestService.body());
  }

  /** Polls until the condition holds (the audit trail is written asynchronously). */
  static Future<Void> eventually(Vertx vertx, BooleanSupplier condition) {
    if (condition.getAsBoolean()) {
      return Future.succeededFuture();
    }
    return vertx.timer(20).compose(t -> eventually(vertx, condition));
  }

  @ParameterizedTest(name = "{index} host body handler installed: {0}")
  @ValueSource(booleans = {false, true})
  void aHostMountsTheRouterUnderItsOwnPathAndReceivesTheEvent(boolean ownBodyHandler, Vertx vertx, VertxTestContext test) {
    List<JsonObject> received = new ArrayList<>();
    vertx.eventBus().<JsonObject>consumer(ResultEvents.CREATED, message -> received.add(message.body()));
    ServiceConfig config = config();
    ResultsService.start(vertx, config).compose(service -> host(vertx, service, ownBodyHandler).compose(server -> {
      WebClient client = client(vertx, server.actualPort());
      return client.get("/hello").send().compose(hello -> {
        test.verify(() -> assertThat(hello.bodyAsString()).isEqualTo("host route"));
        return client.post("/api/graph/managedTenantOperationResults")
          .putHeader("content-type", "application/json").putHeader("client-request-id", "host-1")
          .sendJsonObject(TestService.body());
      }).compose(created -> {
        test.verify(() -> {
          assertThat(created.statusCode()).isEqualTo(201);
          assertThat(created.getHeader("location")).startsWith("http://127.0.0.1:" + server.actualPort()
            + "/api/graph/managedTenantOperationResults/");
          assertThat(created.bodyAsJsonObject().getString("@odata.context"))
            .isEqualTo("http://127.0.0.1:" + server.actualPort() + "/api/graph/$metadata#managedTenantOperationResults/$entity");
        });
        return client.getAbs(created.getHeader("location")).send().compose(read -> eventually(vertx,
            () -> !received.isEmpty() && !AuditTrail.events(config.auditDir()).isEmpty())
          .map(v -> {
            test.verify(() -> {
              assertThat(read.statusCode()).isEqualTo(200);
              JsonObject event = received.get(0);
              JsonObject resource = read.bodyAsJsonObject();
              resource.remove("@odata.context");
              String etag = (String) resource.remove("@odata.etag");
              assertThat(event.getString("etag")).isEqualTo(etag).isEqualTo(read.getHeader("ETag"));
              assertThat(event.getString("eventType")).isEqualTo("created");
              assertThat(event.getString("eventId")).isNotBlank();
              assertThat(event.getString("requestId")).isEqualTo(created.getHeader("request-id"));
              assertThat(event.getString("clientRequestId")).isEqualTo("host-1");
              assertThat(Instant.parse(event.getString("occurredDateTime"))).isNotNull();
              assertThat(event.getJsonObject("resource")).isEqualTo(resource);
              // The trail's line is the event-bus payload, though the trail gets it as the outbox's bytes.
              assertThat(AuditTrail.events(config.auditDir())).containsExactly(event);
            });
            return v;
          }));
      }).compose(v -> mountedDocumentsAndErrors(test, client, server.actualPort())).eventually(service::close);
    })).onComplete(test.succeedingThenComplete());
  }

  /**
   * Under the host's mount: the CSDL document every {@code @odata.context} points to and the contract, and Graph
   * errors (not the host's page) for every other path.
   */
  static Future<Void> mountedDocumentsAndErrors(VertxTestContext test, WebClient client, int port) {
    return client.get("/api/graph/$metadata").send().compose(metadata -> {
      test.verify(() -> {
        assertThat(metadata.statusCode()).isEqualTo(200);
        assertThat(metadata.getHeader("content-type")).startsWith("application/xml");
        assertThat(metadata.getHeader("OData-Version")).isEqualTo("4.0");
        assertThat(metadata.bodyAsString()).contains("<EntitySet Name=\"managedTenantOperationResults\"");
      });
      return client.get("/api/graph/openapi.yaml").send();
    }).compose(contract -> {
      test.verify(() -> {
        assertThat(contract.statusCode()).isEqualTo(200);
        assertThat(contract.getHeader("content-type")).startsWith("application/yaml");
        assertThat(contract.bodyAsString()).contains("/managedTenantOperationResults/{id}:");
      });
      return client.get("/api/graph/nothing-here").putHeader("client-request-id", "lost-1").send();
    }).compose(notFound -> {
      test.verify(() -> {
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(notFound.getHeader("content-type")).startsWith("application/json");
        JsonObject error = notFound.bodyAsJsonObject().getJsonObject("error");
        assertThat(error.getString("code")).isEqualTo("notFound");
        assertThat(error.getString("message")).contains("/api/graph/nothing-here");
        assertThat(error.getJsonObject("innerError").getString("client-request-id")).isEqualTo("lost-1");
        assertThat(notFound.getHeader("request-id")).isEqualTo(error.getJsonObject("innerError").getString("request-id"));
      });
      return client.delete("/api/graph/managedTenantOperationResults").send();
    }).compose(notAllowed -> {
      test.verify(() -> {
        assertThat(notAllowed.statusCode()).isEqualTo(405);
        assertThat(notAllowed.getHeader("Allow").split(", ")).containsExactlyInAnyOrder("GET", "POST");
        assertThat(notAllowed.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("methodNotAllowed");
      });
      return client.post("/api/graph/$metadata").send();
    }).map(notAllowed -> {
      test.verify(() -> {
        assertThat(notAllowed.statusCode()).isEqualTo(405);
        assertThat(notAllowed.getHeader("Allow")).isEqualTo("GET, HEAD");
      });
      return null;
    });
  }

  @Test
  void twoAuditSubscribersGetEveryEventAndAThousandConcurrentCreatesGiveAThousandLines(Vertx vertx, VertxTestContext test) {
    Path second = dataDir.resolve("second-audit");
    ServiceConfig config = config();
    ResultsService.start(vertx, config)
      .compose(service -> vertx.deployVerticle(new AuditVerticle(), new DeploymentOptions()
          .setConfig(AuditVerticle.config(second).put("acknowledge", false)))
        .compose(id -> host(vertx, service, false))
        .compose(server -> {
          WebClient client = client(vertx, server.actualPort());
          List<Future<HttpResponse<Buffer>>> creates = new ArrayList<>();
          for (int i = 0; i < 1000; i++) {
            creates.add(create(client, "/api/graph/managedTenantOperationResults"));
          }
          return Future.all(creates).compose(all -> eventually(vertx, () -> service.auditBacklog() == 0
            && AuditTrail.events(config.auditDir()).size() >= 1000 && AuditTrail.events(second).size() >= 1000))
            .compose(v -> vertx.timer(200))
            .map(v -> {
              test.verify(() -> {
                Set<String> created = new HashSet<>();
                creates.forEach(f -> {
                  assertThat(f.result().statusCode()).isEqualTo(201);
                  created.add(f.result().bodyAsJsonObject().getString("id"));
                });
                for (Path dir : List.of(config.auditDir(), second)) {
                  List<JsonObject> events = AuditTrail.events(dir);
                  assertThat(events).hasSize(1000);
                  assertThat(events.stream().map(e -> e.getString("eventId")).distinct()).hasSize(1000);
                  assertThat(AuditTrail.createdIds(dir)).containsExactlyInAnyOrderElementsOf(created);
                }
              });
              return v;
            });
        }).eventually(service::close))
      .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aCrashBetweenStoreAndAuditWriteLeavesNoGapAndNoDuplicate(Vertx vertx, VertxTestContext test) throws Exception {
    ServiceConfig config = config();
    // The previous process stored three records with their events, wrote one event to the trail, and died
    // before the trail confirmed anything.
    List<String> ids = List.of("r1", "r2", "r3");
    List<JsonObject> events = new ArrayList<>();
    OperationResultStore crashed = OperationResultStore.open(config.storeOptions());
    for (String id : ids) {
      JsonObject resource = TestService.body().put("id", id);
      JsonObject event = new JsonObject().put("eventId", "event-" + id).put("eventType", "created")
        .put("occurredDateTime", "2026-11-28T00:00:00.0000000Z").put("requestId", "x").put("clientRequestId", null)
        .put("resource", resource);
      crashed.insert(id, resource.toBuffer().getBytes(), Map.of(), "event-" + id, event.toBuffer().getBytes());
      events.add(event);
    }
    Files.createDirectories(config.auditDir());
    Files.writeString(config.auditDir().resolve("audit-2026-11-28-0001.jsonl"),
      events.get(0).encode() + "\n" + "{\"eventId\":\"half-writ", StandardCharsets.UTF_8);
    crashed.close();
    Files.write(config.store().dataDir().resolve(OperationResultStore.MAP_FILE + ".open"), new byte[0]);

    ResultsService.start(vertx, config)
      .compose(service -> eventually(vertx, () -> service.auditBacklog() == 0)
        .map(v -> {
          test.verify(() -> {
            assertThat(service.recovered()).isTrue();
            assertThat(AuditTrail.createdIds(config.auditDir())).containsExactlyInAnyOrderElementsOf(ids);
          });
          return v;
        })
        .eventually(service::close))
      .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aDeadAuditSinkNeverFailsCreatesAndTheTrailCatchesUp(Vertx vertx, VertxTestContext test) {
    ServiceConfig config = config();
    ResultsService.start(vertx, config).compose(service -> {
      // The service's own audit writer is its only deployment here: stop it, as if its disk had died.
      List<Future<Void>> undeployed = new ArrayList<>();
      vertx.deploymentIDs().forEach(id -> undeployed.add(vertx.undeploy(id)));
      return Future.all(undeployed).compose(v -> host(vertx, service, false)).compose(server -> {
        WebClient client = client(vertx, server.actualPort());
        List<Future<HttpResponse<Buffer>>> creates = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
          creates.add(create(client, "/api/graph/managedTenantOperationResults"));
        }
        return Future.all(creates).compose(all -> {
          test.verify(() -> {
            creates.forEach(f -> assertThat(f.result().statusCode()).isEqualTo(201));
            assertThat(service.auditBacklog()).isEqualTo(300);
          });
          return vertx.deployVerticle(new AuditVerticle(), new DeploymentOptions().setConfig(AuditVerticle.config(config.auditDir())));
        }).compose(id -> eventually(vertx, () -> service.auditBacklog() == 0)).map(v -> {
          test.verify(() -> {
            List<String> audited = AuditTrail.createdIds(config.auditDir());
            assertThat(audited).hasSize(300).doesNotHaveDuplicates();
            creates.forEach(f -> assertThat(audited).contains(f.result().bodyAsJsonObject().getString("id")));
          });
          return v;
        });
      }).eventually(service::close);
    }).onComplete(test.succeedingThenComplete());
  }

  @Test
  void aFullOutboxAnswers503AndWritesResumeOnceTheTrailCatchesUp(Vertx vertx, VertxTestContext test) {
    ServiceConfig config = config().with(new JsonObject().put("audit", new JsonObject().put("outboxEntries", 100)));
    ResultsService.start(vertx, config).compose(service -> {
      List<Future<Void>> undeployed = new ArrayList<>();
      vertx.deploymentIDs().forEach(id -> undeployed.add(vertx.undeploy(id)));
      return Future.all(undeployed).compose(v -> host(vertx, service, false)).compose(server -> {
        WebClient client = client(vertx, server.actualPort());
        return fillUntil503(client, 0).compose(count -> {
          test.verify(() -> assertThat(count).isGreaterThanOrEqualTo(100));
          long stored = service.size();
          return vertx.deployVerticle(new AuditVerticle(), new DeploymentOptions().setConfig(AuditVerticle.config(config.auditDir())))
            .compose(id -> eventually(vertx, () -> service.auditBacklog() == 0))
            .compose(v -> create(client, "/api/graph/managedTenantOperationResults"))
            .compose(after -> eventually(vertx, () -> service.auditBacklog() == 0).map(v -> {
              test.verify(() -> {
                assertThat(after.statusCode()).isEqualTo(201);
                assertThat(service.size()).isEqualTo(stored + 1);
                assertThat(AuditTrail.createdIds(config.auditDir())).hasSize((int) stored + 1).doesNotHaveDuplicates();
              });
              return after;
            }));
        });
      }).eventually(service::close);
    }).onComplete(test.succeedingThenComplete());
  }

  private Future<Integer> fillUntil503(WebClient client, int created) {
    return create(client, "/api/graph/managedTenantOperationResults").compose(response -> {
      if (response.statusCode() == 503) {
        assertThat(response.getHeader("retry-after")).isNotBlank();
        assertThat(response.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("serviceUnavailable");
        return Future.succeededFuture(created);
      }
      assertThat(response.statusCode()).isEqualTo(201);
      if (created > 20_000) {
        return Future.failedFuture("the outbox never filled");
      }
      return fillUntil503(client, created + 1);
    });
  }

}
