package io.mtor.app;

import io.mtor.TestService;
import io.mtor.domain.ResultException;
import io.mtor.events.ResultEvents;
import io.mtor.store.OperationResultStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What cluster mode relies on: a command survives its JSON form unchanged, and applying the same commands in the same
 * order to two stores (two nodes) gives byte-identical records, the same answers and the same events, numbered by
 * their log index; a command whose effect is already stored is recognised.
 */
class ReplicatedApplyTest {

  @TempDir
  Path dirA;
  @TempDir
  Path dirB;

  private Vertx vertx;
  private OperationResultStore storeA;
  private OperationResultStore storeB;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    storeA = TestService.openStore(dirA);
    storeB = TestService.openStore(dirB);
  }

  @AfterEach
  void close() throws Exception {
    storeA.close();
    storeB.close();
    vertx.close().await();
  }


  private ResultsApplication application(OperationResultStore store) {
    return new ResultsApplication(store, vertx.eventBus(), Clock.systemUTC(), false, Duration.ofHours(1));
  }

  @Test
  void commandsSurviveTheirJsonForm() {
    ResultsApplication app = application(storeA);
    ResultsApplication.Request request = new ResultsApplication.Request(null, "request-1", "client-1");
    List<Command> commands = List.of(
      app.prepareCreate(request, TestService.body(), null),
      app.prepareCreate(request, TestService.body(), "key:abc"),
      app.prepareUpdate(request, "some-id", "W/\"1\"", new JsonObject().put("isSuccess", false)),
      new Command.Delete("some-id", "some-id", null, new Command.Change("e", "2026-11-30T00:00:00.0000000Z", "r", null,
        "{\"tenantId\":\"t\"}")));
    for (Command command : commands) {
      String encoded = Command.toJson(command).encode();
      assertThat(Command.fromJson(new JsonObject(encoded))).isEqualTo(command);
    }
  }

  @Test
  void theSameLogAppliedOnTwoNodesGivesIdenticalRecordsAnswersAndEvents() {
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<Buffer>consumer(ResultEvents.AUDIT_TRAIL, m -> events.add(m.body().toJsonObject()));
    ResultsApplication proposer = application(storeA);
    ResultsApplication.Request request = new ResultsApplication.Request(null, "request-1", null);
    Command.Create first = proposer.prepareCreate(request, TestService.body(), null);
    String firstId = new JsonObject(first.entity()).getString("id");
    Command.Create second = proposer.prepareCreate(request, TestService.body(), null);
    String secondId = new JsonObject(second.entity()).getString("id");
    List<String> log = new ArrayList<>();
    for (Command command : List.of(first, second,
      proposer.prepareUpdate(request, firstId, null, new JsonObject().put("executionInfo", "again")),
      proposer.prepareCreate(request, TestService.body().put("id", secondId), null),
      new Command.Delete(secondId, secondId, "W/\"stale\"", first.change()),
      new Command.Delete(secondId, secondId, null, second.change()))) {
      log.add(Command.toJson(command).encode());
    }
    List<String> answersA = replay(application(storeA), log);
    List<String> answersB = replay(application(storeB), log);

    assertThat(answersA).isEqualTo(answersB)
      .containsExactly("201", "201", "200", "CONFLICT", "PRECONDITION_FAILED", "200");
    assertThat(storeA.get(firstId)).isEqualTo(storeB.get(firstId)).isNotNull();
    assertThat(storeA.get(secondId)).isNull();
    assertThat(storeB.get(secondId)).isNull();
    long deadline = System.currentTimeMillis() + 5_000;
    while (events.size() < 8 && System.currentTimeMillis() < deadline) {
      Thread.onSpinWait();
    }
    // Four changes on each node, numbered by their log index, the same on both.
    assertThat(events).hasSize(8);
    assertThat(events.subList(0, 4)).isEqualTo(events.subList(4, 8));
    assertThat(events.subList(0, 4).stream().map(e -> e.getLong("sequence"))).containsExactly(1L, 2L, 3L, 6L);
  }

  @Test
  void aCommandAlreadyInTheStoreIsRecognised() {
    ResultsApplication app = application(storeA);
    ResultsApplication.Request request = new ResultsApplication.Request(null, "request-1", null);
    Command.Create create = app.prepareCreate(request, TestService.body(), null);
    String id = new JsonObject(create.entity()).getString("id");
    assertThat(app.alreadyApplied(create)).isNull();
    app.apply(create, 1);
    assertThat(app.alreadyApplied(create)).isNotNull();
    Command.Update update = app.prepareUpdate(request, id, null, new JsonObject().put("executionInfo", "changed"));
    assertThat(app.alreadyApplied(update)).isNull();
    app.apply(update, 2);
    assertThat(app.alreadyApplied(update)).isNotNull();
  }

  private static List<String> replay(ResultsApplication app, List<String> log) {
    List<String> answers = new ArrayList<>();
    long index = 0;
    for (String entry : log) {
      index++;
      Command command = Command.fromJson(new JsonObject(entry));
      try {
        app.apply(command, index);
        answers.add(command instanceof Command.Create ? "201" : "200");
      } catch (ResultException e) {
        answers.add(e.kind().name());
      }
    }
    return answers;
  }
}
