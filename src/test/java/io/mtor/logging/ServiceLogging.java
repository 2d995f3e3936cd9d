package io.mtor.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The standalone service's {@code logback.xml} (src/main/standalone, on the test class path) configured into a
 * logger context of its own, as the fat jar configures it: what an operator's log shipper reads. Nothing is
 * logged through it; tests encode events with its appender's encoder.
 */
public final class ServiceLogging implements AutoCloseable {

  public final LoggerContext context;
  public final Appender<ILoggingEvent> appender;

  private ServiceLogging(LoggerContext context) {
    this.context = context;
    this.appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
  }

  /**
   * {@code variables} stand for the environment (LOG_FORMAT, LOG_LEVEL): logback reads a context property before
   * the environment.
   */
  public static ServiceLogging configure(Map<String, String> variables) {
    URL config = ServiceLogging.class.getResource("/logback.xml");
    if (config == null || !config.getPath().contains("test-classes")) {
      throw new IllegalStateException("the service's logback.xml is not on the test class path: " + config);
    }
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    variables.forEach(context::putProperty);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(config);
    } catch (JoranException e) {
      throw new IllegalStateException(e);
    }
    if (new StatusUtil(context).getHighestLevel(0) >= Status.WARN) {
      throw new IllegalStateException("logback.xml: " + context.getStatusManager().getCopyOfStatusList());
    }
    return new ServiceLogging(context);
  }

  public Encoder<ILoggingEvent> encoder() {
    return ((OutputStreamAppender<ILoggingEvent>) appender).getEncoder();
  }

  /** The bytes the service writes for {@code event}, as text. */
  public String line(ILoggingEvent event) {
    return new String(encoder().encode(event), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    context.stop();
  }
}
