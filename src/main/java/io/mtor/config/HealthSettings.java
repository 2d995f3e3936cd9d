package io.mtor.config;

/**
 * Readiness.
 *
 * @param maxAuditBacklog audit backlog at and above which {@code /health/ready} answers 503
 */
public record HealthSettings(long maxAuditBacklog) {

  public static final Setting<HealthSettings, Long> MAX_AUDIT_BACKLOG = Setting.longInteger("health.maxAuditBacklog",
    "HEALTH_MAX_AUDIT_BACKLOG", 10_000, 1, 100_000_000, HealthSettings::maxAuditBacklog);

  public static final Section<HealthSettings> SECTION = Section.of(v -> new HealthSettings(v.get(MAX_AUDIT_BACKLOG)));
}
