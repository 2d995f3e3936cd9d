package io.mtor.app;

import io.vertx.core.Future;

/**
 * Where the application service sends its commands in cluster mode: into a replicated log, whose committed entries
 * every node applies in log order with {@link ResultsApplication#applyLogged(Command, long)}. Without one (single-node
 * mode) the service applies each command itself, at once.
 */
public interface Replication {

  /**
   * Appends {@code command} to the log and completes, on the caller's context, with its result once a majority has
   * it and this node has applied it; fails with the command's own {@code ResultException} (409, 412, ...) or, while
   * no leader can take it, with a 503 one.
   */
  Future<Stored> submit(Command command);

  /**
   * Completes, on the caller's context, once this node has applied every change committed before the call (so that
   * a read then sees every write acknowledged by any node); fails with a 503 {@code ResultException} when that
   * cannot be known in time.
   */
  Future<Void> readable();

  /** As {@link #readable()}, blocking the calling thread (a worker's, never an event loop's). */
  void awaitReadable();
}
