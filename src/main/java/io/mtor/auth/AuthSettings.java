package io.mtor.auth;

import io.mtor.config.Section;
import io.mtor.config.Setting;

/**
 * How bearer tokens are checked.
 *
 * @param enabled          whether resource routes require a token
 * @param issuer           the required {@code iss}
 * @param audience         the required {@code aud}
 * @param jwksUrl          a JWKS endpoint to trust (Microsoft Entra ID publishes its keys so), or null
 * @param jwksFile         a local JWKS (JSON) or PEM public key file to trust, or null
 * @param devKey           whether to create (on first start) and trust a development signing key in the data folder
 * @param clockSkewSeconds tolerance on {@code exp} and {@code nbf}
 * @param refreshSeconds   how often the JWKS endpoint is read again (also on an unknown key id, at most every second)
 * @param tenantIsolation  whether a caller sees only its own tenant's records
 */
public record AuthSettings(boolean enabled, String issuer, String audience, String jwksUrl, String jwksFile,
                           boolean devKey, int clockSkewSeconds, int refreshSeconds, boolean tenantIsolation) {

  public static final Setting<AuthSettings, Boolean> ENABLED = Setting.bool("auth.enabled", "AUTH_ENABLED", true,
    AuthSettings::enabled);
  public static final Setting<AuthSettings, String> ISSUER = Setting.text("auth.issuer", "AUTH_ISSUER",
    "https://managed-tenant-operation-results.local/dev", "the issuer (iss) tokens must carry", AuthSettings::issuer);
  public static final Setting<AuthSettings, String> AUDIENCE = Setting.text("auth.audience", "AUTH_AUDIENCE",
    "api://managed-tenant-operation-results", "the audience (aud) tokens must carry", AuthSettings::audience);
  public static final Setting<AuthSettings, String> JWKS_URL = Setting.optionalText("auth.jwksUrl", "AUTH_JWKS_URL",
    "an http(s) URL of a JWKS, or empty", url -> url.matches("https?://\\S+"), AuthSettings::jwksUrl);
  public static final Setting<AuthSettings, String> JWKS_FILE = Setting.optionalText("auth.jwksFile", "AUTH_JWKS_FILE",
    "a path to a JWKS (JSON) or PEM public key file, or empty", file -> true, AuthSettings::jwksFile);
  public static final Setting<AuthSettings, Boolean> DEV_KEY = Setting.bool("auth.devKey", "AUTH_DEV_KEY", true,
    AuthSettings::devKey);
  public static final Setting<AuthSettings, Integer> CLOCK_SKEW_SECONDS = Setting.integer("auth.clockSkewSeconds",
    "AUTH_CLOCK_SKEW_SECONDS", 60, 0, 600, AuthSettings::clockSkewSeconds);
  public static final Setting<AuthSettings, Integer> JWKS_REFRESH_SECONDS = Setting.integer("auth.jwksRefreshSeconds",
    "AUTH_JWKS_REFRESH_SECONDS", 3600, 10, 86_400, AuthSettings::refreshSeconds);
  public static final Setting<AuthSettings, Boolean> TENANT_ISOLATION = Setting.bool("auth.tenantIsolation",
    "AUTH_TENANT_ISOLATION", true, AuthSettings::tenantIsolation);

  public static final Section<AuthSettings> SECTION = Section.of(v -> new AuthSettings(v.get(ENABLED), v.get(ISSUER),
    v.get(AUDIENCE), v.get(JWKS_URL), v.get(JWKS_FILE), v.get(DEV_KEY), v.get(CLOCK_SKEW_SECONDS),
    v.get(JWKS_REFRESH_SECONDS), v.get(TENANT_ISOLATION)));
}
