package io.mtor.store;

import io.mtor.domain.ResultException;
import net.openhft.chronicle.map.ChronicleMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The events not yet in the audit trail, in a Chronicle Map of their own keyed by event id: each write puts its
 * event here before its record, and the audit trail acknowledges the events it has written. Without an audit trail
 * to feed ({@code map} null) it keeps nothing.
 */
final class Outbox implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

  /** How often (in tracked events) {@link #written} may be swept. */
  private static final int SWEEP_EVERY = 1024;

  private final ChronicleMap<String, byte[]> map;
  private final AtomicLong sequence;
  /**
   * The outbox's events in the order they were written, with their times, so that the oldest one waiting is known
   * without reading the whole outbox: the first whose event is still there. Entries leave from the front as
   * acknowledgements arrive (the audit trail confirms in order, mostly); entries of events acknowledged or dropped
   * behind a front that waits are swept out whenever they outnumber the outbox, so the queue stays within about
   * twice its size.
   */
  private final Queue<Written> written = new ConcurrentLinkedQueue<>();
  private final AtomicInteger writtenSize = new AtomicInteger();
  private volatile boolean closed;

  private record Written(String eventId, long atMillis) {
  }

  Outbox(ChronicleMap<String, byte[]> map) {
    this.map = map;
    List<PendingEvent> pending = new ArrayList<>();
    if (map != null) {
      map.forEach((eventId, bytes) -> pending.add(PendingEvent.decode(eventId, bytes)));
    }
    pending.sort(Comparator.comparingLong(PendingEvent::sequence));
    pending.forEach(this::track);
    this.sequence = new AtomicLong(pending.isEmpty() ? 0 : pending.get(pending.size() - 1).sequence());
  }

  /** The map, or null when there is no audit trail to feed. */
  ChronicleMap<String, byte[]> map() {
    return map;
  }

  /** The records the waiting events are about (none without an outbox). */
  Set<String> recordIds() {
    Set<String> ids = new LinkedHashSet<>();
    if (map != null) {
      map.forEach((eventId, bytes) -> ids.add(PendingEvent.decode(eventId, bytes).recordId()));
    }
    return ids;
  }

  /**
   * An event whose record write never happened (the process died between the two writes) describes a change that
   * was not made and not acknowledged: drop it. Only the newest event of a record can be in that state, since a
   * record's writes follow one another.
   */
  void dropUncommittedEvents(Function<String, byte[]> records) {
    if (map == null) {
      return;
    }
    Map<String, PendingEvent> newestByRecord = new HashMap<>();
    map.forEach((eventId, bytes) -> {
      PendingEvent event = PendingEvent.decode(eventId, bytes);
      newestByRecord.merge(event.recordId(), event, (a, b) -> a.sequence() > b.sequence() ? a : b);
    });
    int dropped = 0;
    for (PendingEvent event : newestByRecord.values()) {
      if (PendingEvent.hash(records.apply(event.recordId())) != event.recordHash()) {
        map.remove(event.eventId());
        dropped++;
      }
    }
    if (dropped > 0) {
      LOG.warn("Dropped {} outbox events whose writes the previous process did not finish", dropped);
    }
  }

  /**
   * The points of the creates whose events wait here and whose records are as those creates wrote them (by record):
   * what the index may lack after a crash between a batch's records and its index transaction.
   */
  Map<String, Map<String, String>> pointsOfWrittenCreates(Function<String, byte[]> records) {
    Map<String, Map<String, String>> points = new HashMap<>();
    if (map != null) {
      map.forEach((eventId, bytes) -> {
        PendingEvent event = PendingEvent.decode(eventId, bytes);
        if (!event.points().isEmpty()
          && PendingEvent.hash(records.apply(event.recordId())) == event.recordHash()) {
          points.put(event.recordId(), event.points());
        }
      });
    }
    return points;
  }

  /**
   * Puts the event of a write about to be made on {@code recordId}, which will then hold {@code record} ({@code null}
   * for a delete).
   *
   * @throws ResultException {@code AUDIT_BACKLOG_FULL} if the outbox has no room
   */
  void put(String eventId, String recordId, byte[] record, byte[] event, Map<String, String> points) {
    if (map == null) {
      return;
    }
    PendingEvent pending = new PendingEvent(eventId, sequence.incrementAndGet(), System.currentTimeMillis(), recordId,
      PendingEvent.hash(record), event, points);
    try {
      map.put(pending.eventId(), pending.encode());
      track(pending);
    } catch (RuntimeException e) {
      LOG.error("Outbox full: {} events await the audit trail ({})", map.longSize(), e.toString());
      throw ResultException.auditBacklogFull(e);
    }
  }

  void forget(String eventId) {
    if (map != null) {
      map.remove(eventId);
    }
  }

  void forgetQuietly(String eventId) {
    try {
      forget(eventId);
    } catch (RuntimeException ignored) {
      // the outbox is as full as the rest; a stale entry is dropped at the next open (its record is absent)
    }
  }

  /** The sequence of the newest event put (in this store's life), or 0. */
  long lastSequence() {
    return sequence.get();
  }

  /** Forgets every event (they are in the audit trail by other means: a cluster snapshot's trail). */
  synchronized void clear() {
    if (map == null || closed) {
      return;
    }
    map.clear();
    written.clear();
    writtenSize.set(0);
  }

  long pendingCount() {
    return map == null || closed ? 0 : map.longSize();
  }

  /** Events written at or before {@code writtenBeforeMillis}, oldest first, at most {@code max} of them. */
  List<PendingEvent> pendingEvents(long writtenBeforeMillis, int max) {
    List<PendingEvent> events = new ArrayList<>();
    if (map == null) {
      return events;
    }
    map.forEach((eventId, bytes) -> {
      PendingEvent event = PendingEvent.decode(eventId, bytes);
      if (event.writtenAtMillis() <= writtenBeforeMillis) {
        events.add(event);
      }
    });
    events.sort(Comparator.comparingLong(PendingEvent::sequence));
    return events.size() > max ? new ArrayList<>(events.subList(0, max)) : events;
  }

  /** The audit trail has these events: forget them. */
  void acknowledge(Iterable<String> eventIds) {
    if (closed) {
      return;
    }
    eventIds.forEach(this::forget);
    if (map != null) {
      dropAcknowledged();
    }
  }

  /** When the oldest event not acknowledged was written (epoch milliseconds), or -1 if none waits. */
  long oldestPendingMillis() {
    if (map == null || closed) {
      return -1;
    }
    dropAcknowledged();
    Written oldest = written.peek();
    return oldest == null ? -1 : oldest.atMillis();
  }

  private void track(PendingEvent event) {
    written.add(new Written(event.eventId(), event.writtenAtMillis()));
    int size = writtenSize.incrementAndGet();
    if (size % SWEEP_EVERY == 0 && size > 2 * map.longSize() + SWEEP_EVERY) {
      sweep();
    }
  }

  /**
   * Drops the front entries of {@link #written} whose events are no longer in the outbox. Under this object's lock
   * (as {@link #close}): two callers could otherwise both see the same front entry gone and remove two.
   */
  private synchronized void dropAcknowledged() {
    Written first;
    while (!closed && (first = written.peek()) != null && !map.containsKey(first.eventId())) {
      written.poll();
      writtenSize.decrementAndGet();
    }
  }

  /** Drops every entry of {@link #written} whose event is no longer in the outbox. */
  private synchronized void sweep() {
    for (Iterator<Written> entries = written.iterator(); !closed && entries.hasNext(); ) {
      if (!map.containsKey(entries.next().eventId())) {
        entries.remove();
        writtenSize.decrementAndGet();
      }
    }
  }

  /** Entries kept to know the oldest pending event. */
  int trackedEvents() {
    return writtenSize.get();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (map != null) {
      map.close();
    }
  }
}
