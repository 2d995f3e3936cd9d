package io.mtor.cluster;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The term and index of the last log entry this node applied to its store, in a small memory-mapped file beside the
 * store: written after each entry's store write, so that it survives the death of the process as the store's own
 * pages do, and a restart resumes the log after it instead of applying everything again. Between the store's write
 * and this note a crash can leave one entry applied but not noted; {@code ResultsApplication#alreadyApplied}
 * recognises it.
 */
final class AppliedIndex implements AutoCloseable {

  static final String FILE = "raft-applied";

  private final FileChannel channel;
  private final MappedByteBuffer map;

  private AppliedIndex(FileChannel channel, MappedByteBuffer map) {
    this.channel = channel;
    this.map = map;
  }

  static AppliedIndex open(Path dataDir) throws IOException {
    FileChannel channel = FileChannel.open(dataDir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
      StandardOpenOption.WRITE);
    return new AppliedIndex(channel, channel.map(FileChannel.MapMode.READ_WRITE, 0, 16));
  }

  /** The noted index, or -1 if none is (a new node). */
  synchronized long index() {
    return map.getLong(0) - 1;
  }

  /** The term of the noted index. */
  synchronized long term() {
    return map.getLong(8);
  }

  synchronized void note(long term, long index) {
    // The index (stored plus one, so that a new file's zeros read as "none") goes first: a crash between the two
    // leaves a term that is too old, which only the snapshot's description shows.
    map.putLong(0, index + 1);
    map.putLong(8, term);
  }

  @Override
  public synchronized void close() throws IOException {
    map.force();
    channel.close();
  }
}
