package io.mtor.http;

import io.mtor.domain.ResultException;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bounds on list queries, through a real HTTP server whose one route runs a query that reads until it is
 * stopped: how many run at once per caller and in the process, and that a query stops when its budget ends, when
 * its client leaves, and when the service stops.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ScansTest {

  Vertx vertx;
  Scans scans;
  HttpServer server;
  /** Why each query ended, by the name its request gave. */
  final Map<String, Scans.Budget.Reason> ended = new ConcurrentHashMap<>();
  final CountDownLatch endedOne = new CountDownLatch(1);
  volatile CountDownLatch started = new CountDownLatch(0);

  void start(int maxScans, int perCaller, long budgetMillis) {
    vertx = Vertx.vertx();
    scans = new Scans(vertx, maxScans, perCaller, budgetMillis);
    Router router = Router.router(vertx);
    router.get("/scan/:name").handler(ctx -> {
      String name = ctx.pathParam("name");
      scans.run(ctx, budget -> {
        started.countDown();
        try {
          while (true) {
            budget.check();
            Thread.onSpinWait();
          }
        } catch (Scans.Stopped stopped) {
          ended.put(name, stopped.reason());
          endedOne.countDown();
          throw stopped;
        }
      }).onComplete(done -> {
        if (done.failed() && done.cause() instanceof ResultException e) {
          ctx.response().setStatusCode(e.kind() == ResultException.Kind.THROTTLED ? 429 : 503)
            .putHeader("Retry-After", "1").end();
        } else {
          ctx.response().setStatusCode(done.succeeded() ? 200 : 400).end();
        }
      });
    });
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
  }

  @AfterEach
  void stop() {
    if (vertx != null) {
      vertx.close().await();
    }
  }

  /** Sends a request on a socket of its own and leaves it open; the caller closes it. */
  Socket open(String name) throws Exception {
    Socket socket = new Socket("127.0.0.1", server.actualPort());
    socket.getOutputStream().write(("GET /scan/" + name + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
      .getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return socket;
  }

  static String status(Socket socket) throws Exception {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\r') {
      line.append((char) c);
    }
    return line.toString();
  }

  void awaitRunning(int count) throws InterruptedException {
    while (scans.running() < count) {
      Thread.sleep(5);
    }
  }

  void awaitIdle() throws InterruptedException {
    while (scans.running() > 0) {
      Thread.sleep(5);
    }
  }

  @Test
  void aQueryStopsWhenItsBudgetEnds() throws Exception {
    start(4, 2, 200);
    try (Socket socket = open("slow")) {
      assertThat(status(socket)).isEqualTo("HTTP/1.1 400 Bad Request");
    }
    assertThat(ended).containsEntry("slow", Scans.Budget.Reason.BUDGET);
    awaitIdle();
  }

  @Test
  void aQueryStopsWhenItsClientLeaves() throws Exception {
    start(4, 2, 600_000);
    started = new CountDownLatch(1);
    Socket socket = open("left");
    started.await();
    socket.close();
    assertThat(endedOne.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ended).containsEntry("left", Scans.Budget.Reason.CLIENT_GONE);
    awaitIdle();
  }

  @Test
  void aCallerMayRunOnlyItsShareAtOnce() throws Exception {
    start(8, 2, 600_000);
    Socket first = open("1");
    Socket second = open("2");
    awaitRunning(2);
    try (Socket third = open("3")) {
      assertThat(status(third)).isEqualTo("HTTP/1.1 429 Too Many Requests");
    }
    first.close();
    second.close();
    awaitIdle();
    // With its earlier queries gone, the caller may run again.
    Socket again = open("4");
    awaitRunning(1);
    again.close();
    awaitIdle();
    assertThat(ended).doesNotContainKey("3");
  }

  @Test
  void theProcessRunsOnlySoManyAtOnce() throws Exception {
    start(2, 8, 600_000);
    List<Socket> running = List.of(open("1"), open("2"));
    awaitRunning(2);
    try (Socket third = open("3")) {
      assertThat(status(third)).isEqualTo("HTTP/1.1 503 Service Unavailable");
    }
    for (Socket socket : running) {
      socket.close();
    }
    awaitIdle();
  }

  @Test
  void closingStopsEveryRunningQuery() throws Exception {
    start(4, 4, 600_000);
    started = new CountDownLatch(3);
    List<Socket> sockets = List.of(open("1"), open("2"), open("3"));
    started.await();
    scans.close().await();
    awaitIdle();
    assertThat(ended).hasSize(3);
    assertThat(ended.values()).containsOnly(Scans.Budget.Reason.SHUTDOWN);
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
