package io.mtor.http;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Strict checks of what a request body claims to be and is. */
final class MediaTypes {

  static final String JSON = "application/json";

  private MediaTypes() {
  }

  /**
   * Whether a {@code Content-Type} names JSON in UTF-8: {@code application/json} in any case (media types are
   * case-insensitive, RFC 9110 §8.3.1), with no parameter but an optional {@code charset} of UTF-8. Not
   * {@code application/jsonx}, not another charset.
   */
  static boolean isJsonUtf8(String contentType) {
    String[] parts = contentType.split(";", -1);
    if (!parts[0].trim().equalsIgnoreCase(JSON)) {
      return false;
    }
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].trim();
      int equals = parameter.indexOf('=');
      if (equals < 0) {
        if (!parameter.isEmpty()) {
          return false;
        }
        continue;
      }
      String name = parameter.substring(0, equals).trim().toLowerCase(Locale.ROOT);
      String value = parameter.substring(equals + 1).trim();
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      if (!name.equals("charset") || !(value.equalsIgnoreCase("utf-8") || value.equalsIgnoreCase("utf8"))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The offset of the first byte of {@code bytes} that does not belong to well-formed UTF-8 (overlong forms,
   * surrogates and truncated sequences included), or -1 if they are all well-formed.
   */
  static int firstNonUtf8(byte[] bytes) {
    int i = 0;
    while (i < bytes.length && bytes[i] >= 0) {
      i++;
    }
    if (i == bytes.length) {
      return -1;
    }
    ByteBuffer in = ByteBuffer.wrap(bytes, i, bytes.length - i);
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer out = CharBuffer.allocate(Math.min(bytes.length - i, 4096));
    while (true) {
      CoderResult result = decoder.decode(in, out, true);
      if (result.isError()) {
        return in.position();
      }
      if (result.isUnderflow()) {
        result = decoder.flush(out);
        return result.isError() ? in.position() : -1;
      }
      out.clear();
    }
  }
}
