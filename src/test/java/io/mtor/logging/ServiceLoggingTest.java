package io.mtor.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The standalone service's log lines: LOG_FORMAT, LOG_LEVEL, and what a JSON line holds. */
class ServiceLoggingTest {

  private static LoggingEvent requestEvent(LoggerContext context, Throwable thrown) {
    Logger logger = context.getLogger("io.mtor.requests");
    LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.INFO, "request", thrown, null);
    event.setThreadName("vert.x-eventloop-thread-1");
    event.addKeyValuePair(new KeyValuePair("requestId", "6d4676d1-2068-4ac3-b8a2-61813b8fa171"));
    event.addKeyValuePair(new KeyValuePair("method", "GET"));
    event.addKeyValuePair(new KeyValuePair("status", 503));
    event.addKeyValuePair(new KeyValuePair("durationMicros", 412L));
    return event;
  }

  @Test
  void aJsonLineIsOneFlatObjectWithTypedFields() {
    try (ServiceLogging logging = ServiceLogging.configure(Map.of("LOG_FORMAT", "json"))) {
      assertThat(logging.appender).isInstanceOf(BatchingStderrAppender.class);
      String line = logging.line(requestEvent(logging.context, null));
      assertThat(line).endsWith("\n");
      assertThat(line.trim()).doesNotContain("\n");
      JsonObject json = new JsonObject(line);
      assertThat(json.fieldNames()).containsExactly("@timestamp", "level", "logger", "message", "thread",
        "requestId", "method", "status", "durationMicros");
      assertThat(json.getString("@timestamp")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      assertThat(json.getString("level")).isEqualTo("INFO");
      assertThat(json.getString("logger")).isEqualTo("io.mtor.requests");
      assertThat(json.getString("message")).isEqualTo("request");
      assertThat(json.getString("thread")).isEqualTo("vert.x-eventloop-thread-1");
      assertThat(json.getValue("status")).isEqualTo(503);
      assertThat(json.getValue("durationMicros")).isIn(412, 412L);
      assertThat(line).contains("\"status\":503,\"durationMicros\":412}");
    }
  }

  @Test
  void anExceptionIsAStackTraceStringOnTheSameLine() {
    try (ServiceLogging logging = ServiceLogging.configure(Map.of("LOG_FORMAT", "json"))) {
      String line = logging.line(requestEvent(logging.context, new IllegalStateException("store gone")));
      assertThat(line.trim()).doesNotContain("\n");
      JsonObject json = new JsonObject(line);
      assertThat(json.getString("stack_trace")).startsWith("java.lang.IllegalStateException: store gone")
        .contains("\n\tat io.mtor.logging.ServiceLoggingTest");
    }
  }

  @Test
  void logFormatTextPicksOneReadableLinePerEvent() {
    try (ServiceLogging logging = ServiceLogging.configure(Map.of("LOG_FORMAT", "text"))) {
      assertThat(logging.appender).isInstanceOf(BatchingStderrAppender.class);
      String line = logging.line(requestEvent(logging.context, null));
      assertThat(line).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[vert\\.x-eventloop-thread-1] io\\.mtor\\.requests"
        + " request requestId=\"6d4676d1-2068-4ac3-b8a2-61813b8fa171\" method=\"GET\" status=\"503\""
        + " durationMicros=\"412\"\n");
      Logger logger = logging.context.getLogger("io.mtor.Main");
      String plain = logging.line(new LoggingEvent(Logger.class.getName(), logger, Level.INFO, "Stopped", null, null));
      assertThat(plain).endsWith(" io.mtor.Main Stopped\n");
    }
  }

  @Test
  void withoutLogFormatTheLogIsJson() {
    assumeTrue(System.getenv("LOG_FORMAT") == null, "LOG_FORMAT is set in this environment");
    try (ServiceLogging logging = ServiceLogging.configure(Map.of())) {
      assertThat(logging.line(requestEvent(logging.context, null))).startsWith("{\"@timestamp\":");
      assertThat(logging.context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.INFO);
    }
  }

  @Test
  void anUnknownLogFormatFallsBackToJsonAndSaysSo() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try (ServiceLogging logging = ServiceLogging.configure(Map.of("LOG_FORMAT", "xml"))) {
      assertThat(logging.line(requestEvent(logging.context, null))).startsWith("{\"@timestamp\":");
    } finally {
      System.setErr(stderr);
    }
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("LOG_FORMAT=xml is neither json nor text: the log is JSON\n");
  }

  @Test
  void logLevelStillSetsTheLevel() {
    try (ServiceLogging logging = ServiceLogging.configure(Map.of("LOG_FORMAT", "TEXT", "LOG_LEVEL", "WARN"))) {
      assertThat(logging.context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.WARN);
      assertThat(logging.line(requestEvent(logging.context, null))).doesNotStartWith("{");
    }
  }
}
