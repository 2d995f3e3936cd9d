package io.mtor.cluster;

import io.mtor.store.OperationResultStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the store held at one log index, for a snapshot written while entries go on being applied. The store has no
 * point-in-time view (Chronicle Map writes in place), and stopping the applying thread while millions of records are
 * copied would stop the cluster's writes for minutes, since every node snapshots at about the same index. So, from the
 * snapshot's index on, the applying thread hands every record key it is about to change to {@link #beforeChange}
 * first, which keeps the record (and its pseudo-properties) as it was, once per key: its before-image. The snapshot
 * writer asks {@link #image} for each key: the before-image if the key changed since, else the store's current record,
 * which then is still the one of the snapshot's index; at the end it adds the before-images of keys the walk missed
 * (removed meanwhile).
 *
 * <p>Why a key's current record is the snapshot's: only the applying thread writes the store, and it changes a key only
 * after {@link #beforeChange} has put its before-image here, under this object's lock. {@link #image} reads the store
 * under the same lock when it finds no before-image, so no write of that key has started. A key created after the
 * snapshot's index has a before-image saying "absent" and is left out.
 *
 * <p>Cost: one store read per applied change while a snapshot is written, and the heap of the before-images of the
 * keys changed meanwhile: a record each for records that existed at the snapshot's index (60,000 updates during a
 * one-minute snapshot are some 60 MB), a name for keys created since. That heap is bounded: once the images pass
 * {@code maxBytes} the capture gives up (the snapshot is abandoned, its images dropped) rather than let writes during a
 * long snapshot exhaust the heap; the snapshot is tried again later ({@link Snapshots}).
 */
final class SnapshotCapture {

  /** A record as the snapshot holds it; {@code record} null: absent at the snapshot's index. */
  record Image(String key, byte[] record, Map<String, String> points) {
  }

  /** Heap taken by an image besides its key's and record's bytes (objects, map entry), roughly. */
  private static final int IMAGE_OVERHEAD = 128;

  private final OperationResultStore store;
  private final long maxBytes;
  private final Map<String, Image> images = new HashMap<>();
  private long bytes;
  private boolean finished;
  private volatile boolean cancelled;
  private volatile boolean overflowed;

  /** @param maxBytes the heap the before-images may take, roughly; past it the capture gives up */
  SnapshotCapture(OperationResultStore store, long maxBytes) {
    this.store = store;
    this.maxBytes = maxBytes;
  }

  /** Called by the applying thread before it changes the record {@code key}. */
  void beforeChange(String key) {
    synchronized (this) {
      if (finished || images.containsKey(key)) {
        return;
      }
    }
    // Read outside the lock (the writer may hold it while reading the store): the applying thread is the only writer,
    // so the record cannot change before the image is in.
    Image image = read(key);
    synchronized (this) {
      if (!finished && images.putIfAbsent(key, image) == null) {
        bytes += IMAGE_OVERHEAD + 2L * key.length() + (image.record() == null ? 0 : image.record().length);
        if (bytes > maxBytes) {
          overflowed = true;
          cancel();
        }
      }
    }
  }

  /** The record {@code key} as it was at the snapshot's index. */
  synchronized Image image(String key) {
    Image before = images.get(key);
    return before != null ? before : read(key);
  }

  /**
   * Ends the capture: the before-images of records that existed at the snapshot's index, for the writer to add
   * (those it met in its walk come again, with the same bytes).
   */
  synchronized List<Image> finish() {
    finished = true;
    List<Image> existing = new ArrayList<>();
    for (Image image : images.values()) {
      if (image.record() != null) {
        existing.add(image);
      }
    }
    images.clear();
    return existing;
  }

  /** Asks the writer to stop (a snapshot from the leader replaces the store). */
  void cancel() {
    cancelled = true;
    finish();
  }

  boolean cancelled() {
    return cancelled;
  }

  /** Whether the capture gave up because its before-images passed their bound. */
  boolean overflowed() {
    return overflowed;
  }

  private Image read(String key) {
    byte[] record = store.get(key);
    return new Image(key, record, record == null ? Map.of() : store.points(key));
  }
}
