package io.mtor.query;

/** Quoting of client input in error messages. */
final class Text {

  private static final int MAX = 60;

  private Text() {
  }

  /** The text in single quotes, shortened when long. */
  static String quote(String text) {
    return "'" + (text.length() > MAX ? text.substring(0, MAX) + "..." : text) + "'";
  }
}
