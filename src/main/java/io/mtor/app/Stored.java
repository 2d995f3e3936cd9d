package io.mtor.app;

import io.mtor.domain.OperationResults;

/**
 * A record as stored: its JSON bytes (as GET returns them, without annotations) and their entity tag; {@code replayed}
 * when a create was answered from an earlier one with the same idempotency key instead of making a record.
 */
public record Stored(byte[] json, String etag, boolean replayed) {

  static Stored of(byte[] json) {
    return new Stored(json, OperationResults.etag(json), false);
  }

  static Stored replayOf(byte[] json) {
    return new Stored(json, OperationResults.etag(json), true);
  }
}
