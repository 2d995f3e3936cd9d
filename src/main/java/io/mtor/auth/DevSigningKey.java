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
 * {@code DATA_DIR/dev-signing-key.jwk} (mode 600), made by the service on its first start. The service trusts its
 * public half; {@code scripts/token} ({@code io.mtor.tools.DevToken}) signs with it and never makes one. Production
 * turns it off and trusts a real identity provider.
 */
public final class DevSigningKey {

  public static final String FILE = "dev-signing-key.jwk";

  private DevSigningKey() {
  }

  /** The key file is not in the data folder. */
  public static final class Missing extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final transient Path dataDir;

    Missing(Path dataDir) {
      super("No development signing key in " + dataDir + " (" + FILE + ")");
      this.dataDir = dataDir;
    }

    /** The folder looked in, absolute. */
    public Path dataDir() {
      return dataDir;
    }
  }

  /**
   * The private JWK in {@code dataDir}; never creates one ({@code scripts/token} signs with what the service
   * trusts, or nothing).
   *
   * @throws Missing when the folder holds no key
   */
  public static JsonObject load(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      throw new Missing(dataDir.toAbsolutePath().normalize());
    }
    return read(file);
  }

  /** The private JWK in {@code dataDir}, created if absent (the service, when it trusts the development key). */
  public static JsonObject loadOrCreate(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(dataDir);
        try {
          Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          Files.writeString(file, generate().encodePrettily(), StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (FileAlreadyExistsException raced) {
          // another process made it first: use theirs
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or create the development signing key " + file, e);
    }
    return read(file);
  }

  private static JsonObject read(Path file) {
    JsonObject jwk;
    try {
      jwk = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the development signing key " + file, e);
    } catch (io.vertx.core.json.DecodeException e) {
      throw new IllegalStateException(file + " does not hold a JSON Web Key");
    }
    if (!jwk.containsKey("d")) {
      throw new IllegalStateException(file + " does not hold a private key");
    }
    return jwk;
  }

  /** The public half, to trust. */
  public static JsonObject publicJwk(JsonObject privateJwk) {
    JsonObject publicJwk = privateJwk.copy();
    publicJwk.remove("d");
    return publicJwk;
  }

  /** A new private JWK (ES256, P-256). */
  public static JsonObject generate() {
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
