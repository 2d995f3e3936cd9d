package io.mtor.http;

import io.mtor.query.QueryException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Opaque, tamper-evident {@code $skiptoken}s: the position JSON in base64url, then an HMAC-SHA256 over it and
 * what the token is bound to (the caller's tenant and the query's own options), so that a token works only for
 * the caller and the query it was issued to, and no bound it carries can be changed. The key lives in the data
 * folder ({@value #KEY_FILE}), made on first use, readable by its owner only; deleting it voids every token.
 */
public final class SkipTokens {

  public static final String KEY_FILE = "skiptoken.key";
  /** How long a token stays valid: a page iteration that pauses longer starts again. */
  static final long MAX_AGE_SECONDS = 24 * 3600;
  private static final String ALGORITHM = "HmacSHA256";
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
  private static final int MAX_TOKEN_CHARS = 2048;

  private final SecretKeySpec key;

  private SkipTokens(byte[] key) {
    this.key = new SecretKeySpec(key, ALGORITHM);
  }

  /** Reads the key from {@code dataDir}, making it first if there is none. Blocking. */
  public static SkipTokens loadOrCreate(Path dataDir) {
    Path file = dataDir.resolve(KEY_FILE);
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(dataDir);
        byte[] fresh = new byte[32];
        new SecureRandom().nextBytes(fresh);
        Path temp = Files.createTempFile(dataDir, KEY_FILE, ".tmp");
        try {
          setOwnerOnly(temp);
          Files.write(temp, fresh);
          Files.move(temp, file);
        } catch (FileAlreadyExistsException e) {
          // another start made it first: use theirs
        } finally {
          Files.deleteIfExists(temp);
        }
      }
      byte[] key = Files.readAllBytes(file);
      if (key.length < 32) {
        throw new IllegalStateException(file + " holds " + key.length + " bytes; a $skiptoken key needs 32");
      }
      return new SkipTokens(key);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or create " + file, e);
    }
  }

  private static void setOwnerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the folder's own permissions protect it
    }
  }

  /** A token carrying {@code position}, valid only with the same {@code binding}. */
  String issue(JsonObject position, String binding) {
    String payload = ENCODER.encodeToString(position.copy().put("t", System.currentTimeMillis() / 1000).encode()
      .getBytes(StandardCharsets.UTF_8));
    return payload + "." + ENCODER.encodeToString(mac(payload, binding));
  }

  /**
   * The position a token carries, if this service issued it for {@code binding} within {@link #MAX_AGE_SECONDS}.
   *
   * @throws QueryException (400) for anything else: malformed, tampered with, issued for another caller or query,
   *                        or too old
   */
  JsonObject verify(String token, String binding) {
    int dot = token.indexOf('.');
    if (token.length() > MAX_TOKEN_CHARS || dot <= 0 || dot != token.lastIndexOf('.')) {
      throw invalid();
    }
    String payload = token.substring(0, dot);
    byte[] sent;
    JsonObject position;
    try {
      sent = DECODER.decode(token.substring(dot + 1));
      if (!MessageDigest.isEqual(sent, mac(payload, binding))) {
        throw invalid();
      }
      position = new JsonObject(new String(DECODER.decode(payload), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | DecodeException e) {
      throw invalid();
    }
    Object issued = position.remove("t");
    long age = System.currentTimeMillis() / 1000 - (issued instanceof Number n ? n.longValue() : Long.MIN_VALUE / 2);
    if (age > MAX_AGE_SECONDS || age < -300) {
      throw new QueryException("$skiptoken", -1, "has expired (tokens last " + MAX_AGE_SECONDS / 3600
        + " hours); start again from the first page");
    }
    return position;
  }

  private static QueryException invalid() {
    return new QueryException("$skiptoken", -1,
      "is not a token this service issued for this query and caller; follow @odata.nextLink as given");
  }

  private byte[] mac(String payload, String binding) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      mac.update(binding.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      return mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
