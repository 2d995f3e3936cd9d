package io.mtor.store;

import net.openhft.chronicle.algo.hashing.LongHashFunction;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * An event in the outbox: written before its record, removed once the audit trail has it.
 *
 * @param eventId         the event's id (the outbox key)
 * @param sequence        order of writing within the store's life
 * @param writtenAtMillis when it was written (for redelivery of events the audit trail has not confirmed)
 * @param recordId        the record the event is about
 * @param recordHash      xxHash64 of the record's bytes once the write is done ({@link #ABSENT} for a
 *                        delete); at open, an event whose record does not hash to it was never committed
 * @param event           the event payload, UTF-8 JSON
 * @param points          the pseudo-properties (idempotency keys) a create indexes with its record, which the
 *                        index takes in the transaction after the record: after a crash between the two, the
 *                        event restores them (empty: none)
 */
public record PendingEvent(String eventId, long sequence, long writtenAtMillis, String recordId,
                           long recordHash, byte[] event, Map<String, String> points) {

  /** The hash of "no record". */
  static final long ABSENT = 0;

  static int averageSize(int averageRecordBytes) {
    return 24 + 36 + averageRecordBytes + 320 + 160;
  }

  /** The hash a record's bytes must have for an event to count as committed. */
  static long hash(byte[] record) {
    if (record == null) {
      return ABSENT;
    }
    long hash = LongHashFunction.xx_r39().hashBytes(record);
    return hash == ABSENT ? 1 : hash;
  }

  /**
   * {@code [sequence][written at][record hash][id length][id][points][event]}; the id length is negative when
   * points follow the id ({@link Pairs}): events written before points were have none.
   */
  byte[] encode() {
    byte[] id = recordId.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(8 + 8 + 8 + 4 + id.length + event.length)
      .putLong(sequence).putLong(writtenAtMillis).putLong(recordHash)
      .putInt(points.isEmpty() ? id.length : -id.length).put(id);
    if (!points.isEmpty()) {
      out = Pairs.room(Pairs.put(out, points), event.length);
    }
    out.put(event);
    return out.position() == out.capacity() ? out.array() : Arrays.copyOf(out.array(), out.position());
  }

  static PendingEvent decode(String eventId, byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    long sequence = buffer.getLong();
    long writtenAt = buffer.getLong();
    long recordHash = buffer.getLong();
    int idLength = buffer.getInt();
    byte[] id = new byte[Math.abs(idLength)];
    buffer.get(id);
    Map<String, String> points = idLength < 0 ? Pairs.read(buffer) : Map.of();
    byte[] event = Arrays.copyOfRange(bytes, buffer.position(), bytes.length);
    return new PendingEvent(eventId, sequence, writtenAt, new String(id, StandardCharsets.UTF_8), recordHash, event,
      points);
  }
}
