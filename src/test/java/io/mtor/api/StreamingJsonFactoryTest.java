package io.mtor.api;

import io.vertx.core.json.Json;
import io.vertx.core.json.jackson.JacksonCodec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StreamingJsonFactoryTest {

  /** The log encoder puts jackson-databind on the class path; the service still reads and writes JSON by streaming. */
  @Test
  void theStandaloneServiceUsesJacksonsStreamingCodecAlthoughDatabindIsPresent() throws Exception {
    assertThat(Class.forName("com.fasterxml.jackson.databind.ObjectMapper")).isNotNull();
    assertThat(Json.CODEC.getClass()).isEqualTo(JacksonCodec.class);
  }
}
