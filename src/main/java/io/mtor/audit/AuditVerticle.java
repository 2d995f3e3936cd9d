package io.mtor.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.mtor.events.ResultEvents;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps an audit trail of the service's events as JSON Lines under a folder ({@link AuditFiles}).
 *
 * <p>Events are queued in memory and written in batches by one blocking task at a time: a batch gathers for a
 * few milliseconds ({@code lingerMillis}) or until it is full, and while one is being written the next one
 * gathers, so the batch size follows the load, and a create costs neither a thread hand-off nor a write call
 * of its own. An acknowledging writer (the service's own trail) confirms each written batch on
 * {@link ResultEvents#AUDIT_WRITTEN} so that the store can forget those events; until then the store keeps
 * them and redelivers them, so a write that fails, an
 * event dropped from a full queue, or a crash before the write costs no line. A restart reads the end of
 * the trail to skip events written but not yet confirmed, so no line is written twice.
 *
 * <p>In cluster mode a node that is sent a snapshot instead of the log it missed gets the snapshot's trail too: on
 * {@link ResultEvents#AUDIT_INSTALL} the writer drops what it holds (changes up to the snapshot's index, which the
 * snapshot's trail has), completes its files with the snapshot's trail ({@link TrailSnapshots#merge}) and from then on
 * drops any event at or below that index (a redelivery from the store read before the store forgot its events).
 *
 * <p>The service's own trail (an acknowledging writer) reads {@link ResultEvents#AUDIT_TRAIL}, where each
 * event comes as the JSON bytes the store's outbox holds, so the event is encoded once per change rather than
 * again for its line; other writers read the public addresses' JSON objects like any subscriber.
 *
 * <p>Config: {@code dir} (required), {@code maxFileBytes} (64 MiB), {@code maxBatch} (4096 events),
 * {@code lingerMillis} (5),
 * {@code maxBacklog} (50,000 queued events; beyond, events wait in the store), {@code acknowledge} (true),
 * {@code addresses} (what a writer that does not acknowledge reads: the service's event addresses).
 */
public final class AuditVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AuditVerticle.class);
  private static final int RECENT_IDS = 200_000;
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private static final JsonFactory JSON = new JsonFactory();

  /** An event waiting for its line: its id and its JSON. */
  private record Line(String eventId, Buffer json) {
  }

  private final ArrayDeque<Line> queue = new ArrayDeque<>();
  private final Set<String> queued = new HashSet<>();
  private final LinkedHashSet<String> recent = new LinkedHashSet<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private Path dir;
  private long maxFileBytes;
  private AuditFiles files;
  private int maxBatch;
  private long lingerMillis;
  private long lingerTimer = -1;
  private int maxBacklog;
  private boolean acknowledge;
  private boolean writing;
  private int failures;
  private long written;
  private long dropped;
  /** A snapshot's trail is being merged: events are dropped (all are up to its index). */
  private boolean installing;
  /** Events with a sequence up to this are in the trail through an installed snapshot; -1 before any. */
  private long installedUpTo = -1;

  /** A config for a trail in {@code dir} with the defaults. */
  public static JsonObject config(Path dir) {
    return new JsonObject().put("dir", dir.toString());
  }

  @Override
  public Future<?> start() {
    JsonObject config = config();
    dir = Path.of(config.getString("dir"));
    maxFileBytes = config.getLong("maxFileBytes", 64L << 20);
    maxBatch = config.getInteger("maxBatch", 4096);
    lingerMillis = config.getLong("lingerMillis", 5L);
    maxBacklog = config.getInteger("maxBacklog", 50_000);
    acknowledge = config.getBoolean("acknowledge", true);
    JsonArray addresses = config.getJsonArray("addresses", new JsonArray(new ArrayList<>(ResultEvents.ALL)));
    return vertx.executeBlocking(() -> {
      files = AuditFiles.open(dir, maxFileBytes);
      return files.recentEventIds();
    }).compose(ids -> {
      ids.forEach(this::remember);
      List<Future<Void>> registered = new ArrayList<>();
      if (acknowledge) {
        registered.add(consume(ResultEvents.AUDIT_TRAIL, this::onBytes));
        registered.add(consume(ResultEvents.AUDIT_REDELIVER, this::onBytes));
        registered.add(consume(ResultEvents.AUDIT_INSTALL, this::onInstall));
      } else {
        for (Object address : addresses) {
          registered.add(consume((String) address, this::onObject));
        }
      }
      LOG.info("Audit trail in {} ({} recent events on file, acknowledging: {})", dir, ids.size(), acknowledge);
      return Future.all(registered);
    });
  }

  private <T> Future<Void> consume(String address, Handler<Message<T>> handler) {
    // Local: on a clustered event bus a plain consumer would also get what other nodes publish on the address.
    MessageConsumer<T> consumer = vertx.eventBus().localConsumer(address, handler);
    consumers.add(consumer);
    return consumer.completion();
  }

  private void onObject(Message<JsonObject> message) {
    JsonObject event = message.body();
    String eventId = event == null ? null : event.getString("eventId");
    if (eventId != null) {
      onEvent(eventId, event.toBuffer());
    }
  }

  private void onBytes(Message<Buffer> message) {
    Buffer event = message.body();
    Head head = event == null ? null : head(event, installedUpTo >= 0);
    if (head == null) {
      return;
    }
    if (installing) {
      return;
    }
    if (head.sequence() >= 0 && head.sequence() <= installedUpTo) {
      // In the trail through the snapshot: the store may forget it.
      confirm(List.of(head.eventId()));
      return;
    }
    onEvent(head.eventId(), event);
  }

  /** An event's id and, if asked and present, its {@code sequence} (-1 otherwise). */
  private record Head(String eventId, long sequence) {
  }

  /**
   * The top-level {@code eventId} of an event's JSON (the service writes it first) and, if {@code withSequence}, its
   * {@code sequence} (written right after), or null without an id.
   */
  private static Head head(Buffer json, boolean withSequence) {
    try (JsonParser parser = JSON.createParser(json.getBytes())) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      String eventId = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        if ("eventId".equals(name)) {
          if (value != JsonToken.VALUE_STRING) {
            return null;
          }
          eventId = parser.getText();
          if (!withSequence) {
            return new Head(eventId, -1);
          }
        } else if ("sequence".equals(name) && eventId != null) {
          return new Head(eventId, value == JsonToken.VALUE_NUMBER_INT ? parser.getLongValue() : -1);
        }
        parser.skipChildren();
      }
      return eventId == null ? null : new Head(eventId, -1);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * A snapshot replaces this node's records ({@link ResultEvents#AUDIT_INSTALL}): what is queued is dropped (changes up
   * to the node's old position, which the snapshot's trail has), the write under way finishes, the trail is completed
   * with the snapshot's and reopened, and events up to the snapshot's index are dropped from now on. The caller (the
   * state machine, before it applies the log after the snapshot) waits for the reply.
   */
  private void onInstall(Message<JsonObject> message) {
    Path snapshotTrail = Path.of(message.body().getString("dir"));
    long index = message.body().getLong("index");
    installing = true;
    clearQueue();
    whenIdle()
      .compose(v -> vertx.executeBlocking(() -> {
        files.close();
        long begun = System.nanoTime();
        TrailSnapshots.Counts merged = TrailSnapshots.merge(dir, snapshotTrail);
        LOG.info("Audit trail completed from the snapshot at index {}: {} files linked, {} written ({} KiB) in {} ms",
          index, merged.linked(), merged.written(), merged.bytes() >> 10, (System.nanoTime() - begun) / 1_000_000);
        files = AuditFiles.open(dir, maxFileBytes);
        return files.recentEventIds();
      }))
      .onComplete(done -> {
        clearQueue();
        if (done.succeeded()) {
          recent.clear();
          done.result().forEach(this::remember);
          installedUpTo = Math.max(installedUpTo, index);
          installing = false;
          message.reply(new JsonObject().put("ok", true));
        } else {
          LOG.error("Audit trail not completed from the snapshot at index {}", index, done.cause());
          installing = false;
          message.fail(500, String.valueOf(done.cause()));
        }
      });
  }

  private void clearQueue() {
    queue.clear();
    queued.clear();
    if (lingerTimer != -1) {
      vertx.cancelTimer(lingerTimer);
      lingerTimer = -1;
    }
  }

  /** Completes once no write is under way. */
  private Future<Void> whenIdle() {
    return writing ? vertx.timer(5).compose(t -> whenIdle()) : Future.succeededFuture();
  }

  private void onEvent(String eventId, Buffer json) {
    if (recent.contains(eventId)) {
      // Already on file (a redelivery after a lost confirmation): confirm again, write nothing.
      confirm(List.of(eventId));
      return;
    }
    if (queue.size() >= maxBacklog) {
      if (dropped++ % 10_000 == 0) {
        LOG.warn("Audit backlog full ({} events): later events wait in the store for redelivery", queue.size());
      }
      return;
    }
    if (queued.add(eventId)) {
      queue.add(new Line(eventId, json));
      schedule();
    }
  }

  /** Writes soon: at once when a batch is full, else after the linger (unless a write or a timer is under way). */
  private void schedule() {
    if (writing || installing || queue.isEmpty()) {
      return;
    }
    if (queue.size() >= maxBatch || lingerMillis <= 0) {
      write();
    } else if (lingerTimer == -1) {
      lingerTimer = vertx.setTimer(lingerMillis, timer -> {
        lingerTimer = -1;
        write();
      });
    }
  }

  private void write() {
    if (writing || installing || queue.isEmpty()) {
      return;
    }
    if (lingerTimer != -1) {
      vertx.cancelTimer(lingerTimer);
      lingerTimer = -1;
    }
    writing = true;
    List<Line> batch = new ArrayList<>(Math.min(queue.size(), maxBatch));
    Buffer lines = Buffer.buffer(queue.size() * 1024);
    while (!queue.isEmpty() && batch.size() < maxBatch) {
      Line line = queue.poll();
      batch.add(line);
      lines.appendBuffer(line.json()).appendByte((byte) '\n');
    }
    byte[] bytes = lines.getBytes();
    vertx.executeBlocking(() -> {
      files.append(bytes);
      return null;
    }).onComplete(done -> {
      writing = false;
      List<String> ids = new ArrayList<>(batch.size());
      batch.forEach(line -> ids.add(line.eventId()));
      if (done.succeeded()) {
        failures = 0;
        written += batch.size();
        ids.forEach(id -> {
          queued.remove(id);
          remember(id);
        });
        confirm(ids);
        schedule();
      } else {
        failures++;
        long delay = Math.min(5_000, 50L << Math.min(failures, 7));
        LOG.error("Audit write of {} events failed ({} in a row), retrying in {} ms: {}", batch.size(), failures, delay,
          done.cause().getMessage());
        for (int i = batch.size() - 1; i >= 0; i--) {
          queue.addFirst(batch.get(i));
        }
        vertx.setTimer(delay, timer -> write());
      }
    });
  }

  private void confirm(List<String> eventIds) {
    if (acknowledge) {
      // Local: another node's store holds the same event ids, and forgetting them is for its own trail to say.
      vertx.eventBus().publish(ResultEvents.AUDIT_WRITTEN,
        new JsonObject().put("eventIds", new JsonArray(new ArrayList<>(eventIds))), LOCAL);
    }
  }

  private void remember(String eventId) {
    if (recent.add(eventId) && recent.size() > RECENT_IDS) {
      Iterator<String> oldest = recent.iterator();
      oldest.next();
      oldest.remove();
    }
  }

  /** Writes what is queued (bounded by a few seconds), then closes the file. */
  @Override
  public Future<?> stop() {
    consumers.forEach(MessageConsumer::unregister);
    return drain(System.currentTimeMillis() + 5_000)
      .eventually(() -> vertx.executeBlocking(() -> {
        files.close();
        LOG.info("Audit trail closed: {} events written, {} left for redelivery", written, queue.size());
        return null;
      }));
  }

  private Future<Void> drain(long deadline) {
    if ((queue.isEmpty() && !writing) || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    write();
    return vertx.timer(5).compose(t -> drain(deadline));
  }
}
