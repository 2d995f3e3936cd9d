package io.mtor.cluster;

import io.mtor.auth.DevSigningKey;
import io.mtor.http.SkipTokens;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The keys every node of a cluster must hold alike: the {@code $skiptoken} key (a nextLink issued by one node works on
 * every other) and the development signing key (a token from {@code scripts/token} works on every node). They are
 * made once, by whichever node finds the cluster without them, and travel through the replicated log as its first
 * entry of their kind; every node writes the first such entry's keys into its data folder, where the single-node code
 * reads them, and ignores any later one (two nodes may propose at once).
 */
final class ClusterKeys {

  /** Present in a node's data folder once it has written the cluster's keys. */
  static final String MARKER = "cluster-keys";
  static final String TYPE = "keys";

  private ClusterKeys() {
  }

  /** A log entry with fresh keys. */
  static JsonObject propose() {
    byte[] skipTokenKey = new byte[32];
    new SecureRandom().nextBytes(skipTokenKey);
    return new JsonObject().put("type", TYPE)
      .put("skipTokenKey", Base64.getEncoder().encodeToString(skipTokenKey))
      .put("devSigningKey", DevSigningKey.generate());
  }

  static boolean present(Path dataDir) {
    return Files.exists(dataDir.resolve(MARKER));
  }

  /** Writes the keys of {@code entry} unless this node already has the cluster's keys. */
  static void apply(Path dataDir, JsonObject entry, boolean devKey) throws IOException {
    if (present(dataDir)) {
      return;
    }
    Files.createDirectories(dataDir);
    write(dataDir, SkipTokens.KEY_FILE, Base64.getDecoder().decode(entry.getString("skipTokenKey")));
    if (devKey) {
      write(dataDir, DevSigningKey.FILE,
        entry.getJsonObject("devSigningKey").encodePrettily().getBytes(StandardCharsets.UTF_8));
    }
    write(dataDir, MARKER, new byte[0]);
  }

  /** Replaces {@code name} at once (owner-only), whatever a single-node start left there. */
  static void write(Path dataDir, String name, byte[] content) throws IOException {
    Path temp = Files.createTempFile(dataDir, name, ".tmp");
    try {
      try {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: the folder's own permissions protect it
      }
      Files.write(temp, content);
      Files.move(temp, dataDir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
