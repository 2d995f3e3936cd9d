package io.mtor.tools;

import io.mtor.api.ServiceConfig;
import io.mtor.auth.AuthSettings;
import io.mtor.auth.Caller;
import io.mtor.auth.DevSigningKey;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.file.Path;

/**
 * {@code scripts/token}: prints, on its last stdout line, a token signed by the development key of the data
 * folder that {@code scripts/run} uses (same {@code conf/application.yaml}, same environment). It never makes a key:
 * the service makes it on its first start, and a key made here would be one the service does not trust (another
 * {@code DATA_DIR}, or a folder the service never started on). Without the key it exits 2 and says where it looked.
 *
 * <p>A command of its own package: it reads the service's configuration ({@code io.mtor.api}), which itself uses
 * {@code io.mtor.auth}; in {@code auth} it made a package cycle.
 *
 * <pre>scripts/token [--tenant GUID] [--scopes "ManagedTenants.ReadWrite.All ManagedTenants.Read.All"] [--expires-in 3600]</pre>
 */
public final class DevToken {

  /** The tenant a token is for when {@code --tenant} is not given. */
  public static final String DEV_TENANT = "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11";
  public static final String DEV_USER = "0b6a4b5e-1d2c-4e3f-8a9b-7c6d5e4f3a21";

  private DevToken() {
  }

  public static void main(String[] args) {
    String tenant = null;
    String scopes = Caller.READ_WRITE + " " + Caller.READ;
    int expiresIn = 3600;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--tenant" -> tenant = require(args[i], value);
        case "--scopes" -> scopes = require(args[i], value);
        case "--expires-in" -> expiresIn = Integer.parseInt(require(args[i], value));
        case "-h", "--help" -> {
          System.err.println("usage: scripts/token [--tenant GUID] [--scopes \"" + Caller.READ_WRITE + " " + Caller.READ
            + "\"] [--expires-in 3600]");
          System.exit(0);
        }
        default -> fail("unknown argument " + args[i]);
      }
      i++;
    }
    if (tenant == null) {
      tenant = DEV_TENANT;
      System.err.println("no --tenant: using the development tenant " + DEV_TENANT);
    } else if (!io.mtor.domain.Guids.isGuid(tenant)) {
      fail("--tenant must be a GUID");
    }
    ServiceConfig config;
    try {
      config = ServiceConfig.load(Path.of(System.getenv().getOrDefault("CONFIG_FILE", "conf/application.yaml")),
        System.getenv());
    } catch (IllegalArgumentException e) {
      fail(e.getMessage());
      return;
    }
    if (!config.auth().devKey()) {
      fail("auth.devKey is off in this configuration: get tokens from your identity provider");
    }
    JsonObject key;
    try {
      key = DevSigningKey.load(config.store().dataDir());
    } catch (DevSigningKey.Missing e) {
      fail("no development signing key in " + e.dataDir() + " (" + DevSigningKey.FILE + " is missing; none was "
        + "created). The service makes it in its data folder on its first start and prints that folder (\"data "
        + "folder: ...\"): start the service first, and run this with the same DATA_DIR (store.dataDir), e.g. "
        + "DATA_DIR=/tmp/mtor scripts/run, then DATA_DIR=/tmp/mtor scripts/token.");
      return;
    } catch (RuntimeException e) {
      fail(e.getMessage());
      return;
    }
    Vertx vertx = Vertx.vertx();
    try {
      System.out.println(sign(vertx, key, config.auth(), tenant, scopes, expiresIn));
    } finally {
      vertx.close();
    }
  }

  /** A token for {@code tenant} with the given delegated scopes, signed with the (private) development key. */
  public static String sign(Vertx vertx, JsonObject privateKey, AuthSettings settings, String tenant, String scopes,
                            int expiresInSeconds) {
    JWTAuth signer = JWTAuth.create(vertx, new JWTAuthOptions().addJwk(privateKey));
    return signer.generateToken(new JsonObject()
        .put("tid", tenant.toLowerCase(java.util.Locale.ROOT))
        .put("oid", DEV_USER)
        .put("sub", DEV_USER)
        .put("scp", scopes)
        .put("nbf", System.currentTimeMillis() / 1000 - 5),
      new JWTOptions().setAlgorithm("ES256").setIssuer(settings.issuer())
        .setAudience(java.util.List.of(settings.audience())).setExpiresInSeconds(expiresInSeconds)
        .setHeader(new JsonObject().put("kid", privateKey.getString("kid"))));
  }

  private static String require(String flag, String value) {
    if (value == null) {
      fail(flag + " needs a value");
    }
    return value;
  }

  private static void fail(String message) {
    System.err.println("scripts/token: " + message);
    System.exit(2);
  }

}
