package io.mtor.store;

import net.openhft.chronicle.map.ChronicleMap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Persisted secondary indexes: for each indexed property and value, the ids of the records that have it,
 * in a Chronicle Map of their own. A value's newest ids (up to {@value #HEAD_IDS}) live under the key
 * {@code property \u0001 value}, with the number of older chunks; full chunks move to
 * {@code property \u0001 value \u0001 n}. So an insert rewrites at most one small value, whether a value has
 * one record (a request id) or a million (a tenant).
 *
 * <p>Callers add an id before writing its record and remove it after removing the record: a crash in
 * between leaves an id too many, never one too few, and readers check every candidate anyway.
 */
final class SecondaryIndex implements AutoCloseable {

  static final int HEAD_IDS = 16;
  private static final char SEPARATOR = '\u0001';

  private final ChronicleMap<String, byte[]> map;
  private final Object[] stripes = new Object[256];

  SecondaryIndex(ChronicleMap<String, byte[]> map) {
    this.map = map;
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Object();
    }
  }

  private Object stripe(String key) {
    return stripes[(key.hashCode() & 0x7fffffff) % stripes.length];
  }

  static String key(String property, String value) {
    return property + SEPARATOR + value;
  }

  void add(String property, String value, String id) {
    String key = key(property, value);
    byte[] idBytes = id.getBytes(StandardCharsets.UTF_8);
    synchronized (stripe(key)) {
      // On the bytes, without decoding the ids: this runs for every index of every create.
      byte[] head = map.get(key);
      int chunks = head == null ? 0 : ByteBuffer.wrap(head).getInt();
      if (head == null || head.length == 4) {
        map.put(key, Head.bytes(chunks, idBytes));
      } else if (count(head) >= HEAD_IDS) {
        map.put(key + SEPARATOR + (chunks + 1), Arrays.copyOfRange(head, 4, head.length));
        map.put(key, Head.bytes(chunks + 1, idBytes));
      } else {
        byte[] grown = Arrays.copyOf(head, head.length + 1 + idBytes.length);
        grown[head.length] = '\n';
        System.arraycopy(idBytes, 0, grown, head.length + 1, idBytes.length);
        map.put(key, grown);
      }
    }
  }

  /** The number of ids in a head's bytes (after its 4-byte chunk count, joined by newlines). */
  private static int count(byte[] head) {
    int ids = 1;
    for (int i = 4; i < head.length; i++) {
      if (head[i] == '\n') {
        ids++;
      }
    }
    return ids;
  }

  void remove(String property, String value, String id) {
    String key = key(property, value);
    synchronized (stripe(key)) {
      Head head = Head.decode(map.get(key));
      if (head.ids.remove(id)) {
        if (head.ids.isEmpty() && head.chunks == 0) {
          map.remove(key);
        } else {
          map.put(key, head.encode());
        }
        return;
      }
      for (int chunk = head.chunks; chunk >= 1; chunk--) {
        String chunkKey = key + SEPARATOR + chunk;
        List<String> ids = split(map.get(chunkKey));
        if (ids.remove(id)) {
          map.put(chunkKey, join(ids));
          return;
        }
      }
    }
  }

  /** The ids indexed under the value, oldest first (possibly with ids whose records are gone). */
  List<String> ids(String property, String value) {
    String key = key(property, value);
    synchronized (stripe(key)) {
      Head head = Head.decode(map.get(key));
      List<String> ids = new ArrayList<>();
      for (int chunk = 1; chunk <= head.chunks; chunk++) {
        ids.addAll(split(map.get(key + SEPARATOR + chunk)));
      }
      ids.addAll(head.ids);
      return ids;
    }
  }

  ChronicleMap<String, byte[]> map() {
    return map;
  }

  private static byte[] join(List<String> ids) {
    return String.join("\n", ids).getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> split(byte[] bytes) {
    List<String> ids = new ArrayList<>();
    if (bytes != null && bytes.length > 0) {
      for (String id : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
        ids.add(id);
      }
    }
    return ids;
  }

  private record Head(int chunks, List<String> ids) {
    static Head decode(byte[] bytes) {
      if (bytes == null) {
        return new Head(0, new ArrayList<>());
      }
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      int chunks = buffer.getInt();
      byte[] rest = new byte[buffer.remaining()];
      buffer.get(rest);
      return new Head(chunks, split(rest));
    }

    byte[] encode() {
      return bytes(chunks, join(ids));
    }

    /** A head's stored form: the number of older chunks, then its ids joined by newlines. */
    static byte[] bytes(int chunks, byte[] joinedIds) {
      return ByteBuffer.allocate(4 + joinedIds.length).putInt(chunks).put(joinedIds).array();
    }
  }

  @Override
  public void close() {
    map.close();
  }
}
