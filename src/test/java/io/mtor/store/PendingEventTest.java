package io.mtor.store;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The outbox's stored form of an event, with and without the points of a create, and as written before points. */
class PendingEventTest {

  static final byte[] EVENT = "{\"eventType\":\"created\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void anEventComesBackAsItWasWrittenWithItsPoints() {
    PendingEvent keyed = new PendingEvent("e1", 7, 1_000, "p/r1", 42, EVENT,
      Map.of("@idempotency", "k\nb", "@other", "é"));
    PendingEvent decoded = PendingEvent.decode("e1", keyed.encode());
    assertThat(decoded.points()).isEqualTo(keyed.points());
    assertThat(decoded.event()).isEqualTo(EVENT);
    assertThat(decoded.recordId()).isEqualTo("p/r1");
    assertThat(decoded.sequence()).isEqualTo(7);
    assertThat(decoded.writtenAtMillis()).isEqualTo(1_000);
    assertThat(decoded.recordHash()).isEqualTo(42);

    PendingEvent plain = PendingEvent.decode("e2", new PendingEvent("e2", 8, 2_000, "r2", 0, EVENT, Map.of()).encode());
    assertThat(plain.points()).isEmpty();
    assertThat(plain.event()).isEqualTo(EVENT);
    assertThat(plain.recordId()).isEqualTo("r2");
  }

  @Test
  void anEventWrittenBeforeEventsHadPointsReadsAsHavingNone() {
    byte[] id = "r3".getBytes(StandardCharsets.UTF_8);
    byte[] older = ByteBuffer.allocate(28 + id.length + EVENT.length)
      .putLong(9).putLong(3_000).putLong(5).putInt(id.length).put(id).put(EVENT).array();
    PendingEvent decoded = PendingEvent.decode("e3", older);
    assertThat(decoded.recordId()).isEqualTo("r3");
    assertThat(decoded.points()).isEmpty();
    assertThat(decoded.event()).isEqualTo(EVENT);
    assertThat(decoded.recordHash()).isEqualTo(5);
  }
}
