package io.mtor.audit;

import io.vertx.core.json.JsonObject;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Times the audit trail's part of a cluster snapshot on a generated trail: the capture (at an index in the middle of
 * the newest file) and the merge into a node with no trail and into one with half of it.
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
 *   io.mtor.audit.TrailSnapshotTiming DIR TRAIL_MIB FILE_MIB
 * </pre>
 */
public final class TrailSnapshotTiming {

  private TrailSnapshotTiming() {
  }

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args[0]);
    long trailBytes = Long.parseLong(args[1]) << 20;
    long fileBytes = Long.parseLong(args[2]) << 20;
    deleteTree(root);
    Path trail = root.resolve("leader");
    Files.createDirectories(trail);
    long sequence = 0;
    long written = 0;
    int files = 0;
    long begun = System.nanoTime();
    while (written < trailBytes) {
      files++;
      Path file = trail.resolve(String.format("audit-2026-11-30-%04d.jsonl", files));
      long inFile = 0;
      try (Writer out = new BufferedWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8), 1 << 16)) {
        while (inFile < fileBytes && written < trailBytes) {
          sequence += 2;
          String line = line(sequence) + "\n";
          out.write(line);
          inFile += line.length();
          written += line.length();
        }
      }
    }
    System.out.printf("trail: %d files, %d MiB, %d lines, generated in %d ms%n", files, written >> 20, sequence / 2,
      (System.nanoTime() - begun) / 1_000_000);
    // An index in the middle of the newest file.
    long index = sequence - (fileBytes / 2 / 1024) * 2;

    begun = System.nanoTime();
    TrailSnapshots.Counts captured = TrailSnapshots.capture(trail, root.resolve("snapshot.1_" + index + ".audit"),
      index);
    System.out.printf("capture at %d: %d files linked, %d copied (%d MiB) in %d ms%n", index, captured.linked(),
      captured.written(), captured.bytes() >> 20, (System.nanoTime() - begun) / 1_000_000);

    Path snapshot = root.resolve("snapshot.1_" + index + ".audit");
    long shipped = 0;
    for (Path file : TrailSnapshots.files(snapshot)) {
      shipped += Files.size(file);
    }
    System.out.printf("shipped to a node that needs the snapshot: %d MiB of trail%n", shipped >> 20);

    begun = System.nanoTime();
    TrailSnapshots.Counts empty = TrailSnapshots.merge(root.resolve("empty"), snapshot);
    System.out.printf("merge into an empty trail: %d files linked, %d written (%d MiB) in %d ms%n", empty.linked(),
      empty.written(), empty.bytes() >> 20, (System.nanoTime() - begun) / 1_000_000);

    // A node that wrote the first half of the trail, under its own file names (one day later).
    Path half = root.resolve("half");
    Files.createDirectories(half);
    int own = 0;
    for (Path file : TrailSnapshots.files(trail)) {
      if (++own > files / 2) {
        break;
      }
      Files.copy(file, half.resolve(file.getFileName().toString().replace("2026-11-30", "2026-11-29")));
    }
    begun = System.nanoTime();
    TrailSnapshots.Counts halfMerged = TrailSnapshots.merge(half, snapshot);
    System.out.printf("merge into a trail with the first %d files: %d files linked, %d written (%d MiB) in %d ms%n",
      own - 1, halfMerged.linked(), halfMerged.written(), halfMerged.bytes() >> 20,
      (System.nanoTime() - begun) / 1_000_000);
    deleteTree(root);
  }

  private static String line(long sequence) {
    return new JsonObject().put("eventId", "7c0b7f7e-0000-4000-8000-" + String.format("%012d", sequence))
      .put("sequence", sequence).put("eventType", "created").put("occurredDateTime", "2026-11-30T08:11:09.2390000Z")
      .put("requestId", "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c41").put("clientRequestId", null)
      .put("actor", new JsonObject().put("tenantId", "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11"))
      .put("etag", "W/\"ed8b012fdcafeadd\"")
      .put("resource", new JsonObject().put("id", "run-" + sequence).put("executionInfo", "x".repeat(600)))
      .encode();
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
