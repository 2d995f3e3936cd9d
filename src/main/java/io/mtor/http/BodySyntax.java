package io.mtor.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.jackson.JacksonCodec;

import java.io.IOException;
import java.util.List;

/**
 * What a JSON request body must be before the contract looks at it, said precisely: UTF-8 (the offset of the first
 * byte that is not), one JSON value (the line and column where the syntax breaks), and no property named twice in
 * one object (the parser Vert.x decodes bodies with keeps the last of duplicates silently, so {@code
 * {"isSuccess":true,"isSuccess":false}} would be stored as {@code false} while a reader of the request may well take
 * it for {@code true}).
 *
 * <p>One streaming pass, with the parser Vert.x's own decoding uses ({@link JacksonCodec#createParser(Buffer)}: same
 * limits, same features) plus duplicate detection: tokens are checked, string values are skipped, not decoded.
 */
final class BodySyntax {

  /** The longest message a syntax error quotes from the parser (it may quote the body). */
  private static final int MAX_REASON = 200;

  private BodySyntax() {
  }

  /** A body that is not one well-formed JSON value in UTF-8, or names a property twice. */
  static final class Malformed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient List<GraphErrors.Detail> details;
    private final String target;

    Malformed(String message, String target, List<GraphErrors.Detail> details) {
      super(message, null, false, false);
      this.target = target;
      this.details = details;
    }

    /** The JSON pointer of the offending property, or null when the body as a whole is at fault. */
    String target() {
      return target;
    }

    List<GraphErrors.Detail> details() {
      return details;
    }
  }

  /**
   * @throws Malformed when the body is not UTF-8, not exactly one JSON value, or has a duplicate property
   */
  static void check(Buffer body, byte[] bytes) {
    int invalid = MediaTypes.firstNonUtf8(bytes);
    if (invalid >= 0) {
      String message = "The request body is not UTF-8: the byte at offset " + invalid + " (0x"
        + String.format("%02X", bytes[invalid] & 0xFF) + ") does not belong to a valid UTF-8 sequence.";
      throw new Malformed(message, null, List.of(new GraphErrors.Detail("invalidEncoding", message, null)));
    }
    JsonParser parser = JacksonCodec.createParser(body);
    boolean valueRead = false;
    try {
      parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      if (parser.nextToken() == null) {
        throw syntax("it holds no JSON value", parser.currentLocation());
      }
      parser.skipChildren();
      valueRead = true;
      if (parser.nextToken() != null) {
        throw syntax("more follows the JSON value", parser.currentTokenLocation());
      }
    } catch (JsonProcessingException e) {
      throw malformed(e, parser, valueRead);
    } catch (IOException e) {
      throw syntax("it cannot be read", null);
    } finally {
      try {
        parser.close();
      } catch (IOException e) {
        // reading from memory: nothing to release
      }
    }
  }

  private static Malformed malformed(JsonProcessingException e, JsonParser parser, boolean valueRead) {
    JsonLocation location = e.getLocation() != null ? e.getLocation() : parser.currentLocation();
    if (valueRead) {
      // Jackson reads on as if for another root value ("Unexpected close marker '}': expected ']'" for a stray '}').
      return syntax("more follows the JSON value", location);
    }
    if (e instanceof StreamConstraintsException) {
      // Nesting, number, string or name limits of the parser: the same ones Vert.x's decoding applies.
      String message = "The request body is refused" + at(location) + ": " + reason(e) + ".";
      return new Malformed(message, null, List.of(new GraphErrors.Detail("limitExceeded", message, null)));
    }
    String reason = reason(e);
    if (e instanceof JsonParseException && reason.startsWith("Duplicate field '")) {
      // The parser has just named the property again: its context points at it.
      String name = parser.getParsingContext().getCurrentName();
      String pointer = parser.getParsingContext().pathAsPointer().toString();
      String message = "The property '" + name + "' appears more than once in the request body" + at(location)
        + "; a property may be given once.";
      return new Malformed(message, pointer, List.of(new GraphErrors.Detail("duplicateProperty", message, pointer)));
    }
    return syntax(reason, location);
  }

  private static Malformed syntax(String reason, JsonLocation location) {
    String message = "The request body is not valid JSON" + at(location) + ": " + reason + ".";
    return new Malformed(message, null, List.of(new GraphErrors.Detail("invalidJson", message, null)));
  }

  private static String at(JsonLocation location) {
    return location == null || location.getLineNr() < 0 ? ""
      : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  /** The parser's own reason, without the location it appends (given separately) and bounded. */
  private static String reason(JsonProcessingException e) {
    String reason = e.getOriginalMessage();
    if (reason == null) {
      return "it is malformed";
    }
    int cut = reason.indexOf('\n');
    if (cut >= 0) {
      reason = reason.substring(0, cut);
    }
    // "(start marker at [Source: …; line: 1, column: 1])", "(for root starting at [Source: …])": given separately.
    int source = reason.indexOf("[Source:");
    if (source >= 0) {
      int open = reason.lastIndexOf(" (", source);
      reason = reason.substring(0, open >= 0 ? open : source);
    }
    // Jackson's settings are not the client's business: "…allowed (1000, from `StreamReadConstraints…()`)",
    // "Non-standard token 'NaN': enable `JsonReadFeature…` to allow".
    reason = reason.replaceAll(", from `[^`]*`", "").replaceAll(": enable `[^`]*` to allow", "").strip();
    if (reason.endsWith(".")) {
      reason = reason.substring(0, reason.length() - 1);
    }
    return reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "…" : reason;
  }
}
