package io.mtor.http;

import java.util.Set;

/**
 * What the HTTP layer needs to know of the configuration.
 *
 * @param bodyLimitBytes  largest accepted body (413 beyond)
 * @param publicBaseUrl   absolute URL prefix for links, or {@code null} to derive it from each request
 * @param defaultPageSize records in a list page without {@code $top}
 * @param maxPageSize     the most records in one list page
 * @param ratePerSecond   requests a second per caller, 0 for no limit
 * @param burst           requests a caller may make at once above its rate
 * @param allowedHosts    Host names (lowercase, IPv6 in brackets, no port) links may be built from when there is no
 *                        {@code publicBaseUrl}; requests naming another host get 421
 * @param clientRequestIdIsIdempotencyKey whether a create's {@code client-request-id} counts as its idempotency key
 *                        when it sends no {@code Idempotency-Key}
 */
public record HttpOptions(int bodyLimitBytes, String publicBaseUrl, int defaultPageSize, int maxPageSize,
                          int ratePerSecond, int burst, Set<String> allowedHosts, boolean clientRequestIdIsIdempotencyKey) {

  /** Options without a rate limit, accepting the machine's own host names. */
  public HttpOptions(int bodyLimitBytes, String publicBaseUrl, int defaultPageSize, int maxPageSize) {
    this(bodyLimitBytes, publicBaseUrl, defaultPageSize, maxPageSize, 0, 1, HostCheck.ownNames(), true);
  }
}
