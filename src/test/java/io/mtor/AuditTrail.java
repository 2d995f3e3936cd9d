package io.mtor;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads an audit trail folder back, as an auditor would. */
public final class AuditTrail {

  private AuditTrail() {
  }

  /** Every event in the trail's files, in file order. */
  public static List<JsonObject> events(Path dir) {
    List<JsonObject> events = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return events;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".jsonl")).sorted().toList()) {
        for (String line : Files.readAllLines(file)) {
          events.add(new JsonObject(line));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return events;
  }

  /** The ids of the created records, one per created event in the trail. */
  public static List<String> createdIds(Path dir) {
    return events(dir).stream().filter(e -> "created".equals(e.getString("eventType")))
      .map(e -> e.getJsonObject("resource").getString("id")).toList();
  }
}
