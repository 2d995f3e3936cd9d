package io.mtor.auth;

import io.mtor.domain.Guids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
import java.time.Clock;
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
import java.util.regex.Pattern;

/**
 * Checks bearer tokens in three steps. First {@link #shape} (before any library parsing): at most
 * {@value #MAX_TOKEN_CHARS} characters, three base64url segments, a JSON header without {@code crit}
 * whose {@code alg} is one of {@link #ALGORITHMS}, and for ECDSA a signature in the JWS form R||S of
 * the exact length. Then vertx-auth-jwt checks the signature against the trusted keys (asymmetric only:
 * the development key, a JWKS or PEM file, a JWKS endpoint). Last {@link #checkClaims} checks the verified
 * claims: issuer, audience, a required {@code exp}, {@code nbf} and {@code iat} with a clock skew, and
 * {@code tid}. A JWKS endpoint is read at start, every {@code refreshSeconds}, and again (at most every
 * second) when a token names a key it does not know, so key rotation needs no restart.
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

  /** Longer tokens are refused before any parsing (Entra ID's are 1 to 3 KiB). */
  static final int MAX_TOKEN_CHARS = 16 * 1024;
  /** The signature algorithms accepted: asymmetric only, so never {@code none} nor HMAC. */
  static final Set<String> ALGORITHMS = Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512");
  private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]*");
  /** Without tenant isolation, any short visible ASCII text: no spaces, no control or non-ASCII characters. */
  private static final Pattern TENANT_TEXT = Pattern.compile("[\\x21-\\x7E]{1,64}");

  // The reasons given to clients: fixed phrases, never a claim's value nor a library's message.
  static final String TOO_LARGE = "the token is too large";
  static final String MALFORMED = "the token is malformed";
  static final String CRITICAL = "the token has critical header parameters (crit) that this service does not understand";
  static final String UNSIGNED = "unsigned tokens are not accepted";
  static final String UNTRUSTED = "the token is not signed by a trusted key (algorithm or key id unknown)";
  static final String ALGORITHM = "the token is not signed by a trusted key (algorithm not accepted)";
  static final String BAD_SIGNATURE = "the token's signature does not verify";
  static final String ISSUER = "the token is from another issuer";
  static final String AUDIENCE = "the token is for another audience";
  static final String NO_EXPIRY = "the token has no expiry (exp)";
  static final String EXPIRED = "the token has expired";
  static final String NOT_YET_VALID = "the token is not valid yet";
  static final String NO_TENANT = "the token has no tenant (tid)";
  static final String BAD_TENANT = "the token's tenant (tid) is not valid";

  private final Vertx vertx;
  private final Clock clock;
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

  private TokenVerifier(Vertx vertx, AuthSettings settings, List<JsonObject> localKeys, List<PubSecKeyOptions> pemKeys,
                        Clock clock) {
    this.clock = clock;
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
    return create(vertx, settings, dataDir, Clock.systemUTC());
  }

  /** As {@link #create(Vertx, AuthSettings, Path)}, with the clock that decides expiry and refetching. */
  public static Future<TokenVerifier> create(Vertx vertx, AuthSettings settings, Path dataDir, Clock clock) {
    return vertx.executeBlocking(() -> {
      List<JsonObject> jwks = new ArrayList<>();
      List<PubSecKeyOptions> pems = new ArrayList<>();
      if (settings.devKey()) {
        jwks.add(DevSigningKey.publicJwk(DevSigningKey.loadOrCreate(dataDir)));
      }
      if (settings.jwksFile() != null) {
        readKeyFile(Path.of(settings.jwksFile()), jwks, pems);
      }
      return new TokenVerifier(vertx, settings, jwks, pems, clock);
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
      jwks.addAll(trusted(json.getJsonArray("keys", new JsonArray().add(json))));
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

  /**
   * The keys of a JWKS this service may trust, each with its {@code alg}. Symmetric ({@code oct}) keys never are:
   * a shared secret would let anyone who holds it mint tokens.
   */
  private static List<JsonObject> trusted(JsonArray keys) {
    List<JsonObject> trusted = new ArrayList<>();
    keys.forEach(key -> {
      JsonObject jwk = (JsonObject) key;
      if (!"oct".equals(jwk.getString("kty"))) {
        trusted.add(withAlgorithm(jwk));
      }
    });
    return trusted;
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
        return Future.succeededFuture(trusted(response.bodyAsJsonObject().getJsonArray("keys", new JsonArray())));
      });
    return remote.map(keys -> {
      fetchedAt = clock.millis();
      List<JsonObject> all = new ArrayList<>(localKeys);
      all.addAll(keys);
      if (all.isEmpty() && pemKeys.isEmpty()) {
        LOG.error("No trusted key after reading {}: keeping the previous ones", settings.jwksUrl());
        return null;
      }
      // The library checks only the signature: checkClaims() checks iss, aud and the dates, so that each
      // failure gets its own fixed phrase instead of one recognised by the library's message text.
      JWTAuthOptions options = new JWTAuthOptions()
        .setJwks(all)
        .setPubSecKeys(new ArrayList<>(pemKeys))
        .setJWTOptions(new JWTOptions().setIgnoreExpiration(true));
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

  /** Whether {@code token} was verified lately and is still valid: {@link #verify} answers it without a check. */
  public boolean accepted(String token) {
    Verified hit = verified.get(token);
    return hit != null && hit.untilMillis() > clock.millis();
  }

  /** The caller the token speaks for, or a failed future with a {@link Rejected} reason. */
  public Future<Caller> verify(String token) {
    if (token.length() > MAX_TOKEN_CHARS) {
      return Future.failedFuture(new Rejected(TOO_LARGE));
    }
    Verified hit = verified.get(token);
    long now = clock.millis();
    if (hit != null && hit.untilMillis() > now) {
      return Future.succeededFuture(hit.caller());
    }
    String misshapen = shape(token);
    if (misshapen != null) {
      return Future.failedFuture(new Rejected(misshapen));
    }
    return authenticate(token).recover(e -> {
      if (e instanceof NoSuchKeyIdException && settings.jwksUrl() != null
        && clock.millis() - fetchedAt > REFETCH_AFTER_MILLIS) {
        // Perhaps the keys rotated: read them again, once, and retry.
        return refresh().compose(v -> authenticate(token));
      }
      return Future.failedFuture(e);
    }).transform(done -> {
      if (done.failed()) {
        return Future.failedFuture(new Rejected(reason(done.cause())));
      }
      Caller caller;
      double exp;
      try {
        // vertx-auth-jwt keeps the verified payload whole in this attribute (exp, iat and nbf leave the principal).
        JsonObject claims = done.result().attributes().getJsonObject("accessToken");
        if (claims == null) {
          return Future.failedFuture(new Rejected(MALFORMED));
        }
        exp = checkClaims(claims, now / 1000.0);
        caller = caller(claims);
      } catch (Rejected e) {
        return Future.failedFuture(e);
      } catch (RuntimeException e) {
        // a claim of the wrong JSON type (oid a number, say)
        return Future.failedFuture(new Rejected(MALFORMED));
      }
      long until = (long) Math.min(now + CACHE_MILLIS, (exp + settings.clockSkewSeconds()) * 1000.0);
      if (verified.size() >= CACHE_ENTRIES) {
        verified.clear();
      }
      verified.put(token, new Verified(caller, until));
      return Future.succeededFuture(caller);
    });
  }

  /**
   * Why the token's form is refused, or null if vertx-auth-jwt may look at it. Decodes the header once;
   * the caller has bounded the token's length.
   */
  static String shape(String token) {
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second < 0 || token.indexOf('.', second + 1) >= 0) {
      return MALFORMED;
    }
    byte[] headerBytes = base64url(token.substring(0, first));
    byte[] payloadBytes = base64url(token.substring(first + 1, second));
    byte[] signature = base64url(token.substring(second + 1));
    if (headerBytes == null || payloadBytes == null || signature == null) {
      return MALFORMED;
    }
    JsonObject header;
    try {
      header = new JsonObject(Buffer.buffer(headerBytes));
    } catch (RuntimeException e) {
      return MALFORMED;
    }
    // RFC 7515 section 4.1.11: a recipient must reject critical extensions it does not understand; this
    // service understands none.
    if (header.containsKey("crit")) {
      return CRITICAL;
    }
    if (!(header.getValue("alg") instanceof String alg)) {
      return MALFORMED;
    }
    if (alg.equalsIgnoreCase("none")) {
      return UNSIGNED;
    }
    if (!ALGORITHMS.contains(alg)) {
      return ALGORITHM;
    }
    // ECDSA signatures only in the JWS form R||S (RFC 7518 section 3.4), never ASN.1 DER, which the library
    // would also take. High S is accepted: RFC 7518 does not require low S, the JDK's signer (the library's,
    // scripts/token's) emits it half the time, and a malleated twin is a different cache key carrying the same
    // claims and expiry, so an attacker gains nothing.
    int length = switch (alg) {
      case "ES256" -> 64;
      case "ES384" -> 96;
      case "ES512" -> 132;
      default -> -1;
    };
    if (length > 0 ? signature.length != length : signature.length == 0) {
      return BAD_SIGNATURE;
    }
    return null;
  }

  /** The bytes of a base64url segment (RFC 7515: no padding, no other characters), or null. */
  private static byte[] base64url(String segment) {
    if (segment.length() % 4 == 1 || !BASE64URL.matcher(segment).matches()) {
      return null;
    }
    try {
      return Base64.getUrlDecoder().decode(segment);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Checks the verified claims and returns {@code exp} (seconds), or throws {@link Rejected}. The dates are
   * NumericDates, checked with the clock skew as the library would: expired from {@code exp - skew} on.
   */
  private double checkClaims(JsonObject claims, double nowSeconds) {
    if (settings.issuer() != null && !settings.issuer().equals(claims.getValue("iss"))) {
      throw new Rejected(ISSUER);
    }
    if (settings.audience() != null) {
      Object aud = claims.getValue("aud");
      boolean ours = aud instanceof JsonArray array ? array.contains(settings.audience()) : settings.audience().equals(aud);
      if (!ours) {
        throw new Rejected(AUDIENCE);
      }
    }
    int skew = settings.clockSkewSeconds();
    Object exp = claims.getValue("exp");
    if (exp == null) {
      throw new Rejected(NO_EXPIRY);
    }
    double expires = numericDate(exp);
    if (nowSeconds - skew >= expires) {
      throw new Rejected(EXPIRED);
    }
    for (String notBefore : List.of("nbf", "iat")) {
      Object value = claims.getValue(notBefore);
      if (value != null && numericDate(value) > nowSeconds + skew) {
        throw new Rejected(NOT_YET_VALID);
      }
    }
    Object tid = claims.getValue("tid");
    if (tid == null) {
      throw new Rejected(NO_TENANT);
    }
    // The value is never echoed: it may be anything an attacker's identity provider put there.
    // A tenant id as Entra ID issues it is a GUID, nothing before or after.
    if (!(tid instanceof String tenant)
      || !(settings.tenantIsolation() ? Guids.isGuid(tenant) : TENANT_TEXT.matcher(tenant).matches())) {
      throw new Rejected(BAD_TENANT);
    }
    return expires;
  }

  private static double numericDate(Object value) {
    if (value instanceof Number number && Double.isFinite(number.doubleValue())) {
      return number.doubleValue();
    }
    throw new Rejected(MALFORMED);
  }

  private Future<User> authenticate(String token) {
    try {
      return auth.get().authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static Caller caller(JsonObject claims) {
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

  /**
   * A fixed phrase for each kind of library failure, by type: library messages can carry token material.
   * The library is left only the signature (and the token's syntax), so anything else is malformed.
   */
  private static String reason(Throwable e) {
    if (e instanceof NoSuchKeyIdException) {
      return UNTRUSTED;
    }
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof java.security.SignatureException) {
        return BAD_SIGNATURE;
      }
    }
    return MALFORMED;
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
