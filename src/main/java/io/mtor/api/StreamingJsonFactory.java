package io.mtor.api;

import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;

/**
 * Vert.x's JSON codec for the standalone service: Jackson's streaming codec, even though the service's log encoder
 * brings {@code jackson-databind} onto the class path (with it there, Vert.x would pick its databind codec, which
 * reads every body through an {@code ObjectMapper}: same JSON, more CPU per request). Registered only by the
 * standalone service ({@code src/main/standalone/META-INF/services}, in the fat jar and the tests), so that an
 * application embedding the library keeps whichever codec it chose.
 */
public final class StreamingJsonFactory implements JsonFactory {

  private static final JsonCodec CODEC = new JacksonCodec();

  @Override
  public int order() {
    return 0;
  }

  @Override
  public JsonCodec codec() {
    return CODEC;
  }
}
