package io.mtor.readme;

import io.mtor.events.ResultEvent;
import io.mtor.events.ResultEvents;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** The event-bus subscriber quoted in docs/embedding-and-events.md. */
final class EventBusSubscriber {

  private EventBusSubscriber() {
  }

  static MessageConsumer<JsonObject> subscribe(Vertx vertx, List<String> seen) {
    // README:eventbus:begin
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(ResultEvents.CREATED, message -> {
      ResultEvent event = ResultEvent.fromJson(message.body());
      seen.add(event.eventType() + " " + event.resource().getString("id") + " (request " + event.requestId() + ")");
    });
    // README:eventbus:end
    return consumer;
  }
}
