package io.mtor.config;

/**
 * Protection against overload and abuse.
 *
 * @param maxInFlight           requests served at once; beyond, 503 with Retry-After
 * @param maxHeaderBytes        total request header size; beyond, 431
 * @param maxUrlBytes           request line length; beyond, 414
 * @param idleTimeoutSeconds    an idle connection is closed after this long
 * @param requestTimeoutSeconds a request not answered in this long (a body that trickles in, say) gets 408
 * @param ratePerSecond         requests per second per caller (token subject, else client address); 0 is off
 * @param burst                 requests a caller may make at once above its rate
 * @param maxScans              list queries running at once in the process; beyond, 503 with Retry-After
 * @param maxScansPerCaller     list queries one caller may have running at once; beyond, 429 with Retry-After
 * @param queryBudgetMillis     how long one list query may read the store before it is stopped (400)
 */
public record LimitSettings(int maxInFlight, int maxHeaderBytes, int maxUrlBytes, int idleTimeoutSeconds,
                            int requestTimeoutSeconds, int ratePerSecond, int burst, int maxScans,
                            int maxScansPerCaller, int queryBudgetMillis) {

  public static final Setting<LimitSettings, Integer> MAX_IN_FLIGHT = Setting.integer("limits.maxInFlight",
    "MAX_IN_FLIGHT", 4096, 1, 1_000_000, LimitSettings::maxInFlight);
  public static final Setting<LimitSettings, Integer> MAX_HEADER_BYTES = Setting.integer("limits.maxHeaderBytes",
    "MAX_HEADER_BYTES", 8192, 1024, 1 << 20, LimitSettings::maxHeaderBytes);
  public static final Setting<LimitSettings, Integer> MAX_URL_BYTES = Setting.integer("limits.maxUrlBytes",
    "MAX_URL_BYTES", 4096, 256, 1 << 20, LimitSettings::maxUrlBytes);
  public static final Setting<LimitSettings, Integer> IDLE_TIMEOUT_SECONDS = Setting.integer(
    "limits.idleTimeoutSeconds", "IDLE_TIMEOUT_SECONDS", 60, 1, 86_400, LimitSettings::idleTimeoutSeconds);
  public static final Setting<LimitSettings, Integer> REQUEST_TIMEOUT_SECONDS = Setting.integer(
    "limits.requestTimeoutSeconds", "REQUEST_TIMEOUT_SECONDS", 30, 1, 3_600, LimitSettings::requestTimeoutSeconds);
  public static final Setting<LimitSettings, Integer> RATE_PER_SECOND = Setting.integer("limits.ratePerSecond",
    "RATE_LIMIT_PER_SECOND", 1000, 0, 1_000_000, "an integer from 0 (off) to 1000000", LimitSettings::ratePerSecond);
  public static final Setting<LimitSettings, Integer> BURST = Setting.integer("limits.burst", "RATE_LIMIT_BURST", 2000,
    1, 1_000_000, LimitSettings::burst);
  public static final Setting<LimitSettings, Integer> MAX_SCANS = Setting.integer("limits.maxScans", "MAX_SCANS", 4,
    1, 256, LimitSettings::maxScans);
  public static final Setting<LimitSettings, Integer> MAX_SCANS_PER_CALLER = Setting.integer(
    "limits.maxScansPerCaller", "MAX_SCANS_PER_CALLER", 2, 1, 256, LimitSettings::maxScansPerCaller);
  public static final Setting<LimitSettings, Integer> QUERY_BUDGET_MILLIS = Setting.integer("limits.queryBudgetMillis",
    "QUERY_BUDGET_MILLIS", 10_000, 100, 600_000, LimitSettings::queryBudgetMillis);

  public static final Section<LimitSettings> SECTION = Section.of(v -> new LimitSettings(v.get(MAX_IN_FLIGHT),
    v.get(MAX_HEADER_BYTES), v.get(MAX_URL_BYTES), v.get(IDLE_TIMEOUT_SECONDS), v.get(REQUEST_TIMEOUT_SECONDS),
    v.get(RATE_PER_SECOND), v.get(BURST), v.get(MAX_SCANS), v.get(MAX_SCANS_PER_CALLER), v.get(QUERY_BUDGET_MILLIS)));
}
