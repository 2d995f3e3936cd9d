package io.mtor.http;

/**
 * What the HTTP layer needs to know of the configuration.
 *
 * @param bodyLimitBytes largest accepted body (413 beyond)
 * @param publicBaseUrl  absolute URL prefix for links, or {@code null} to derive it from each request
 * @param defaultPageSize records in a list page without {@code $top}
 * @param maxPageSize     the most records in one list page
 * @param ratePerSecond   requests a second per caller, 0 for no limit
 * @param burst           requests a caller may make at once above its rate
 */
public record HttpOptions(int bodyLimitBytes, String publicBaseUrl, int defaultPageSize, int maxPageSize,
                          int ratePerSecond, int burst) {

  /** Options without a rate limit. */
  public HttpOptions(int bodyLimitBytes, String publicBaseUrl, int defaultPageSize, int maxPageSize) {
    this(bodyLimitBytes, publicBaseUrl, defaultPageSize, maxPageSize, 0, 1);
  }
}
