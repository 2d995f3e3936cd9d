package io.mtor.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.NoSuchKeyIdException;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.WebClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Checks bearer tokens with vertx-auth-jwt: the signature against the trusted keys (asymmetric only: the
 * development key, a JWKS or PEM file, a JWKS endpoint), then issuer, audience, {@code exp} and {@code nbf}
 * with a clock skew. A JWKS endpoint is read at start, every {@code refreshSeconds}, and again (at most
 * every second) when a token names a key it does not know, so key rotation needs no restart.
 */
public final class TokenVerifier {

  /** Why a token was refused, in words safe to show the client (never the token). */
  public static final class Rejected extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Rejected(String reason) {
      super(reason, null, false, false);
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(TokenVerifier.class);
  private static final long REFETCH_AFTER_MILLIS = 1_000;

  private final Vertx vertx;
  private final AuthSettings settings;
  private final List<JsonObject> localKeys;
  private final List<PubSecKeyOptions> pemKeys;
  private final WebClient client;
  private final AtomicReference<JWTAuth> auth = new AtomicReference<>();
  /**
   * Tokens verified lately: a client sends the same token for its whole life, and an ES256 signature check
   * costs about a millisecond of CPU on the JDK's pure-Java ECDSA. An entry lives until the token expires,
   * at most {@value #CACHE_MILLIS} ms, and the cache empties whenever the trusted keys change.
   */
  private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();
  private static final long CACHE_MILLIS = 60_000;
  private static final int CACHE_ENTRIES = 10_000;

  private record Verified(Caller caller, long untilMillis) {
  }
  private volatile long fetchedAt;
  private long timer = -1;

  private TokenVerifier(Vertx vertx, AuthSettings settings, List<JsonObject> localKeys, List<PubSecKeyOptions> pemKeys) {
    this.vertx = vertx;
    this.settings = settings;
    this.localKeys = localKeys;
    this.pemKeys = pemKeys;
    this.client = settings.jwksUrl() == null ? null : WebClient.create(vertx);
  }

  /**
   * Loads the trusted keys. Fails if none is configured: with no key, the JWT library would accept
   * unsigned tokens.
   */
  public static Future<TokenVerifier> create(Vertx vertx, AuthSettings settings, Path dataDir) {
    return vertx.executeBlocking(() -> {
      List<JsonObject> jwks = new ArrayList<>();
      List<PubSecKeyOptions> pems = new ArrayList<>();
      if (settings.devKey()) {
        jwks.add(DevSigningKey.publicJwk(DevSigningKey.loadOrCreate(dataDir)));
      }
      if (settings.jwksFile() != null) {
        readKeyFile(Path.of(settings.jwksFile()), jwks, pems);
      }
      return new TokenVerifier(vertx, settings, jwks, pems);
    }).compose(verifier -> verifier.refresh().map(verifier)).compose(verifier -> {
      if (verifier.auth.get() == null) {
        return Future.failedFuture(new IllegalStateException("auth.enabled is true but no key is trusted: set "
          + "auth.jwksUrl, auth.jwksFile or auth.devKey"));
      }
      if (settings.jwksUrl() != null) {
        verifier.timer = vertx.setPeriodic(settings.refreshSeconds() * 1000L, t -> verifier.refresh());
      }
      return Future.succeededFuture(verifier);
    });
  }

