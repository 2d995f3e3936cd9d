package io.mtor.audit;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The audit trail on disk: JSON Lines files {@code audit-YYYY-MM-DD-NNNN.jsonl}, one event per line,
 * appended in batches and rotated when the day (UTC) changes or a file reaches its size limit. Not
 * thread-safe: one writer (the audit verticle's blocking tasks, which run in order) owns it.
 */
final class AuditFiles implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AuditFiles.class);
  private static final String PREFIX = "audit-";
  private static final String SUFFIX = ".jsonl";
  /** How far back from the end of the trail a restart looks for events it wrote but had not confirmed. */
  private static final long RECENT_BYTES = 16L << 20;

  private final Path dir;
  private final long maxFileBytes;
  private FileChannel channel;
  private Path current;
  private LocalDate currentDay;
  private long currentSize;

  private AuditFiles(Path dir, long maxFileBytes) {
    this.dir = dir;
    this.maxFileBytes = maxFileBytes;
  }

  /** Opens the trail in {@code dir}, cutting off a line that a crash left half-written. */
  static AuditFiles open(Path dir, long maxFileBytes) throws IOException {
    Files.createDirectories(dir);
    AuditFiles files = new AuditFiles(dir, maxFileBytes);
    List<Path> existing = files.list();
    if (!existing.isEmpty()) {
      truncatePartialLine(existing.get(existing.size() - 1));
    }
    return files;
  }

  /** Trail files, oldest first. */
  List<Path> list() throws IOException {
    return list(dir);
  }

  /** The trail files in {@code dir}, oldest first (none if there is no such folder). */
  static List<Path> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> paths = Files.list(dir)) {
      return paths.filter(p -> p.getFileName().toString().startsWith(PREFIX) && p.getFileName().toString().endsWith(SUFFIX))
        .sorted().toList();
    }
  }

  /** Event ids in the last lines of the trail: what a crash may have left written but unacknowledged. */
  Set<String> recentEventIds() throws IOException {
    Set<String> ids = new HashSet<>();
    List<Path> files = new ArrayList<>(list());
    long budget = RECENT_BYTES;
    for (int i = files.size() - 1; i >= 0 && budget > 0; i--) {
      Path file = files.get(i);
      long size = Files.size(file);
      long from = Math.max(0, size - budget);
      budget -= size - from;
      try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
        in.seek(from);
        byte[] bytes = new byte[(int) (size - from)];
        in.readFully(bytes);
        String text = new String(bytes, StandardCharsets.UTF_8);
        int start = from == 0 ? 0 : text.indexOf('\n') + 1;
        for (String line : text.substring(start).split("\n")) {
          if (!line.isBlank()) {
            ids.add(new JsonObject(line).getString("eventId"));
          }
        }
      }
    }
    return ids;
  }

  /** Appends lines (each ending with a newline), rotating first if needed. */
  void append(byte[] lines) throws IOException {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    if (channel == null || !today.equals(currentDay) || (currentSize > 0 && currentSize + lines.length > maxFileBytes)) {
      rotate(today);
    }
    ByteBuffer buffer = ByteBuffer.wrap(lines);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
    currentSize += lines.length;
  }

  private void rotate(LocalDate today) throws IOException {
    if (channel != null) {
      channel.close();
      LOG.info("Audit trail rotated: {} closed at {} bytes", current.getFileName(), currentSize);
    }
    int next = 1;
    List<Path> files = list();
    String dayPrefix = PREFIX + today + "-";
    for (Path file : files) {
      String name = file.getFileName().toString();
      if (name.startsWith(dayPrefix)) {
        next = Math.max(next, Integer.parseInt(name.substring(dayPrefix.length(), name.length() - SUFFIX.length())));
      }
    }
    Path candidate = dir.resolve(String.format("%s%04d%s", dayPrefix, next, SUFFIX));
    if (Files.exists(candidate) && Files.size(candidate) >= maxFileBytes) {
      candidate = dir.resolve(String.format("%s%04d%s", dayPrefix, next + 1, SUFFIX));
    }
    current = candidate;
    currentDay = today;
    channel = FileChannel.open(current, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    currentSize = channel.size();
  }

  static void truncatePartialLine(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      long keep = afterLastNewline(channel, size);
      if (keep < size) {
        LOG.warn("Audit file {} ended in a partial line ({} bytes) left by a crash: cut it off", file, size - keep);
        channel.truncate(keep);
      }
    }
  }

  /**
   * The position just after the last newline of {@code channel} before {@code before}, or 0 when there is none: where
   * the line holding {@code before - 1} starts. Reads backwards a few KiB at a time.
   */
  static long afterLastNewline(FileChannel channel, long before) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(1 << 12);
    for (long end = before; end > 0; ) {
      long from = Math.max(0, end - chunk.capacity());
      chunk.clear().limit((int) (end - from));
      while (chunk.hasRemaining() && channel.read(chunk, from + chunk.position()) >= 0) {
        // a positional read may return fewer bytes than asked
      }
      for (int i = chunk.position() - 1; i >= 0; i--) {
        if (chunk.get(i) == '\n') {
          return from + i + 1;
        }
      }
      end = from;
    }
    return 0;
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      channel.close();
      channel = null;
    }
  }
}
