package io.mtor.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The usable space of the data folder's file system, sampled at most every {@link #SAMPLE_NANOS} so that a write
 * pays for a volatile read, not a {@code statfs} call. One caller at a time takes the sample; the others read the
 * last one.
 */
final class DiskSpace {

  static final long SAMPLE_NANOS = 100_000_000L;

  private static final Logger LOG = LoggerFactory.getLogger(DiskSpace.class);

  private final FileStore fileStore;
  private final long reserveBytes;
  private final AtomicLong sampledAt = new AtomicLong();
  private volatile long usable;
  private volatile boolean low;

  DiskSpace(Path dir, long reserveBytes) {
    try {
      this.fileStore = Files.getFileStore(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the file system of " + dir + ": " + e.getMessage(), e);
    }
    this.reserveBytes = reserveBytes;
    sampledAt.set(System.nanoTime());
    sample();
  }

  long reserveBytes() {
    return reserveBytes;
  }

  /** The usable bytes, at most {@link #SAMPLE_NANOS} old. */
  long usableBytes() {
    long now = System.nanoTime();
    long last = sampledAt.get();
    if (now - last > SAMPLE_NANOS && sampledAt.compareAndSet(last, now)) {
      sample();
    }
    return usable;
  }

  /** Usable bytes now (a {@code statfs} call): for decisions off the request path, such as a new volume. */
  long usableBytesNow() {
    sampledAt.set(System.nanoTime());
    sample();
    return usable;
  }

  /** Whether writing would leave less than the reserve free. */
  boolean belowReserve() {
    return reserveBytes > 0 && usableBytes() < reserveBytes;
  }

  private void sample() {
    long bytes;
    try {
      bytes = fileStore.getUsableSpace();
    } catch (IOException e) {
      LOG.warn("Cannot read the free space of {}: {}", fileStore, e.getMessage());
      return;
    }
    usable = bytes;
    boolean nowLow = reserveBytes > 0 && bytes < reserveBytes;
    if (nowLow != low) {
      low = nowLow;
      if (nowLow) {
        LOG.error("Free disk space {} MiB is below the reserve of {} MiB (store.minFreeDiskBytes): creates and updates "
          + "answer 507 until space returns", bytes >> 20, reserveBytes >> 20);
      } else {
        LOG.info("Free disk space {} MiB is above the reserve again: writes resume", bytes >> 20);
      }
    }
  }
}
