package io.mtor.auth;

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
}
