package io.mtor.logging;

import ch.qos.logback.core.PropertyDefinerBase;

import java.util.Locale;

/**
 * The standalone service's {@code LOG_FORMAT}, for its {@code logback.xml}: which line format to include,
 * {@code json} (the default, also when empty) or {@code text}. Any other value falls back to {@code json} with a
 * line on stderr saying so: a typo neither silences the log nor stops the service.
 */
public final class LogFormat extends PropertyDefinerBase {

  private String format = "json";

  /** The value asked for ({@code ${LOG_FORMAT:-json}} in {@code logback.xml}). */
  public void setFormat(String format) {
    this.format = format;
  }

  @Override
  public String getPropertyValue() {
    String value = format == null ? "" : format.trim().toLowerCase(Locale.ROOT);
    if (value.isEmpty()) {
      return "json";
    }
    if (value.equals("text") || value.equals("json")) {
      return value;
    }
    // On stderr, not as a logback warning status: a warning makes logback print its whole start-up status.
    System.err.println("LOG_FORMAT=" + format + " is neither json nor text: the log is JSON");
    return "json";
  }
}
