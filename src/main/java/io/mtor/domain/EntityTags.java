package io.mtor.domain;

/** {@code If-Match} / {@code If-None-Match} against an entity tag, with weak comparison (RFC 9110 §8.8.3.2). */
public final class EntityTags {

  private EntityTags() {
  }

  /** Whether the header (a list of tags, or {@code *}) names the current tag; false when there is no header. */
  public static boolean matches(String header, String current) {
    if (header == null) {
      return false;
    }
    String opaque = opaque(current);
    for (String candidate : header.split(",")) {
      String tag = candidate.trim();
      if (tag.equals("*") || opaque(tag).equals(opaque)) {
        return true;
      }
    }
    return false;
  }

  private static String opaque(String tag) {
    return tag.startsWith("W/") ? tag.substring(2) : tag;
  }
}
