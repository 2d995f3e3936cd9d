package io.mtor.config;

/**
 * The audit trail.
 *
 * @param enabled       whether the service deploys its audit trail writer
 * @param maxFileBytes  size at which an audit file is rotated
 * @param outboxEntries events that may await the audit trail before writes answer 503
 */
public record AuditSettings(boolean enabled, long maxFileBytes, long outboxEntries) {

  public static final Setting<AuditSettings, Boolean> ENABLED = Setting.bool("audit.enabled", "AUDIT_ENABLED", true,
    AuditSettings::enabled);
  public static final Setting<AuditSettings, Long> MAX_FILE_BYTES = Setting.longInteger("audit.maxFileBytes",
    "AUDIT_MAX_FILE_BYTES", 64L << 20, 4096, 64L << 30, AuditSettings::maxFileBytes);
  public static final Setting<AuditSettings, Long> OUTBOX_ENTRIES = Setting.longInteger("audit.outboxEntries",
    "AUDIT_OUTBOX_ENTRIES", 50_000, 100, 100_000_000, AuditSettings::outboxEntries);

  public static final Section<AuditSettings> SECTION = Section.of(v -> new AuditSettings(v.get(ENABLED),
    v.get(MAX_FILE_BYTES), v.get(OUTBOX_ENTRIES)));
}
