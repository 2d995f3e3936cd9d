package io.mtor.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Group commit of the ordered index: one thread takes the record writes waiting for the index and does them in
 * batches, one LMDB write transaction per batch (two with idempotency points that must go first) instead of one or
 * two per write. An index write touches about fifteen
 * B-tree entries whose pages LMDB copies on write; in one transaction, writes close in time share most of those
 * pages (the counters, the upper levels, the newest end of each order), and a commit is paid once. Under load a
 * batch holds what arrived while the previous one ran, so batches grow with the load and a quiet write waits
 * for no one.
 *
 * <p>A batch, in order: each write's record is written to the records files, outside any transaction; then one
 * transaction makes the index follow each record, with the idempotency points of a create that won. A crash between
 * the two loses no key: the create's outbox event holds its points, and the next open reconciles the records its
 * events name, points included. Only without an outbox event to hold them (no audit trail) do a write's points go
 * first, in a transaction of their own before its record (a crash after it leaves a candidate, never a record
 * whose key is lost), and go again if the write did not happen. Only then are the writes completed: a write is
 * acknowledged once its record is listable, so a client lists what it created.
 *
 * <p>The queue is bounded ({@value #QUEUE} writes): beyond it the writing thread does its write itself. The HTTP
 * layer's admission control keeps far fewer writes in flight.
 */
final class IndexWriter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(IndexWriter.class);

  /** Writes per batch at most: a batch's transaction stays short, so readers' snapshots stay fresh. */
  static final int MAX_BATCH = 256;
  static final int QUEUE = 8192;

  /**
   * One record write's part in a batch.
   *
   * @param key            the record's key
   * @param points         pseudo-properties to index with the record (empty: none)
   * @param pointsFirst    whether they go in before the record is written, in a transaction of their own (else
   *                       with the record's entries: the write's outbox event restores them after a crash)
   * @param write          the record write: null when it succeeded, else why this write alone failed (it then
   *                       wrote nothing); the write of a replace or delete has already happened (it does nothing)
   * @param pointsFailed   what the write fails with when the points could not be added (nothing was written)
   * @param indexFailed    what the write fails with when the index could not follow its record (the record and
   *                       its event stand; the next open after an unclean exit reconciles it, with its points while
   *                       the event waits for the audit trail: a retry of the create before that makes a second
   *                       record, as the index that would have found the key could not be written)
   */
  record Job(String key, Map<String, String> points, boolean pointsFirst, Supplier<RuntimeException> write,
             Function<RuntimeException, RuntimeException> pointsFailed,
             Function<RuntimeException, RuntimeException> indexFailed, CompletableFuture<Void> done) {

    Job(String key, Map<String, String> points, boolean pointsFirst, Supplier<RuntimeException> write,
        Function<RuntimeException, RuntimeException> pointsFailed,
        Function<RuntimeException, RuntimeException> indexFailed) {
      this(key, points, pointsFirst, write, pointsFailed, indexFailed, new CompletableFuture<>());
    }

    boolean pointsBefore() {
      return pointsFirst && !points.isEmpty();
    }
  }

  private final OrderedIndex index;
  private final Function<String, byte[]> records;
  private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>(QUEUE);
  private final Thread thread;
  private volatile boolean closing;

  /**
   * @param records reads a record as it is now (null: none), inside the index's write transaction, so that of
   *                concurrent writes of one record the index ends as the record is
   */
  IndexWriter(OrderedIndex index, Function<String, byte[]> records) {
    this.index = index;
    this.records = records;
    this.thread = new Thread(this::run, "store-index-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Queues {@code job}; its {@link Job#done} completes once its batch has committed. With the queue full (or the
   * writer stopping), the caller does the job itself, as a batch of one: a write is never dropped, and the queue's
   * bound turns into back-pressure on the threads that write.
   */
  CompletableFuture<Void> submit(Job job) {
    if (closing || !queue.offer(job)) {
      write(List.of(job));
    }
    return job.done;
  }

  private void run() {
    List<Job> batch = new ArrayList<>(MAX_BATCH);
    while (true) {
      try {
        Job first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          if (closing) {
            return;
          }
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        write(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | Error e) {
        // A bug, not a store failure (those fail their writes): the writes learn of it, the thread goes on.
        LOG.error("Index batch failed", e);
        batch.forEach(job -> job.done.completeExceptionally(e));
      }
      batch.clear();
    }
  }

  private void write(List<Job> batch) {
    int n = batch.size();
    List<Map<String, String>> added = new ArrayList<>(n);
    RuntimeException[] failed = new RuntimeException[n];
    if (batch.stream().anyMatch(Job::pointsBefore)) {
      try {
        added.addAll(index.write(txn -> {
          List<Map<String, String>> out = new ArrayList<>(n);
          for (Job job : batch) {
            out.add(job.pointsBefore() ? index.addPoints(txn, job.key, job.points) : Map.of());
          }
          return out;
        }));
      } catch (RuntimeException e) {
        // Only the writes with points first fail (nothing of theirs was written); the others go on without them.
        List<Job> rest = new ArrayList<>(n);
        for (Job job : batch) {
          if (!job.pointsBefore()) {
            rest.add(job);
          } else {
            job.done.completeExceptionally(job.pointsFailed.apply(e));
          }
        }
        if (!rest.isEmpty()) {
          write(rest);
        }
        return;
      }
    } else {
      batch.forEach(job -> added.add(Map.of()));
    }
    for (int i = 0; i < n; i++) {
      failed[i] = batch.get(i).write.get();
    }
    try {
      index.write(txn -> {
        for (int i = 0; i < n; i++) {
          Job job = batch.get(i);
          if (failed[i] == null) {
            index.reconcile(txn, job.key, records.apply(job.key), job.points);
          } else {
            index.removePoints(txn, job.key, added.get(i));
          }
        }
        return null;
      });
    } catch (RuntimeException e) {
      for (int i = 0; i < n; i++) {
        if (failed[i] == null) {
          failed[i] = batch.get(i).indexFailed.apply(e);
        }
      }
    }
    for (int i = 0; i < n; i++) {
      if (failed[i] == null) {
        batch.get(i).done.complete(null);
      } else {
        batch.get(i).done.completeExceptionally(failed[i]);
      }
    }
  }

  /** Finishes the writes queued so far, then stops; writes submitted after this are done by their callers. */
  @Override
  public void close() {
    closing = true;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.warn("The index writer did not finish within 10 s");
    }
    for (Job job; (job = queue.poll()) != null; ) {
      write(List.of(job));
    }
  }
}
