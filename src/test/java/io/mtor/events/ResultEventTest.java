package io.mtor.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ResultEventTest {

  private static final JsonObject RESOURCE = new JsonObject()
    .put("id", "5f0c8a52-3c1e-4d1a-9b1e-2a3c4d5e6f70")
    .put("executionInfo", "quotes \" backslash \\ newline \n unicode é 😀")
    .put("exception", null)
    .put("result", new JsonArray().add("a").add(1));

  @Test
  void bytesWithTheStoredResourceParseToTheEventsJson() {
    for (ResultEvent event : new ResultEvent[] {
      new ResultEvent("e1", "created", "2026-11-29T10:00:00.0000000Z", "r1", null, null, "W/\"9980411012e52106\"", RESOURCE),
      new ResultEvent("e2", "deleted", "2026-11-29T10:00:00.0000000Z", "r2", "client-1",
        new JsonObject().put("tenantId", "t").put("objectId", "o"), "W/\"904f90d247d68a68\"", RESOURCE)}) {
      byte[] bytes = event.toBytes(RESOURCE.toBuffer().getBytes());
      JsonObject parsed = new JsonObject(Buffer.buffer(bytes));
      assertEquals(event.toJson(), parsed);
      assertEquals(event.etag(), parsed.getString("etag"));
      assertEquals(event, ResultEvent.fromJson(parsed));
    }
  }
}
