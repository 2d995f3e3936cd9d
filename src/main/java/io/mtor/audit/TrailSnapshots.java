package io.mtor.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * The audit trail's part of a cluster snapshot: the trail's lines of every change up to the snapshot's log index, as
 * trail files in a folder that Ratis ships beside the snapshot's records, and the merge of such a folder into the trail
 * of a node that installs the snapshot.
 *
 * <p>Both sides rely on the trail being in log order ({@code sequence} rising line by line), which the audit writer
 * keeps as long as its in-memory backlog does not overflow (then a change redelivered from the store stands after later
 * ones, on that node only).
 *
 * <p>The trail grows with the history, so a capture does not copy it: a file that is not the newest is never written
 * again ({@link AuditFiles} appends only to the newest), and is hard-linked into the snapshot; only the newest files
 * are copied, up to the snapshot's index.
 */
public final class TrailSnapshots {

  private static final JsonFactory JSON = new JsonFactory();

  /** What a capture or a merge did: files linked whole, files written (copied, cut or appended to), bytes written. */
  public record Counts(int linked, int written, long bytes) {
  }

  private TrailSnapshots() {
  }

  /**
   * Puts into {@code target} (created) the trail of {@code trail} up to the line of the change at {@code index}: every
   * file but the newest whose last line is at or before it, hard-linked; then the lines up to it of the next files,
   * copied. The caller makes sure every change up to {@code index} is on the trail (written, not only queued).
   */
  public static Counts capture(Path trail, Path target, long index) throws IOException {
    Files.createDirectories(target);
    List<Path> files = AuditFiles.list(trail);
    int linked = 0;
    int written = 0;
    long bytes = 0;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      Path copy = target.resolve(file.getFileName().toString());
      if (i < files.size() - 1 && sequence(lastLine(file)) <= index) {
        link(file, copy);
        linked++;
        continue;
      }
      Copied copied = copyUpTo(file, copy, index);
      if (copied.bytes() > 0) {
        written++;
        bytes += copied.bytes();
      }
      if (copied.passed()) {
        break;
      }
    }
    syncDirectory(target);
    return new Counts(linked, written, bytes);
  }

  /**
   * Completes {@code trail} with the lines of the snapshot's trail ({@code snapshot}, as {@link #capture} made it) that
   * come after the trail's last line, keeping every byte the trail has: a line cut short by a crash is dropped first;
   * the missing lines of a snapshot file whose name sorts at or before the trail's newest file are appended to that
   * file; a later file is hard-linked (all of it missing, and not the snapshot's last, which this node will append to)
   * or written with its missing lines. A merge cut short by a crash is completed by doing it again: it starts from the
   * trail's last line, whatever it is. Nothing runs if the snapshot carries no trail.
   */
  static Counts merge(Path trail, Path snapshot) throws IOException {
    List<Path> theirs = AuditFiles.list(snapshot);
    Files.createDirectories(trail);
    try (var leftovers = Files.list(trail)) {
      for (Path leftover : leftovers.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
        Files.delete(leftover);
      }
    }
    List<Path> mine = AuditFiles.list(trail);
    if (!mine.isEmpty()) {
      AuditFiles.truncatePartialLine(mine.get(mine.size() - 1));
    }
    long after = lastSequence(mine);
    int linked = 0;
    int written = 0;
    long bytes = 0;
    for (int i = 0; i < theirs.size(); i++) {
      Path file = theirs.get(i);
      long last = sequence(lastLine(file));
      if (last <= after) {
        continue;
      }
      mine = AuditFiles.list(trail);
      Path newest = mine.isEmpty() ? null : mine.get(mine.size() - 1);
      String name = file.getFileName().toString();
      if (newest != null && name.compareTo(newest.getFileName().toString()) <= 0) {
        bytes += appendAfter(file, newest, after);
        written++;
      } else if (i < theirs.size() - 1 && sequence(firstLine(file)) > after) {
        link(file, trail.resolve(name));
        linked++;
      } else {
        Path temp = trail.resolve(name + ".tmp");
        bytes += appendAfter(file, temp, after);
        Files.move(temp, trail.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        written++;
      }
      after = last;
    }
    syncDirectory(trail);
    return new Counts(linked, written, bytes);
  }

  /** The trail files in {@code dir} (a trail or a snapshot's trail), oldest first; none if there is no such folder. */
  public static List<Path> files(Path dir) throws IOException {
    return AuditFiles.list(dir);
  }

  /** The {@code sequence} of the trail's last complete line, or -1 if it has none. */
  private static long lastSequence(List<Path> files) throws IOException {
    for (int i = files.size() - 1; i >= 0; i--) {
      byte[] line = lastLine(files.get(i));
      if (line != null) {
        return sequence(line);
      }
    }
    return -1;
  }

  /** A hard link to {@code file} at {@code link}; a copy where the file system has no hard links (or another one). */
  private static void link(Path file, Path link) throws IOException {
    Files.deleteIfExists(link);
    try {
      Files.createLink(link, file);
    } catch (UnsupportedOperationException | FileSystemException e) {
      Path temp = link.resolveSibling(link.getFileName() + ".tmp");
      Files.copy(file, temp, StandardCopyOption.REPLACE_EXISTING);
      force(temp);
      Files.move(temp, link, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  private record Copied(long bytes, boolean passed) {
  }

  /** Copies the lines of {@code file} up to the first after {@code index} (if any) into a new {@code copy}. */
  private static Copied copyUpTo(Path file, Path copy, long index) throws IOException {
    long bytes = 0;
    boolean passed = false;
    try (InputStream in = Files.newInputStream(file);
         OutputStream out = Files.newOutputStream(copy)) {
      LineReader lines = new LineReader(in);
      for (byte[] line; (line = lines.next()) != null; ) {
        if (sequence(line) > index) {
          passed = true;
          break;
        }
        out.write(line);
        bytes += line.length;
      }
    }
    if (bytes == 0) {
      Files.delete(copy);
    } else {
      force(copy);
    }
    return new Copied(bytes, passed);
  }

  /** Appends the complete lines of {@code file} whose sequence is above {@code after} to {@code to}, synced. */
  private static long appendAfter(Path file, Path to, long after) throws IOException {
    long bytes = 0;
    try (InputStream in = Files.newInputStream(file);
         FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
           StandardOpenOption.APPEND)) {
      LineReader lines = new LineReader(in);
      ByteBuffer pending = ByteBuffer.allocate(1 << 16);
      for (byte[] line; (line = lines.next()) != null; ) {
        if (sequence(line) <= after) {
          continue;
        }
        if (line.length > pending.remaining()) {
          flush(pending, out);
          if (line.length > pending.capacity()) {
            write(ByteBuffer.wrap(line), out);
            bytes += line.length;
            continue;
          }
        }
        pending.put(line);
        bytes += line.length;
      }
      flush(pending, out);
      out.force(true);
    }
    return bytes;
  }

  private static void flush(ByteBuffer pending, FileChannel out) throws IOException {
    pending.flip();
    write(pending, out);
    pending.clear();
  }

  private static void write(ByteBuffer buffer, FileChannel out) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  /** The first complete line of {@code file} (with its newline), or null. */
  static byte[] firstLine(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return new LineReader(in).next();
    }
  }

  /** The last complete line of {@code file} (with its newline), or null: read backwards from its last newline. */
  static byte[] lastLine(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      // The end of the last complete line: after the last newline (a line being written may follow it).
      long end = AuditFiles.afterLastNewline(channel, channel.size());
      if (end == 0) {
        return null;
      }
      long start = AuditFiles.afterLastNewline(channel, end - 1);
      return read(channel, start, (int) (end - start));
    }
  }

  private static byte[] read(FileChannel channel, long from, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, from + buffer.position()) < 0) {
        break;
      }
    }
    return buffer.array();
  }

  /**
   * The top-level {@code sequence} of an event's JSON line (the service writes it right after {@code eventId}), or -1
   * if it has none (a line of single-node mode) or is null.
   */
  static long sequence(byte[] line) throws IOException {
    if (line == null) {
      return -1;
    }
    try (JsonParser parser = JSON.createParser(line)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return -1;
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        if ("sequence".equals(name)) {
          return value == JsonToken.VALUE_NUMBER_INT ? parser.getLongValue() : -1;
        }
        parser.skipChildren();
      }
      return -1;
    }
  }

  private static void force(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  /** Makes the folder's new names durable (where the platform allows opening a folder). */
  private static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // not supported here: the names reach the disk with the file system's own commit
    }
  }

  /** Complete lines (each with its newline) of a stream, as bytes; a last line without a newline is left out. */
  private static final class LineReader {
    private final InputStream in;
    private final byte[] chunk = new byte[1 << 16];
    private int position;
    private int limit;
    private byte[] line = new byte[1 << 12];

    LineReader(InputStream in) {
      this.in = in;
    }

    byte[] next() throws IOException {
      int length = 0;
      while (true) {
        if (position == limit) {
          limit = in.read(chunk);
          position = 0;
          if (limit <= 0) {
            limit = 0;
            return null;
          }
        }
        int start = position;
        while (position < limit && chunk[position] != '\n') {
          position++;
        }
        boolean complete = position < limit;
        if (complete) {
          position++;
        }
        int count = position - start;
        if (length + count > line.length) {
          line = Arrays.copyOf(line, Math.max(line.length * 2, length + count));
        }
        System.arraycopy(chunk, start, line, length, count);
        length += count;
        if (complete) {
          return Arrays.copyOf(line, length);
        }
      }
    }
  }
}
