package io.mtor.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Logback's console appender on stderr, but writing in batches: lines gather in a 64 KiB buffer that is
 * written when it fills, every {@code flushMillis} (20 by default), at once for a WARN or ERROR line, and
 * when logging stops. The console appender makes one write system call per line, a cost every request would
 * pay; with batches a line shows up at most {@code flushMillis} late (and a
 * {@code kill -9} can take the last {@code flushMillis} of request lines with it: the audit trail, not the
 * log, is the record of changes). Lines are never split between writes. Configured in the standalone service's
 * {@code src/main/standalone/logback-json.xml} and {@code logback-text.xml}.
 */
public final class BatchingStderrAppender extends OutputStreamAppender<ILoggingEvent> {

  private final OutputStream target;
  private long flushMillis = 20;
  private ScheduledExecutorService flusher;

  public BatchingStderrAppender() {
    this(new FileOutputStream(FileDescriptor.err));
  }

  /** An appender writing to {@code target} instead of stderr (tests). */
  BatchingStderrAppender(OutputStream target) {
    this.target = target;
  }

  /** How long a line may wait in the buffer, in milliseconds. */
  public void setFlushMillis(long flushMillis) {
    this.flushMillis = flushMillis;
  }

  @Override
  public void start() {
    if (flushMillis < 1) {
      addError("flushMillis must be at least 1, not " + flushMillis);
      return;
    }
    setImmediateFlush(false);
    // Closing the appender flushes but keeps the process's stderr open for whatever writes after it.
    setOutputStream(new BufferedOutputStream(new FilterOutputStream(target) {
      @Override
      public void write(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    }, 1 << 16));
    super.start();
    flusher = Executors.newSingleThreadScheduledExecutor(task -> {
      Thread thread = new Thread(task, "log-flusher");
      thread.setDaemon(true);
      return thread;
    });
    flusher.scheduleWithFixedDelay(this::flush, flushMillis, flushMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  protected void subAppend(ILoggingEvent event) {
    super.subAppend(event);
    if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
      flush();
    }
  }

  /** Writes what the buffer holds. */
  private void flush() {
    streamWriteLock.lock();
    try {
      if (getOutputStream() != null) {
        getOutputStream().flush();
      }
    } catch (IOException e) {
      addError("Could not write the log to stderr", e);
    } finally {
      streamWriteLock.unlock();
    }
  }

  @Override
  public void stop() {
    if (flusher != null) {
      flusher.shutdownNow();
    }
    super.stop(); // closes the buffer, which writes what it holds
  }
}
