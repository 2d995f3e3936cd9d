package io.mtor.http;

/**
 * What the HTTP layer needs to know of the configuration.
 *
 * @param bodyLimitBytes largest accepted body (413 beyond)
 * @param publicBaseUrl  absolute URL prefix for links, or {@code null} to derive it from each request
 */
public record HttpOptions(int bodyLimitBytes, String publicBaseUrl) {
}