  private static void readKeyFile(Path file, List<JsonObject> jwks, List<PubSecKeyOptions> pems) throws Exception {
    String text = Files.readString(file, StandardCharsets.UTF_8).trim();
    if (text.startsWith("{")) {
      JsonObject json = new JsonObject(text);
      JsonArray keys = json.getJsonArray("keys", new JsonArray().add(json));
      keys.forEach(key -> {
        // Symmetric keys are never trusted: a shared secret would let anyone who holds it mint tokens.
        if (!"oct".equals(((JsonObject) key).getString("kty"))) {
          jwks.add(withAlgorithm((JsonObject) key));
        }
      });
    } else {
      String base64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      String algorithm;
      try {
        KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64)));
        algorithm = "RS256";
      } catch (java.security.spec.InvalidKeySpecException notRsa) {
        algorithm = "ES256";
      }
      pems.add(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(text));
    }
  }

  /** JWKS entries (Entra ID's among them) may omit {@code alg}; derive it from the key type. */
  private static JsonObject withAlgorithm(JsonObject jwk) {
    if (jwk.containsKey("alg")) {
      return jwk;
    }
    String alg = switch (jwk.getString("kty", "")) {
      case "RSA" -> "RS256";
      case "EC" -> switch (jwk.getString("crv", "P-256")) {
        case "P-384" -> "ES384";
        case "P-521" -> "ES512";
        default -> "ES256";
      };
      default -> null;
    };
    return alg == null ? jwk : jwk.copy().put("alg", alg);
  }

  /** Rebuilds the verifier from the local keys and, if configured, the JWKS endpoint's current keys. */
  private Future<Void> refresh() {
    Future<List<JsonObject>> remote = settings.jwksUrl() == null ? Future.succeededFuture(List.of())
      : client.getAbs(settings.jwksUrl()).timeout(10_000).send().compose(response -> {
        if (response.statusCode() != 200) {
          return Future.failedFuture("JWKS endpoint answered " + response.statusCode());
        }
        List<JsonObject> keys = new ArrayList<>();
        response.bodyAsJsonObject().getJsonArray("keys", new JsonArray())
          .forEach(key -> {
            JsonObject jwk = withAlgorithm((JsonObject) key);
            if (!"oct".equals(jwk.getString("kty"))) {
              keys.add(jwk);
            }
          });
        return Future.succeededFuture(keys);
      });
    return remote.map(keys -> {
      fetchedAt = System.currentTimeMillis();
      List<JsonObject> all = new ArrayList<>(localKeys);
      all.addAll(keys);
      if (all.isEmpty() && pemKeys.isEmpty()) {
        LOG.error("No trusted key after reading {}: keeping the previous ones", settings.jwksUrl());
        return null;
      }
      JWTAuthOptions options = new JWTAuthOptions()
        .setJwks(all)
        .setPubSecKeys(new ArrayList<>(pemKeys))
        .setJWTOptions(new JWTOptions().setIssuer(settings.issuer()).addAudience(settings.audience())
          .setLeeway(settings.clockSkewSeconds()));
      auth.set(JWTAuth.create(vertx, options));
      verified.clear();
      if (settings.jwksUrl() != null) {
        LOG.info("Trusting {} keys ({} from {})", all.size() + pemKeys.size(), keys.size(), settings.jwksUrl());
      }
      return (Void) null;
    }).recover(e -> {
      LOG.error("Could not read the JWKS endpoint {}: {}", settings.jwksUrl(), e.getMessage());
      return Future.succeededFuture();
    });
  }

  /** The caller the token speaks for, or a failed future with a {@link Rejected} reason. */
  public Future<Caller> verify(String token) {
    Verified hit = verified.get(token);
    long now = System.currentTimeMillis();
    if (hit != null && hit.untilMillis() > now) {
      return Future.succeededFuture(hit.caller());
    }
    return authenticate(token).recover(e -> {
      if (e instanceof NoSuchKeyIdException && settings.jwksUrl() != null
        && System.currentTimeMillis() - fetchedAt > REFETCH_AFTER_MILLIS) {
        // Perhaps the keys rotated: read them again, once, and retry.
        return refresh().compose(v -> authenticate(token));
      }
      return Future.failedFuture(e);
    }).transform(done -> {
      if (done.failed()) {
        return Future.failedFuture(new Rejected(reason(done.cause())));
      }
      Caller caller = caller(done.result());
      // Vert.x keeps exp among the user's attributes (and, for some providers, in the principal).
      Long exp = done.result().attributes().getLong("exp", done.result().principal().getLong("exp"));
      long until = Math.min(now + CACHE_MILLIS, exp == null ? now : exp * 1000 + settings.clockSkewSeconds() * 1000L);
      if (verified.size() >= CACHE_ENTRIES) {
        verified.clear();
      }
      verified.put(token, new Verified(caller, until));
      return Future.succeededFuture(caller);
    });
  }

  private Future<User> authenticate(String token) {
    try {
      return auth.get().authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static Caller caller(User user) {
    JsonObject claims = user.principal();
    Set<String> permissions = new LinkedHashSet<>();
    Object scp = claims.getValue("scp");
    if (scp instanceof String scopes) {
      for (String scope : scopes.trim().split("\\s+")) {
        permissions.add(scope);
      }
    }
    Object roles = claims.getValue("roles");
    if (roles instanceof JsonArray array) {
      array.forEach(role -> permissions.add(String.valueOf(role)));
    }
    String appId = claims.getString("appid", claims.getString("azp"));
    return new Caller(claims.getString("tid"), claims.getString("oid"), appId, permissions);
  }

  /** A fixed phrase for each kind of failure: library messages can carry token material. */
  private static String reason(Throwable e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (e instanceof NoSuchKeyIdException) {
      return "the token is not signed by a trusted key (algorithm or key id unknown)";
    }
    if (message.contains("expired")) {
      return "the token has expired or is not valid yet";
    }
    if (message.contains("audience")) {
      return "the token is for another audience";
    }
    if (message.contains("issuer")) {
      return "the token is from another issuer";
    }
    if (message.contains("none")) {
      return "unsigned tokens are not accepted";
    }
    if (e instanceof java.security.SignatureException || message.contains("Signature")) {
      return "the token's signature does not verify";
    }
    return "the token is malformed";
  }

  public AuthSettings settings() {
    return settings;
  }

  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (client != null) {
      client.close();
    }
  }
}
