package io.mtor.config;

/**
 * Idempotent creates: a create repeated with the same key answers as the first did instead of creating again.
 *
 * @param windowSeconds   how long a key is remembered
 * @param clientRequestId whether a repeated {@code client-request-id} counts as an {@code Idempotency-Key}
 */
public record IdempotencySettings(int windowSeconds, boolean clientRequestId) {

  public static final Setting<IdempotencySettings, Integer> WINDOW_SECONDS = Setting.integer(
    "idempotency.windowSeconds", "IDEMPOTENCY_WINDOW_SECONDS", 86_400, 1, 2_592_000, IdempotencySettings::windowSeconds);
  public static final Setting<IdempotencySettings, Boolean> CLIENT_REQUEST_ID = Setting.bool(
    "idempotency.clientRequestId", "IDEMPOTENCY_CLIENT_REQUEST_ID", true, IdempotencySettings::clientRequestId);

  public static final Section<IdempotencySettings> SECTION = Section.of(v -> new IdempotencySettings(
    v.get(WINDOW_SECONDS), v.get(CLIENT_REQUEST_ID)));
}
