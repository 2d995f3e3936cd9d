package io.mtor.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchingStderrAppenderTest {

  /** Records each write call the appender makes. */
  private static final class Writes extends OutputStream {
    final List<String> calls = new ArrayList<>();

    @Override
    public synchronized void write(int b) {
      calls.add(String.valueOf((char) b));
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
      calls.add(new String(bytes, offset, length, StandardCharsets.UTF_8));
    }

    synchronized String text() {
      return String.join("", calls);
    }
  }

  private static Logger logger(BatchingStderrAppender appender, long flushMillis) {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    context.start();
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%level %msg%n");
    encoder.start();
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.setFlushMillis(flushMillis);
    appender.start();
    Logger logger = context.getLogger("test");
    logger.addAppender(appender);
    assertTrue(appender.isStarted(), () -> context.getStatusManager().getCopyOfStatusList().toString());
    return logger;
  }

  @Test
  void infoLinesWaitForTheFlushWarningsAndStopWriteAtOnce() {
    Writes target = new Writes();
    BatchingStderrAppender appender = new BatchingStderrAppender(target);
    Logger logger = logger(appender, 60_000);
    logger.info("one");
    logger.info("two");
    assertEquals("", target.text(), "info lines wait in the buffer");
    logger.warn("three");
    assertEquals("INFO one\nINFO two\nWARN three\n", target.text(), "a warning writes everything before it too");
    assertEquals(1, target.calls.size(), "one write for the batch");
    logger.info("four");
    appender.stop();
    assertEquals("INFO one\nINFO two\nWARN three\nINFO four\n", target.text(), "stopping writes the rest");
  }

  @Test
  void linesShowUpWithinTheFlushInterval() throws InterruptedException {
    Writes target = new Writes();
    BatchingStderrAppender appender = new BatchingStderrAppender(target);
    Logger logger = logger(appender, 20);
    logger.info("soon");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (target.text().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals("INFO soon\n", target.text());
    appender.stop();
  }

  @Test
  void manyLinesGoOutInFewWritesAndNoLineIsSplit() {
    Writes target = new Writes();
    BatchingStderrAppender appender = new BatchingStderrAppender(target);
    Logger logger = logger(appender, 60_000);
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 5_000; i++) {
      String message = "line " + i + " " + "x".repeat(i % 300);
      logger.info(message);
      expected.append("INFO ").append(message).append('\n');
    }
    appender.stop();
    assertEquals(expected.toString(), target.text());
    assertTrue(target.calls.size() < 50, "batched writes, not one per line: " + target.calls.size());
    target.calls.forEach(call -> assertTrue(call.endsWith("\n"), "a write ends at a line's end"));
  }

  @Test
  void stoppingLeavesTheTargetOpen() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream() {
      @Override
      public void close() {
        throw new AssertionError("the appender closed the process's stderr");
      }
    };
    BatchingStderrAppender appender = new BatchingStderrAppender(bytes);
    Logger logger = logger(appender, 60_000);
    logger.info("last");
    appender.stop();
    assertFalse(appender.isStarted());
    assertEquals("INFO last\n", bytes.toString(StandardCharsets.UTF_8));
  }
}
