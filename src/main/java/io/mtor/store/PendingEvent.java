package io.mtor.store;

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
 * @param expectedRecord  the record's bytes once the write is done ({@code null} for a delete); at open, an
 *                        event whose record does not hold them was never committed
 * @param event           the event payload, UTF-8 JSON
 */
public record PendingEvent(String eventId, long sequence, long writtenAtMillis, String recordId,
                           byte[] expectedRecord, byte[] event) {

  static int averageSize(int averageRecordBytes) {
    return 64 + 2 * averageRecordBytes + 256;
  }

  byte[] encode() {
    byte[] id = recordId.getBytes(StandardCharsets.UTF_8);
    int expectedLength = expectedRecord == null ? 0 : expectedRecord.length;
    ByteBuffer buffer = ByteBuffer.allocate(8 + 8 + 4 + id.length + 4 + expectedLength + event.length)
      .putLong(sequence).putLong(writtenAtMillis).putInt(id.length).put(id)
      .putInt(expectedRecord == null ? -1 : expectedRecord.length);
    if (expectedRecord != null) {
      buffer.put(expectedRecord);
    }
    return buffer.put(event).array();
  }

  static PendingEvent decode(String eventId, byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    long sequence = buffer.getLong();
    long writtenAt = buffer.getLong();
    byte[] id = new byte[buffer.getInt()];
    buffer.get(id);
    int expectedLength = buffer.getInt();
    byte[] expected = null;
    if (expectedLength >= 0) {
      expected = new byte[expectedLength];
      buffer.get(expected);
    }
    byte[] event = Arrays.copyOfRange(bytes, buffer.position(), bytes.length);
    return new PendingEvent(eventId, sequence, writtenAt, new String(id, StandardCharsets.UTF_8), expected, event);
  }
}
