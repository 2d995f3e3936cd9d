package io.mtor.app;

import io.mtor.domain.OperationResults;

/** A record as stored: its JSON bytes (as GET returns them, without annotations) and their entity tag. */
public record Stored(byte[] json, String etag) {

  static Stored of(byte[] json) {
    return new Stored(json, OperationResults.etag(json));
  }
}
