package io.mtor.domain;

import io.vertx.core.json.Json;

import java.nio.charset.StandardCharsets;

/**
 * Reads one top-level scalar from a stored entity's bytes without parsing the rest. The service writes
 * that JSON itself: every property is a top-level scalar but {@code result}, and {@code "name":} cannot
 * occur inside a string value (its quotes would be escaped there).
 */
public final class StoredJson {

  private StoredJson() {
  }

  /** The value of a top-level string, boolean or null property; null if absent. */
  public static Object scalar(byte[] json, String name) {
    byte[] needle = ("\"" + name + "\":").getBytes(StandardCharsets.UTF_8);
    int at = indexOf(json, needle);
    if (at < 0) {
      return null;
    }
    int start = at + needle.length;
    switch (json[start]) {
      case '"': {
        int end = start + 1;
        boolean escaped = false;
        while (json[end] != '"') {
          if (json[end] == '\\') {
            escaped = true;
            end++;
          }
          end++;
        }
        return escaped ? Json.decodeValue(new String(json, start, end + 1 - start, StandardCharsets.UTF_8))
          : new String(json, start + 1, end - start - 1, StandardCharsets.UTF_8);
      }
      case 't':
        return Boolean.TRUE;
      case 'f':
        return Boolean.FALSE;
      default:
        return null;
    }
  }

  /** {@link #scalar} of a string property. */
  public static String string(byte[] json, String name) {
    return scalar(json, name) instanceof String text ? text : null;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
