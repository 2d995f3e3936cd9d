package io.mtor.store;

import net.openhft.chronicle.algo.hashing.LongHashFunction;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
 */
public record PendingEvent(String eventId, long sequence, long writtenAtMillis, String recordId,
                           long recordHash, byte[] event) {

  /** The hash of "no record". */
  static final long ABSENT = 0;

  static int averageSize(int averageRecordBytes) {
    return 24 + 36 + averageRecordBytes + 320;
  }

  /** The hash a record's bytes must have for an event to count as committed. */
  static long hash(byte[] record) {
    if (record == null) {
      return ABSENT;
    }
    long hash = LongHashFunction.xx_r39().hashBytes(record);
    return hash == ABSENT ? 1 : hash;
  }

  byte[] encode() {
    byte[] id = recordId.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + 8 + 8 + 4 + id.length + event.length)
      .putLong(sequence).putLong(writtenAtMillis).putLong(recordHash).putInt(id.length).put(id)
      .put(event).array();
  }

  static PendingEvent decode(String eventId, byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    long sequence = buffer.getLong();
    long writtenAt = buffer.getLong();
    long recordHash = buffer.getLong();
    byte[] id = new byte[buffer.getInt()];
    buffer.get(id);
    byte[] event = Arrays.copyOfRange(bytes, buffer.position(), bytes.length);
    return new PendingEvent(eventId, sequence, writtenAt, new String(id, StandardCharsets.UTF_8), recordHash, event);
  }
}
