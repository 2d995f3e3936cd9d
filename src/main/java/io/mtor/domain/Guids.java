package io.mtor.domain;

/** The one definition of a GUID as the service accepts it: 8-4-4-4-12 hexadecimal digits, either case. */
public final class Guids {

  /** A GUID as a regular expression, without anchors (for {@code matches()}, or inside a larger pattern). */
  public static final String PATTERN =
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

  private Guids() {
  }

  /** Whether {@code s} is exactly a GUID ({@link #PATTERN}, nothing before or after), checked without a regex. */
  public static boolean isGuid(String s) {
    if (s.length() != 36) {
      return false;
    }
    for (int i = 0; i < 36; i++) {
      char c = s.charAt(i);
      boolean ok = i == 8 || i == 13 || i == 18 || i == 23 ? c == '-'
        : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
