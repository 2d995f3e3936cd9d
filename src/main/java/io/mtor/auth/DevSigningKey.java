package io.mtor.auth;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.UUID;

/**
 * The local development signing key: an ES256 (P-256) key pair kept as a private JWK in
 * {@code DATA_DIR/dev-signing-key.jwk} (mode 600), made on first use. The service trusts its public half;
 * {@code scripts/token} signs with it. Production turns it off and trusts a real identity provider.
 */
public final class DevSigningKey {

  public static final String FILE = "dev-signing-key.jwk";

  private DevSigningKey() {
  }

  /** The private JWK in {@code dataDir}, created if absent. */
  public static JsonObject loadOrCreate(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(dataDir);
        try {
          Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          Files.writeString(file, generate().encodePrettily(), StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (FileAlreadyExistsException raced) {
          // another process (the service, or scripts/token) made it first: use theirs
        }
      }
      JsonObject jwk = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
      if (!jwk.containsKey("d")) {
        throw new IllegalStateException(file + " does not hold a private key");
      }
      return jwk;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or create the development signing key " + file, e);
    }
  }

  /** The public half, to trust. */
  public static JsonObject publicJwk(JsonObject privateJwk) {
    JsonObject publicJwk = privateJwk.copy();
    publicJwk.remove("d");
    return publicJwk;
  }

  private static JsonObject generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      ECPublicKey publicKey = (ECPublicKey) pair.getPublic();
      ECPrivateKey privateKey = (ECPrivateKey) pair.getPrivate();
      return new JsonObject()
        .put("kty", "EC").put("crv", "P-256").put("alg", "ES256").put("use", "sig")
        .put("kid", "dev-" + UUID.randomUUID())
        .put("x", coordinate(publicKey.getW().getAffineX()))
        .put("y", coordinate(publicKey.getW().getAffineY()))
        .put("d", coordinate(privateKey.getS()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("This JVM cannot make a P-256 key", e);
    }
  }

  /** A P-256 integer as JWK wants it: 32 big-endian bytes, base64url. */
  private static String coordinate(BigInteger value) {
    byte[] bytes = value.toByteArray();
    byte[] fixed = new byte[32];
    int from = Math.max(0, bytes.length - 32);
    System.arraycopy(bytes, from, fixed, 32 - (bytes.length - from), bytes.length - from);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(fixed);
  }

}
