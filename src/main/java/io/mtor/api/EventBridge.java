package io.mtor.api;

import io.mtor.auth.Caller;
import io.mtor.auth.TokenVerifier;
import io.mtor.config.BridgeSettings;
import io.mtor.domain.OperationResults;
import io.mtor.events.ResultEvents;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.BridgeEvent;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TCP event-bus bridge ({@code bridge.*}): subscribers outside the JVM get the change events
 * ({@link ResultEvents#ALL}) and can send nothing in.
 *
 * <p>With authentication off it is the plain Vert.x bridge, permitting those addresses outbound, as before.
 *
 * <p>With authentication on, a {@code register} frame for an event address must carry
 * {@code "headers": {"Authorization": "Bearer <token>"}}; the token is checked by the service's
 * {@link TokenVerifier} and needs the read permission. The connection then receives only its token's
 * tenant's events ({@code resource.partnerTenantId}, case-insensitive) when tenant isolation is on.
 * vertx-tcp-eventbus-bridge 5.0.7 fires no {@link BridgeEventType#RECEIVE} event per outbound message (its
 * consumer writes every message of a registered address straight to the socket), so there is no library
 * hook to filter deliveries per connection. The service therefore subscribes each accepted connection
 * itself, with a filtering consumer, and the library is given no outbound address at all: whatever the
 * library handles itself (any other address, {@code send}, {@code publish}) it refuses with
 * {@code access_denied}. The bridge-event handler answers {@code register}/{@code unregister} frames for the
 * event addresses itself and does not complete those events: completing one with {@code true} would have
 * the library register nothing useful (it permits nothing, so it would answer {@code access_denied}), and
 * with {@code false} it would answer {@code "blocked by bridgeEvent handler"}. An uncompleted event has no
 * other effect in the library (it only waits on the event's future). Every other event is completed with
 * {@code true}, leaving the frame to the library.
 *
 * <p>With {@code bridge.tlsCertFile} and {@code bridge.tlsKeyFile} the bridge speaks TLS; {@link ServiceConfig}
 * refuses a non-loopback {@code bridge.host} without them.
 */
final class EventBridge {

  static final String ACCESS_DENIED = "access_denied";

  private static final Logger LOG = LoggerFactory.getLogger(EventBridge.class);

  private final Vertx vertx;
  private final TokenVerifier verifier;
  private final boolean isolation;
  /** Connections that registered (or tried to) for an event address, by socket (identity). */
  private final Map<NetSocket, Connection> connections = new ConcurrentHashMap<>();
  private TcpEventBusBridge bridge;

  private EventBridge(Vertx vertx, TokenVerifier verifier) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.isolation = verifier != null && verifier.settings().tenantIsolation();
  }

  /**
   * Starts the bridge on {@code bridge.host:bridge.port}; {@code verifier} is null when authentication is
   * off.
   */
  static Future<EventBridge> start(Vertx vertx, BridgeSettings settings, TokenVerifier verifier) {
    NetServerOptions net = new NetServerOptions();
    if (settings.tls()) {
      for (String file : List.of(settings.tlsCertFile(), settings.tlsKeyFile())) {
        if (!Files.isReadable(Path.of(file))) {
          return Future.failedFuture(new IllegalArgumentException("Cannot read " + file + " ("
            + BridgeSettings.TLS_CERT_FILE + " / " + BridgeSettings.TLS_KEY_FILE + ")"));
        }
      }
      net.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
        .setCertPath(settings.tlsCertFile()).setKeyPath(settings.tlsKeyFile()));
    }
    EventBridge service = new EventBridge(vertx, verifier);
    BridgeOptions options = new BridgeOptions();
    if (verifier == null) {
      ResultEvents.ALL.forEach(address -> options.addOutboundPermitted(new PermittedOptions().setAddress(address)));
      service.bridge = TcpEventBusBridge.create(vertx, options, net);
    } else {
      service.bridge = TcpEventBusBridge.create(vertx, options, net, service::handle);
    }
    String url = (settings.tls() ? "tls://" : "tcp://") + settings.host() + ":" + settings.port();
    return service.bridge.listen(settings.port(), settings.host()).map(listening -> {
      if (verifier == null) {
        LOG.warn("Event-bus bridge on {} is UNAUTHENTICATED (auth.enabled=false): anyone who reaches it receives "
          + "every tenant's events (outbound events only)", url);
      } else {
        LOG.info("Event-bus bridge on {} (outbound events only; register needs a bearer token{})", url,
          service.isolation ? ", events of the token's tenant only" : "");
      }
      return service;
    });
  }

  /** Stops listening and drops every subscription the bridge made. */
  Future<Void> close() {
    return bridge.close().eventually(() -> {
      List<Connection> open = new ArrayList<>(connections.values());
      open.forEach(Connection::close);
      return Future.succeededFuture();
    });
  }

  /** The bridge-event handler (authentication on); runs on the socket's event loop. */
  private void handle(BridgeEvent event) {
    JsonObject frame = event.getRawMessage();
    String address = frame == null || !(frame.getValue("address") instanceof String a) ? null : a;
    boolean subscription = event.type() == BridgeEventType.REGISTER || event.type() == BridgeEventType.UNREGISTER;
    if (!subscription || address == null || !ResultEvents.ALL.contains(address)) {
      // The library answers: pong to a ping, access_denied to the rest (it permits no address).
      event.complete(true);
      return;
    }
    NetSocket socket = event.socket();
    Connection connection = connections.computeIfAbsent(socket, Connection::new);
    try {
      if (event.type() == BridgeEventType.REGISTER) {
        register(connection, address, frame);
      } else {
        connection.unregister(address);
      }
    } catch (RuntimeException e) {
      LOG.warn("Bridge {} of {} failed: {}", event.type(), address, e.toString());
      writeErr(socket, ACCESS_DENIED);
    }
  }

  private void register(Connection connection, String address, JsonObject frame) {
    String token = bearer(frame.getValue("headers"));
    if (token == null) {
      deny(connection, address, "no 'Authorization: Bearer <token>' header");
      return;
    }
    Context context = vertx.getOrCreateContext();
    verifier.verify(token).onComplete(verified -> context.runOnContext(v -> {
      if (verified.failed()) {
        deny(connection, address, verified.cause().getMessage());
        return;
      }
      Caller caller = verified.result();
      if (caller.tenantId() == null || caller.tenantId().isBlank()) {
        deny(connection, address, "the token has no tenant (tid)");
      } else if (!caller.canRead()) {
        deny(connection, address, "the token lacks " + Caller.READ + " or " + Caller.READ_WRITE);
      } else {
        connection.subscribe(address, isolation ? caller.tenantId() : null);
      }
    }));
  }

  private static void deny(Connection connection, String address, String reason) {
    LOG.info("Bridge register for {} from {} refused: {}", address, connection.socket.remoteAddress(), reason);
    writeErr(connection.socket, ACCESS_DENIED);
  }

  /** The token of a frame's {@code Authorization} header ({@code Bearer <token>}, name case-insensitive). */
  static String bearer(Object headers) {
    if (!(headers instanceof JsonObject map)) {
      return null;
    }
    for (String name : map.fieldNames()) {
      if (name.equalsIgnoreCase("authorization") && map.getValue(name) instanceof String value
        && value.regionMatches(true, 0, "Bearer ", 0, 7) && !value.substring(7).isBlank()) {
        return value.substring(7).trim();
      }
    }
    return null;
  }

  /** Whether an event's {@code resource.partnerTenantId} is {@code tenant} (case-insensitive). */
  static boolean ofTenant(Object body, String tenant) {
    return body instanceof JsonObject event && event.getValue("resource") instanceof JsonObject resource
      && resource.getValue(OperationResults.PARTNER_TENANT) instanceof String partner && partner.equalsIgnoreCase(tenant);
  }

  /** A frame as the library writes them: a 4-byte big-endian length, then the UTF-8 JSON. */
  private static void write(NetSocket socket, JsonObject frame) {
    byte[] json = frame.encode().getBytes(StandardCharsets.UTF_8);
    socket.write(Buffer.buffer(json.length + 4).appendInt(json.length).appendBytes(json));
  }

  private static void writeErr(NetSocket socket, String message) {
    write(socket, new JsonObject().put("type", "err").put("message", message));
  }

  /** One socket's subscriptions; used on the socket's event loop. */
  private final class Connection {

    final NetSocket socket;
    // Concurrent only for close() at shutdown, which may run off the socket's event loop.
    final Map<String, MessageConsumer<Object>> consumers = new ConcurrentHashMap<>();
    volatile boolean closed;

    Connection(NetSocket socket) {
      this.socket = socket;
      // The library sets the socket's end and exception handlers, not its close handler.
      socket.closeHandler(v -> close());
    }

    void subscribe(String address, String tenant) {
      if (closed) {
        return;
      }
      MessageConsumer<Object> previous = consumers.remove(address);
      if (previous != null) {
        previous.unregister();
      }
      // Local: each node's bridge carries that node's applies, which are every change once (see docs/cluster.md).
      consumers.put(address, vertx.eventBus().localConsumer(address, message -> deliver(message, tenant)));
    }

    void deliver(Message<Object> message, String tenant) {
      if (tenant != null && !ofTenant(message.body(), tenant)) {
        return;
      }
      if (socket.writeQueueFull()) {
        // A client that does not read would make its queue grow without bound: it is cut off and may reconnect.
        LOG.warn("Closing a bridge connection that does not keep up with the events ({})", socket.remoteAddress());
        socket.close();
        close();
        return;
      }
      JsonObject headers = new JsonObject();
      message.headers().forEach(header -> headers.put(header.getKey(), header.getValue()));
      write(socket, new JsonObject().put("type", "message").put("address", message.address()).put("headers", headers)
        .put("body", message.body()).put("send", message.isSend()));
    }

    void unregister(String address) {
      MessageConsumer<Object> consumer = consumers.remove(address);
      if (consumer == null) {
        writeErr(socket, "unknown_address");
      } else {
        consumer.unregister();
      }
    }

    void close() {
      closed = true;
      connections.remove(socket);
      consumers.values().forEach(MessageConsumer::unregister);
      consumers.clear();
    }
  }
}
