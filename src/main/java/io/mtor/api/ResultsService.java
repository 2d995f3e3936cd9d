package io.mtor.api;

import io.mtor.app.ResultsApplication;
import io.mtor.audit.AuditVerticle;
import io.mtor.auth.TokenVerifier;
import io.mtor.cluster.LeaderEvents;
import io.mtor.cluster.RaftReplication;
import io.mtor.events.ResultEvents;
import io.mtor.http.GraphErrors;
import io.mtor.http.HostCheck;
import io.mtor.http.HttpOptions;
import io.mtor.http.Scans;
import io.mtor.http.SkipTokens;
import io.vertx.ext.web.AllowForwardHeaders;
import io.mtor.http.RequestIds;
import io.mtor.http.RequestLog;
import io.mtor.http.Shedding;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.mtor.http.ResultsResource;
import io.mtor.store.OperationResultStore;
import io.mtor.store.PendingEvent;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.openapi.contract.OpenAPIContract;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The service without its HTTP server: the store, the audit trail, the event redelivery, the optional TCP
 * bridge, and the routers. A host Vert.x application starts one and mounts {@link #router()} anywhere:
 *
 * <pre>{@code
 * ResultsService.start(vertx, config).onSuccess(service ->
 *   hostRouter.route("/api/graph/*").subRouter(service.router()));
 * }</pre>
 *
 * <p>One per process and data folder (the store refuses a second). {@link #close()} stops it in order:
 * the audit trail writes what it holds, then the store closes.
 */
public final class ResultsService {

  /** Paths the service answers under besides the root: Graph's version segment. */
  public static final String BETA_PREFIX = "/beta";
  /** How often unacknowledged events are offered to the audit trail again, and how old they must be. */
  static final long REDELIVER_PERIOD_MILLIS = 1_000;
  static final long REDELIVER_AFTER_MILLIS = 3_000;
  static final int REDELIVER_BATCH = 10_000;
  /** The file in the data folder that records how records are keyed ({@code tenant} or {@code global}). */
  static final String KEY_SCHEME_FILE = OperationResultStore.KEY_SCHEME_FILE;

  private static final Logger LOG = LoggerFactory.getLogger(ResultsService.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Vertx vertx;
  private final ServiceConfig config;
  private final OperationResultStore store;
  private final Clock clock;
  private final List<String> deployments = new ArrayList<>();
  private String auditDeployment;
  private MessageConsumer<JsonObject> acknowledgements;
  private Router resource;
  private Router application;
  private Router operations;
  private Scans scans;
  private EventBridge bridge;
  private TokenVerifier verifier;
  private int bridgePort = -1;
  private long redeliveryTimer = -1;
  private long syncTimer = -1;
  private boolean redelivering;
  /** This node's part in the cluster; null in single-node mode. */
  private RaftReplication cluster;
  private ResultsApplication results;

  /** The OpenAPI contract, parsed once per start (the router and the error mapper both use it). */
  private final Future<OpenAPIContract> contract;

  private ResultsService(Vertx vertx, ServiceConfig config, OperationResultStore store, Clock clock,
                         Future<OpenAPIContract> contract) {
    this.vertx = vertx;
    this.config = config;
    this.store = store;
    this.clock = clock;
    this.contract = contract;
  }

  /** Opens the store (recovering it after a crash), starts the audit trail and replays what it missed. */
  public static Future<ResultsService> start(Vertx vertx, ServiceConfig config) {
    return start(vertx, config, Clock.systemUTC());
  }

  /** As {@link #start(Vertx, ServiceConfig)}, with the clock that timestamps records and events (tests set it). */
  public static Future<ResultsService> start(Vertx vertx, ServiceConfig config, Clock clock) {
    // The contract is parsed while the store opens (on a worker): a start waits for the longer of the two.
    Future<OpenAPIContract> contract = ResultsResource.contract(vertx);
    // A worker of its own with no time limit: after a crash, recovering a large store takes minutes (a full index
    // reconcile: docs/operations.md), and Vert.x's blocked-thread checker would log a warning every second of it.
    WorkerExecutor opener = vertx.createSharedWorkerExecutor("store-open", 1, 7, TimeUnit.DAYS);
    return opener.executeBlocking(() -> OperationResultStore.open(config.storeOptions()))
      .andThen(opened -> opener.close())
      .compose(store -> {
        ResultsService service = new ResultsService(vertx, config, store, clock, contract);
        return service.init().map(service)
          .recover(e -> service.close().transform(closed -> Future.<ResultsService>failedFuture(e)));
      });
  }

  private Future<Void> init() {
    if (!config.cluster().enabled()) {
      return initService();
    }
    // The cluster's shared keys ($skiptoken, development signing key) must be in the data folder before the
    // token verifier and the list handler read them; entries are applied only once the service is attached. The audit
    // writer runs before Raft starts: a snapshot installed at any time after completes its trail through it.
    return deployAudit()
      .compose(v -> vertx.executeBlocking(() -> RaftReplication.start(vertx, config.cluster(), store,
        config.store().dataDir(), config.auth().enabled() && config.auth().devKey(),
        config.limits().requestTimeoutSeconds() * 1000L, config.audit().enabled() ? config.auditDir() : null)))
      .compose(started -> {
        cluster = started;
        return started.sharedKeys(config.store().dataDir());
      })
      .compose(v -> initService())
      .compose(v -> leaderEvents())
      .onSuccess(v -> cluster.attach(results));
  }

  /**
   * On a clustered Vert.x (the standalone service in cluster mode; a host's own clustered Vert.x), the leader's
   * cluster-wide change events ({@link ResultEvents#CLUSTER_CHANGES}); registered before any entry is applied. On a
   * Vert.x of one process there is no one else to tell: the node's own events are all there is.
   */
  private Future<Void> leaderEvents() {
    if (!vertx.isClustered()) {
      LOG.info("Vert.x is not clustered: no cluster-wide events ({}), only this node's own", ResultEvents.CLUSTER_CHANGES);
      return Future.succeededFuture();
    }
    LeaderEvents events = new LeaderEvents(cluster::isLeader);
    return vertx.deployVerticle(events).map(id -> {
      deployments.add(id);
      cluster.roleListener(events::roleChanged);
      return null;
    });
  }

  private Future<Void> initService() {
    // Local consumers and local publishes throughout: on a clustered event bus (cluster mode) the other nodes' audit
    // trails and outboxes are theirs, with the same event ids.
    acknowledgements = vertx.eventBus().localConsumer(ResultEvents.AUDIT_WRITTEN, message -> {
      JsonArray ids = message.body().getJsonArray("eventIds");
      List<String> eventIds = new ArrayList<>(ids.size());
      ids.forEach(id -> eventIds.add((String) id));
      store.acknowledge(eventIds);
    });
    scans = new Scans(vertx, config.limits().maxScans(), config.limits().maxScansPerCaller(),
      config.limits().queryBudgetMillis());
    Future<Void> audit = deployAudit();
    Future<Void> auth = !config.auth().enabled() ? Future.succeededFuture()
      : TokenVerifier.create(vertx, config.auth(), config.store().dataDir(), clock).map(created -> {
        verifier = created;
        return null;
      });
    if (!config.auth().enabled()) {
      LOG.warn("Authentication is OFF (auth.enabled=false): anyone who reaches the port can read and write every record");
    }
    Future<HttpOptions> options = vertx.executeBlocking(() -> new HttpOptions(config.http().bodyLimitBytes(),
      config.http().publicBaseUrl(), config.list().defaultPageSize(), config.list().maxPageSize(),
      config.limits().ratePerSecond(), config.limits().burst(), HostCheck.allowed(config.edge().allowedHosts()),
      config.idempotency().clientRequestId()));
    Future<SkipTokens> skipTokens = vertx.executeBlocking(() -> SkipTokens.loadOrCreate(config.store().dataDir()));
    return acknowledgements.completion()
      .compose(v -> auth)
      .compose(v -> checkKeyScheme())
      .compose(v -> audit)
      .compose(v -> Future.all(options, skipTokens))
      .compose(v -> this.contract)
      .map(contract -> {
        results = new ResultsApplication(store, vertx.eventBus(), clock, isolated(),
          java.time.Duration.ofSeconds(config.idempotency().windowSeconds()), cluster);
        resource = ResultsResource.router(vertx, contract, results, options.result(), verifier, scans,
          skipTokens.result());
        application = application(resource, ResultsResource.errors(contract, options.result()));
        operations = OperationsRoutes.operations(vertx, this, config);
        return (Void) null;
      })
      .compose(v -> config.bridge().enabled() ? startBridge() : Future.succeededFuture())
      .compose(v -> {
        if (config.store().syncIntervalMillis() > 0) {
          syncTimer = vertx.setPeriodic(config.store().syncIntervalMillis(), t -> vertx.executeBlocking(() -> {
            store.sync();
            return null;
          }));
        }
        if (config.audit().enabled()) {
          redeliveryTimer = vertx.setPeriodic(REDELIVER_PERIOD_MILLIS,
            t -> redeliver(System.currentTimeMillis() - REDELIVER_AFTER_MILLIS));
          // Everything the previous process left unacknowledged goes to the audit trail now.
          return redeliver(Long.MAX_VALUE);
        }
        return Future.succeededFuture();
      });
  }

  /** Starts the audit writer, unless the audit is off or it runs already. */
  private Future<Void> deployAudit() {
    if (!config.audit().enabled() || auditDeployment != null) {
      return Future.succeededFuture();
    }
    return vertx.deployVerticle(new AuditVerticle(), new DeploymentOptions()
        .setConfig(AuditVerticle.config(config.auditDir()).put("maxFileBytes", config.audit().maxFileBytes())))
      .map(id -> {
        auditDeployment = id;
        deployments.add(id);
        return null;
      });
  }

  /**
   * With tenant isolation, records are stored under tenant-scoped keys; without, under their ids. A data folder keeps
   * the scheme it was started with ({@value #KEY_SCHEME_FILE}); starting it with the other scheme while it holds
   * records would hide them, so that start fails and says what to do.
   */
  /** Whether callers are confined to their own tenant's records and ids: authentication on and isolation on. */
  private boolean isolated() {
    return verifier != null && config.auth().tenantIsolation();
  }

  private Future<Void> checkKeyScheme() {
    String scheme = isolated() ? "tenant" : "global";
    return vertx.executeBlocking(() -> {
      java.nio.file.Path file = config.store().dataDir().resolve(KEY_SCHEME_FILE);
      String stored = java.nio.file.Files.exists(file)
        ? java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8).trim()
        : store.size() == 0 ? null : "global";
      if (stored != null && !stored.equals(scheme) && store.size() > 0) {
        throw new IllegalStateException("The records in " + config.store().dataDir() + " are keyed by " + stored
          + " ids, but this start uses " + scheme + " ids (auth.enabled and auth.tenantIsolation decide): start it as "
          + "before (" + ("tenant".equals(stored) ? "AUTH_ENABLED=true AUTH_TENANT_ISOLATION=true"
          : "AUTH_TENANT_ISOLATION=false or AUTH_ENABLED=false") + ") or use another DATA_DIR");
      }
      if (!scheme.equals(stored)) {
        java.nio.file.Files.writeString(file, scheme + "\n", java.nio.charset.StandardCharsets.UTF_8);
      }
      return null;
    });
  }

  private Router application(Router resource, GraphErrors errors) {
    Router app = Router.router(vertx);
    if (config.edge().trustForwardedHeaders()) {
      app.allowForward(AllowForwardHeaders.ALL);
    }
    app.route().handler(TimeoutHandler.create(config.limits().requestTimeoutSeconds() * 1000L, 408))
      .handler(new RequestIds()).handler(new RequestLog())
      .handler(Shedding.inFlight(config.limits().maxInFlight()));
    OperationsRoutes.mount(vertx, app, this, config);
    app.route(BETA_PREFIX + "/*").subRouter(resource);
    app.route("/*").subRouter(resource);
    for (int status : new int[] {400, 404, 405, 408, 413, 414, 415, 429, 431, 500, 501, 503}) {
      app.errorHandler(status, errors);
    }
    app.route().failureHandler(errors);
    return app;
  }

  /** Tokens and tenant isolation apply to the bridge as to HTTP; see {@link EventBridge}. */
  private Future<Void> startBridge() {
    return EventBridge.start(vertx, config.bridge(), verifier).map(started -> {
      bridge = started;
      bridgePort = config.bridge().port();
      return null;
    });
  }

  /** Offers the audit trail the events it has not acknowledged that were written before {@code cutoff}. */
  private Future<Void> redeliver(long cutoffMillis) {
    if (redelivering || store.pendingCount() == 0) {
      return Future.succeededFuture();
    }
    redelivering = true;
    return vertx.executeBlocking(() -> store.pendingEvents(cutoffMillis, REDELIVER_BATCH))
      .map(events -> {
        for (PendingEvent event : events) {
          vertx.eventBus().publish(ResultEvents.AUDIT_REDELIVER, Buffer.buffer(event.event()), LOCAL);
        }
        if (!events.isEmpty()) {
          LOG.info("Offered {} unacknowledged events to the audit trail again ({} pending)", events.size(),
            store.pendingCount());
        }
        return (Void) null;
      })
      .onComplete(done -> redelivering = false);
  }

  /**
   * The resource router, to mount with {@code subRouter} under any path. Under its mount it also serves
   * {@code $metadata} and {@code openapi.yaml} (no token needed) and answers every other path with a Graph error
   * (401 without a token, then 404, or 405 with {@code Allow}). Health and metrics are not in it: see
   * {@link #operations()}.
   */
  public Router router() {
    return resource;
  }

  /** The service's whole router: the resource at the root and under {@code /beta}, Graph errors elsewhere. */
  public Router application() {
    return application;
  }

  /**
   * The operator's router: {@code /health/live}, {@code /health/ready} with details, and {@code /metrics}. The
   * standalone service serves it on its own port ({@code ops.host}, {@code ops.port}); a host application mounts it
   * wherever its operators, and only they, can reach it.
   */
  public Router operations() {
    return operations;
  }

  /** The bridge's port, or -1 if it is off. */
  public int bridgePort() {
    return bridgePort;
  }

  /** Records in the store. */
  public long size() {
    return store.size();
  }

  /** Records the store's files made so far are sized for. */
  public long capacity() {
    return store.capacity();
  }

  /** List queries reading the store now. */
  public int runningQueries() {
    return scans == null ? 0 : scans.running();
  }

  /** Changes stored but not yet confirmed by the audit trail. */
  public long auditBacklog() {
    return store.pendingCount();
  }

  /** Seconds since the oldest change the audit trail has not confirmed was written; 0 when none waits. */
  public double auditLagSeconds() {
    long oldest = store.oldestPendingMillis();
    return oldest < 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
  }

  /** The audit writer's deployment id (tests stop it to play a dead sink); null when the audit is off. */
  String auditDeployment() {
    return auditDeployment;
  }

  /**
   * In cluster mode, what this node knows of the cluster ({@code nodeId}, {@code role}, {@code leaderId},
   * {@code term}, {@code commitIndex}, {@code appliedIndex}, {@code leaderChanges}, {@code ready}); null in
   * single-node mode.
   */
  public JsonObject clusterStatus() {
    return cluster == null ? null : cluster.status();
  }

  /** Whether the store is open (it is from start until close). */
  public boolean storeOpen() {
    return store.isOpen();
  }

  /** Whether this start recovered the store after an unclean exit of the previous process. */
  public boolean recovered() {
    return store.recovered();
  }

  /** Stops the bridge, lets the audit trail write what it holds, then closes the store. */
  public Future<Void> close() {
    if (redeliveryTimer >= 0) {
      vertx.cancelTimer(redeliveryTimer);
    }
    if (verifier != null) {
      verifier.close();
    }
    if (syncTimer >= 0) {
      vertx.cancelTimer(syncTimer);
    }
    Future<Void> bridgeClosed = bridge == null ? Future.succeededFuture() : bridge.close();
    Future<Void> scansStopped = scans == null ? Future.succeededFuture() : scans.close();
    List<Future<Void>> undeployed = new ArrayList<>();
    deployments.forEach(id -> undeployed.add(vertx.undeploy(id).recover(e -> Future.succeededFuture())));
    return bridgeClosed
      .eventually(() -> scansStopped)
      // The node leaves the cluster before its store closes: nothing is applied to a closed store.
      .eventually(() -> cluster == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
        cluster.close();
        return null;
      }))
      .eventually(() -> Future.join(undeployed))
      // Let the trail's last confirmations arrive; any that do not are skipped at the next start anyway.
      .eventually(() -> vertx.timer(20))
      .eventually(() -> acknowledgements == null ? Future.succeededFuture() : acknowledgements.unregister())
      .eventually(() -> vertx.executeBlocking(() -> {
        store.close();
        return null;
      }))
      .mapEmpty();
  }
}
