package io.mtor.api;

import io.mtor.TestService;
import io.mtor.events.ResultEvents;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A program in any language subscribes through the TCP bridge, speaking its frame format by hand. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BridgeTest {

  @TempDir
  Path dataDir;

  static void send(DataOutputStream out, JsonObject frame) throws IOException {
    byte[] json = frame.encode().getBytes(StandardCharsets.UTF_8);
    out.writeInt(json.length);
    out.write(json);
    out.flush();
  }

  static JsonObject receive(DataInputStream in) throws IOException {
    byte[] json = new byte[in.readInt()];
    in.readFully(json);
    return new JsonObject(new String(json, StandardCharsets.UTF_8));
  }

  @Test
  void aRawTcpClientReceivesCreatedEventsAndCannotPublish(Vertx vertx) throws Exception {
    int bridgePort;
    try (ServerSocket free = new ServerSocket(0)) {
      bridgePort = free.getLocalPort();
    }
    ServiceConfig config = TestService.config(dataDir)
      .with(new JsonObject().put("bridge", new JsonObject().put("enabled", true).put("port", bridgePort)));
    TestService service = TestService.start(vertx, config).await();
    AtomicInteger injected = new AtomicInteger();
    vertx.eventBus().consumer(ResultEvents.CREATED, m -> {
      if (((JsonObject) m.body()).containsKey("forged")) {
        injected.incrementAndGet();
      }
    }).completion().await();
    try (Socket socket = new Socket("127.0.0.1", bridgePort)) {
      socket.setSoTimeout(10_000);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      DataInputStream in = new DataInputStream(socket.getInputStream());
      send(out, new JsonObject().put("type", "register").put("address", ResultEvents.CREATED));
      Thread.sleep(200);
      JsonObject created = service.client.post("/managedTenantOperationResults")
        .putHeader("content-type", "application/json").sendJsonObject(TestService.body()).await().bodyAsJsonObject();

      JsonObject frame = receive(in);
      assertThat(frame.getString("type")).isEqualTo("message");
      assertThat(frame.getString("address")).isEqualTo(ResultEvents.CREATED);
      assertThat(frame.getJsonObject("body").getJsonObject("resource").getString("id")).isEqualTo(created.getString("id"));
      assertThat(frame.getJsonObject("body").getString("eventType")).isEqualTo("created");

      send(out, new JsonObject().put("type", "publish").put("address", ResultEvents.CREATED)
        .put("body", new JsonObject().put("forged", true)));
      JsonObject refused = receive(in);
      assertThat(refused.getString("type")).isEqualTo("err");
      assertThat(refused.getString("message")).isEqualTo("access_denied");
      send(out, new JsonObject().put("type", "register").put("address", ResultEvents.AUDIT_WRITTEN));
      assertThat(receive(in).getString("message")).isEqualTo("access_denied");
    }
    Thread.sleep(200);
    assertThat(injected.get()).isZero();
    service.stop().await();
  }
}
