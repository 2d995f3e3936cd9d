package io.mtor.http;

/**
 * What the HTTP layer needs to know of the configuration.
 *
 * @param bodyLimitBytes largest accepted body (413 beyond)
 * @param publicBaseUrl  absolute URL prefix for links, or {@code null} to derive it from each request
 * @param defaultPageSize records in a list page without {@code $top}
 * @param maxPageSize     the most records in one list page
 */
public record HttpOptions(int bodyLimitBytes, String publicBaseUrl, int defaultPageSize, int maxPageSize) {
}
