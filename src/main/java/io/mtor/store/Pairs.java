package io.mtor.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Name/value pairs of strings as the store keeps them in its files (an index entry's state, an outbox event's
 * points): {@code [count: short] ([name length: short][name][value length: int][value])*}, UTF-8.
 */
final class Pairs {

  private Pairs() {
  }

  /** Writes {@code pairs} to {@code out}, grown as needed ({@link #room}); the buffer written to. */
  static ByteBuffer put(ByteBuffer out, Map<String, String> pairs) {
    out = room(out, 2);
    out.putShort((short) pairs.size());
    for (Map.Entry<String, String> pair : pairs.entrySet()) {
      byte[] name = pair.getKey().getBytes(StandardCharsets.UTF_8);
      byte[] value = pair.getValue().getBytes(StandardCharsets.UTF_8);
      out = room(out, 6 + name.length + value.length);
      out.putShort((short) name.length).put(name).putInt(value.length).put(value);
    }
    return out;
  }

  static Map<String, String> read(ByteBuffer in) {
    Map<String, String> pairs = new LinkedHashMap<>();
    for (int n = in.getShort(); n > 0; n--) {
      byte[] name = new byte[in.getShort()];
      in.get(name);
      byte[] value = new byte[in.getInt()];
      in.get(value);
      pairs.put(new String(name, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
    }
    return pairs;
  }

  /** {@code out}, or a copy of what it holds with room for {@code needed} more bytes. */
  static ByteBuffer room(ByteBuffer out, int needed) {
    if (out.remaining() >= needed) {
      return out;
    }
    ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + needed));
    bigger.put(out.array(), 0, out.position());
    return bigger;
  }
}
