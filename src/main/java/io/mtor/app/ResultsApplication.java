package io.mtor.app;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mtor.auth.Caller;
import io.mtor.domain.EntityTags;
import io.mtor.domain.OperationResults;
import io.mtor.domain.ResultException;
import io.mtor.domain.StoredJson;
import io.mtor.events.ResultEvent;
import io.mtor.events.ResultEvents;
import io.mtor.query.QueryOptions;
import io.mtor.store.OperationResultStore;
import io.mtor.store.OrderedIndex;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rules of the resource, whatever the transport: who may see and change which record (tenant isolation), ids
 * scoped to the caller's tenant, conflicts and {@code If-Match}, and the event every change publishes. A request
 * becomes a {@link Command} (every server-decided value filled in, from the {@link Clock}), which {@link #apply}
 * carries out against the store and publishes. Reads run on the calling thread (a warm Chronicle get takes about a
 * microsecond, well below the cost of a hop to a worker); writes complete when the store's index writer has stored
 * and indexed them in a batch with others.
 */
public final class ResultsApplication {

  /** Who asks, and in answer to which request: what a command's event records. */
  public record Request(Caller caller, String requestId, String clientRequestId) {
  }

  /** Index names of the idempotency keys (not properties of the entity: no client can filter on them). */
  static final String IDEMPOTENCY = "@idempotency";
  /** The body hash's own point, of keys stored before it became the payload of theirs: only read, for a window. */
  static final String IDEMPOTENCY_BODY = "@idempotencyBody";

  /**
   * Every change is published to this process's consumers only: on a clustered event bus a plain publish would also
   * reach the other nodes' consumers of the same address, which hear of the change from their own apply (their audit
   * trails would write it twice). The cluster-wide stream is {@link ResultEvents#CLUSTER_CHANGES}, the leader's.
   */
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  /** Attempts of an unconditional update or delete that races with other writes of the same record. */
  private static final int WRITE_ATTEMPTS = 8;

  private final OperationResultStore store;
  private final EventBus eventBus;
  private final Clock clock;
  private final boolean isolation;
  private final Duration idempotencyWindow;
  /** The replicated log commands go through in cluster mode; null: applied here at once (single-node mode). */
  private final Replication replication;
  /** Idempotency keys of creates being made now: a second request with one waits for nothing, it gets 409. */
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  /** By event type (three): looking a meter up in the registry on every change cost a map search and a builder. */
  private final Map<String, Counter> changeCounters = new ConcurrentHashMap<>();

  /**
   * @param isolation         whether callers are confined to their own tenant's records and ids (authentication
   *                          on and tenant isolation on)
   * @param idempotencyWindow how long a create's idempotency key is remembered
   */
  public ResultsApplication(OperationResultStore store, EventBus eventBus, Clock clock, boolean isolation,
                            Duration idempotencyWindow) {
    this(store, eventBus, clock, isolation, idempotencyWindow, null);
  }

  /**
   * As the single-node constructor, with the replicated log that commands go through (cluster mode) or null: each
   * command is then applied by every node as its log entry is committed, and reads wait until this node has applied
   * every change committed before them.
   */
  public ResultsApplication(OperationResultStore store, EventBus eventBus, Clock clock, boolean isolation,
                            Duration idempotencyWindow, Replication replication) {
    this.replication = replication;
    this.store = store;
    this.eventBus = eventBus;
    this.clock = clock;
    this.isolation = isolation;
    this.idempotencyWindow = idempotencyWindow;
  }

  /** The tenant a caller is confined to (lowercase), or null when isolation is off or there is no caller. */
  public String tenantOf(Caller caller) {
    return isolation && caller != null ? caller.tenantId().toLowerCase(Locale.ROOT) : null;
  }

  /**
   * The store key of a record: with tenant isolation, ids are scoped to the caller's tenant ({@code tenant/id}), so
   * that two tenants may use the same id and neither can learn that the other did; without, the id itself.
   */
  String key(Caller caller, String id) {
    String tenant = tenantOf(caller);
    return tenant == null ? id : tenant + "/" + id;
  }

  /**
   * Creates a record from a create body the contract has validated. With an {@code idempotencyKey} (null: none), a
   * repeat of the caller's create with the same key and body within the window answers the record it made
   * ({@link Stored#replayed()}) and makes nothing; the same key with another body is refused (422), and a repeat
   * while the first is still being made is a conflict (409).
   */
  public Future<Stored> create(Request request, JsonObject body, String idempotencyKey) {
    Command.Create create;
    JsonObject entity;
    try {
      checkTenant(request, body);
      Command.Change change = change(request);
      entity = OperationResults.newEntity(body, change.occurred());
      create = prepareCreate(request, body, entity, change, idempotencyKey);
      if (replication != null) {
        // This node's own store must have room: a committed entry it could not take would hold up its applying.
        store.checkWritable();
      }
    } catch (ResultException e) {
      return Future.failedFuture(e);
    }
    if (create.idempotency() != null && !inFlight.add(create.idempotency())) {
      return Future.failedFuture(ResultException.inProgress());
    }
    if (replication != null) {
      return replication.submit(create).andThen(done -> {
        if (create.idempotency() != null) {
          inFlight.remove(create.idempotency());
        }
      });
    }
    // The entity is at hand: applying the command as it is would parse its JSON text again.
    return applyCreate(create, entity, null).andThen(done -> {
      if (create.idempotency() != null) {
        inFlight.remove(create.idempotency());
      }
    });
  }

  /** The record, if the caller may see it. */
  public Future<Stored> get(Caller caller, String id) {
    if (replication != null) {
      return replication.readable().compose(caughtUp -> read(caller, id));
    }
    return read(caller, id);
  }

  private Future<Stored> read(Caller caller, String id) {
    byte[] json = visible(caller, store.get(key(caller, id)));
    return json == null ? Future.failedFuture(ResultException.notFound(id)) : Future.succeededFuture(Stored.of(json));
  }

  /** Applies an update body the contract has validated, if {@code ifMatch} (or null) allows. */
  public Future<Stored> update(Request request, String id, String ifMatch, JsonObject patch) {
    try {
      Command.Update update = prepareUpdate(request, id, ifMatch, patch);
      if (replication == null) {
        return applyAsync(update, null);
      }
      // This node's own store must have room: a committed entry it could not take would hold up its applying.
      store.checkWritable();
      return replication.submit(update);
    } catch (ResultException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * A page of the records the caller may see that match the query, after {@code cursor} (null: the first page).
   * Reads the store: run it off the event loop; {@code checkpoint} is called for every record read and throws to
   * stop the query.
   */
  public ListQuery.Page list(Caller caller, QueryOptions query, ListQuery.Cursor cursor, Runnable checkpoint) {
    if (replication != null) {
      replication.awaitReadable();
    }
    return ListQuery.run(store, query, cursor, tenantOf(caller), checkpoint);
  }

  /** Deletes the record, if {@code ifMatch} (or null) allows. */
  public Future<Void> delete(Request request, String id, String ifMatch) {
    try {
      Command.Delete delete = new Command.Delete(key(request.caller(), id), id, ifMatch, change(request));
      return (replication != null ? replication.submit(delete) : applyAsync(delete, null)).mapEmpty();
    } catch (ResultException e) {
      return Future.failedFuture(e);
    }
  }

  private void checkTenant(Request request, JsonObject body) {
    String tenant = tenantOf(request.caller());
    if (tenant != null && !tenant.equalsIgnoreCase(body.getString(OperationResults.PARTNER_TENANT))) {
      throw ResultException.forbidden("A caller can create records only for its own tenant: partnerTenantId must be "
        + tenant + ".");
    }
  }

  /** The create command of a validated body (the checks and the server-decided values of {@link #create}). */
  Command.Create prepareCreate(Request request, JsonObject body, String idempotencyKey) {
    checkTenant(request, body);
    Command.Change change = change(request);
    return prepareCreate(request, body, OperationResults.newEntity(body, change.occurred()), change, idempotencyKey);
  }

  private Command.Create prepareCreate(Request request, JsonObject body, JsonObject entity, Command.Change change,
                                       String idempotencyKey) {
    String key = key(request.caller(), entity.getString(OperationResults.ID));
    if (idempotencyKey == null) {
      return new Command.Create(key, entity.encode(), change, null, null, null);
    }
    String scope = actorOf(request.caller()) + '\u0000' + idempotencyKey;
    return new Command.Create(key, entity.encode(), change, hash(scope), hash(scope + '\u0000' + body.encode()),
      OperationResults.timestamp(clock.instant().minus(idempotencyWindow)));
  }

  /** Who a key belongs to: the caller's tenant and user or app, or everyone when there is no caller. */
  private static String actorOf(Caller caller) {
    return caller == null ? "" : caller.tenantId() + "/" + (caller.objectId() != null ? caller.objectId() : caller.appId());
  }

  /** 128 bits of SHA-256, hex: index values of a fixed small size that no two keys share in practice. */
  private static String hash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  Command.Update prepareUpdate(Request request, String id, String ifMatch, JsonObject patch) {
    String tenant = tenantOf(request.caller());
    if (tenant != null && patch.containsKey(OperationResults.PARTNER_TENANT)
      && !tenant.equalsIgnoreCase(patch.getString(OperationResults.PARTNER_TENANT))) {
      throw ResultException.forbidden("A record cannot be moved to another tenant: partnerTenantId must stay "
        + tenant + ".");
    }
    return new Command.Update(key(request.caller(), id), id, ifMatch, patch.encode(), change(request));
  }

  private Command.Change change(Request request) {
    Caller caller = request.caller();
    return new Command.Change(OperationResults.newGuid(), OperationResults.timestamp(clock.instant()),
      request.requestId(), request.clientRequestId(), caller == null ? null : caller.toJson().encode());
  }

  /**
   * Carries out a command taken from a replicated log against the store and, once the change is durable, publishes
   * its event, numbered {@code sequence} (its log index); waits for the store, so for callers that may block (tests).
   *
   * @return the record after the change (before it, for a delete)
   * @throws ResultException when the command cannot be applied (conflict, absent, stale If-Match, full store)
   */
  public Stored apply(Command command, long sequence) {
    return await(applyAsync(command, sequence));
  }

  /**
   * As {@link #apply(Command, long)} without waiting: the store takes writes in the order they are handed to it, so
   * a log's entries handed over in log order are stored in that order (see {@code CommandStateMachine} for the one
   * case that must wait: a change of a record whose create is still under way).
   */
  public CompletableFuture<Stored> applyLogged(Command command, long sequence) {
    return applyAsync(command, sequence).toCompletionStage().toCompletableFuture();
  }

  private static Stored await(Future<Stored> applied) {
    try {
      return applied.toCompletionStage().toCompletableFuture().join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    }
  }

  /**
   * Applies {@code command}; the returned future completes on the calling thread's Vert.x context (if any) once the
   * store has the change and its index follows it: the store writes and indexes in batches on a thread of its own.
   */
  private Future<Stored> applyAsync(Command command, Long sequence) {
    if (command instanceof Command.Create create) {
      return applyCreate(create, new JsonObject(create.entity()), sequence);
    }
    if (command instanceof Command.Update update) {
      return applyUpdate(update, new JsonObject(update.patch()), sequence, 0);
    }
    return applyDelete((Command.Delete) command, sequence, 0);
  }

  /** The store's answer, back on the caller's context (when there is one). */
  private static <T> Future<T> stored(CompletableFuture<T> write) {
    Context context = Vertx.currentContext();
    return context == null ? Future.fromCompletionStage(write) : Future.fromCompletionStage(write, context);
  }

  /**
   * The record as {@code command} left it, if the store already shows its effect (a log entry applied again after a
   * crash between the store's write and the note of the applied index, or a command a client's retry put into the
   * log twice): a create whose record is stored byte for byte, or an update that would change nothing, not even
   * {@code lastModifiedDateTime}; else null. Deletes are never recognised (a second one finds nothing: 404).
   */
  public Stored alreadyApplied(Command command) {
    if (command instanceof Command.Create create) {
      byte[] stored = store.get(create.key());
      return stored != null && Arrays.equals(stored, create.entity().getBytes(StandardCharsets.UTF_8))
        ? Stored.of(stored) : null;
    }
    if (command instanceof Command.Update update) {
      byte[] stored = store.get(update.key());
      if (stored == null) {
        return null;
      }
      JsonObject before = new JsonObject(Buffer.buffer(stored));
      JsonObject after = OperationResults.updated(before, new JsonObject(update.patch()),
        update.change().occurred());
      return after.equals(before) ? Stored.of(stored) : null;
    }
    return null;
  }

  /** @param entity the command's entity, parsed */
  private Future<Stored> applyCreate(Command.Create create, JsonObject entity, Long sequence) {
    try {
      if (create.idempotency() != null) {
        Stored earlier = remembered(create);
        if (earlier != null) {
          return Future.succeededFuture(earlier);
        }
      }
    } catch (ResultException e) {
      return Future.failedFuture(e);
    }
    // The command holds the entity as its encoding: those are the bytes to store, no need to encode it again.
    byte[] json = create.entity().getBytes(StandardCharsets.UTF_8);
    Stored created = Stored.of(json);
    ResultEvent event = event(create.change(), ResultEvents.TYPE_CREATED, created.etag(), entity, sequence);
    byte[] eventBytes = event.toBytes(json);
    // The record's own properties are indexed from its bytes; idempotency keys are not in it.
    // One point entry per key: found by the key's hash, holding the body's.
    Map<String, String> points = create.idempotency() == null ? Map.of()
      : Map.of(IDEMPOTENCY, OrderedIndex.withPayload(create.idempotency(), create.bodyHash()));
    return stored(store.insertAsync(create.key(), json, points, event.eventId(), eventBytes)).map(written -> {
      published(ResultEvents.CREATED, event, eventBytes);
      return created;
    });
  }

  /**
   * The record an earlier create with the same key made within the window, to answer again; null if there is none
   * (never made, deleted since, or older than the window: the index may hold such candidates, and after a crash one
   * whose record was never written).
   *
   * @throws ResultException (422) when the key was used with another body
   */
  private Stored remembered(Command.Create create) {
    byte[] newest = null;
    String newestKey = null;
    Map<String, String> candidates = store.idsWhere(IDEMPOTENCY, create.idempotency());
    for (String candidate : candidates.keySet()) {
      byte[] stored = store.get(candidate);
      String created = stored == null ? null : StoredJson.string(stored, OperationResults.CREATED);
      if (created != null && created.compareTo(create.windowStart()) >= 0
        && (newest == null || created.compareTo(StoredJson.string(newest, OperationResults.CREATED)) > 0)) {
        newest = stored;
        newestKey = candidate;
      }
    }
    if (newest == null) {
      return null;
    }
    String bodyHash = candidates.get(newestKey);
    // An empty payload: a key stored before the body's hash moved into its entry, with an entry of its own.
    boolean sameBody = bodyHash.isEmpty()
      ? store.idsWhere(IDEMPOTENCY_BODY, create.bodyHash()).containsKey(newestKey)
      : bodyHash.equals(create.bodyHash());
    if (!sameBody) {
      throw ResultException.idempotencyKeyReused();
    }
    return Stored.replayOf(newest);
  }

  /** One attempt of an update: a compare-and-set of the record, tried again if another write came first. */
  private Future<Stored> applyUpdate(Command.Update update, JsonObject patch, Long sequence, int attempt) {
    Stored updated;
    ResultEvent event;
    byte[] eventBytes;
    CompletableFuture<Boolean> write;
    try {
      byte[] stored = writable(update.key(), update.id(), update.ifMatch());
      JsonObject before = new JsonObject(Buffer.buffer(stored));
      JsonObject after = OperationResults.updated(before, patch, update.change().occurred());
      byte[] json = after.toBuffer().getBytes();
      updated = Stored.of(json);
      event = event(update.change(), ResultEvents.TYPE_UPDATED, updated.etag(), after, sequence);
      eventBytes = event.toBytes(json);
      write = store.replaceAsync(update.key(), stored, json, event.eventId(), eventBytes);
    } catch (ResultException e) {
      return Future.failedFuture(e);
    }
    return stored(write).compose(replaced -> {
      if (replaced) {
        published(ResultEvents.UPDATED, event, eventBytes);
        return Future.succeededFuture(updated);
      }
      // Someone else's write came first: with If-Match the client's version is stale; without, try again.
      return update.ifMatch() != null || attempt + 1 == WRITE_ATTEMPTS
        ? Future.failedFuture(ResultException.preconditionFailed(update.id()))
        : applyUpdate(update, patch, sequence, attempt + 1);
    });
  }

  private Future<Stored> applyDelete(Command.Delete delete, Long sequence, int attempt) {
    Stored deleted;
    ResultEvent event;
    byte[] eventBytes;
    CompletableFuture<Boolean> write;
    try {
      byte[] stored = writable(delete.key(), delete.id(), delete.ifMatch());
      JsonObject before = new JsonObject(Buffer.buffer(stored));
      deleted = Stored.of(stored);
      event = event(delete.change(), ResultEvents.TYPE_DELETED, deleted.etag(), before, sequence);
      eventBytes = event.toBytes(stored);
      write = store.removeAsync(delete.key(), stored, event.eventId(), eventBytes);
    } catch (ResultException e) {
      return Future.failedFuture(e);
    }
    return stored(write).compose(removed -> {
      if (removed) {
        published(ResultEvents.DELETED, event, eventBytes);
        return Future.succeededFuture(deleted);
      }
      return delete.ifMatch() != null || attempt + 1 == WRITE_ATTEMPTS
        ? Future.failedFuture(ResultException.preconditionFailed(delete.id()))
        : applyDelete(delete, sequence, attempt + 1);
    });
  }

  /** The stored record a write may change: absent is 404, not the version {@code If-Match} names is 412. */
  private byte[] writable(String key, String id, String ifMatch) {
    byte[] stored = store.get(key);
    if (stored == null) {
      throw ResultException.notFound(id);
    }
    if (ifMatch != null && !EntityTags.matches(ifMatch, OperationResults.etag(stored))) {
      throw ResultException.preconditionFailed(id);
    }
    return stored;
  }

  /**
   * The stored record if the caller may see it. Keys already scope records to a tenant under isolation; the
   * check is kept as a second line. Another tenant's record is as good as absent: a 403 would tell the caller
   * that it exists.
   */
  private byte[] visible(Caller caller, byte[] stored) {
    String tenant = tenantOf(caller);
    if (stored == null || tenant == null) {
      return stored;
    }
    return tenant.equals(StoredJson.string(stored, OperationResults.PARTNER_TENANT)) ? stored : null;
  }

  private static ResultEvent event(Command.Change change, String type, String etag, JsonObject resource,
                                   Long sequence) {
    return new ResultEvent(change.eventId(), type, change.occurred(), change.requestId(), change.clientRequestId(),
      change.actorJson(), etag, resource, sequence);
  }

  /**
   * Tells the subscribers of a stored change ({@code address}: a JSON object each) and the service's audit
   * trail (the event's bytes as the outbox holds them, so that they are not encoded again).
   */
  private void published(String address, ResultEvent event, byte[] eventBytes) {
    eventBus.publish(address, event.toJson(), LOCAL);
    eventBus.publish(ResultEvents.AUDIT_TRAIL, Buffer.buffer(eventBytes), LOCAL);
    Counter changes = changeCounters.computeIfAbsent(event.eventType(), ResultsApplication::changeCounter);
    if (changes != null) {
      changes.increment();
    }
  }

  /** The counter of one type of change, or null when metrics are off. */
  private static Counter changeCounter(String type) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    return registry == null ? null : Counter.builder("mtor.results.changes")
      .description("Records created, updated and deleted").tag("type", type).register(registry);
  }
}
