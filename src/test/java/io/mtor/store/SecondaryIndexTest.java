package io.mtor.store;

import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The persisted index against a plain model: values with one id and with many (several chunks past the head),
 * ids removed from the head and from older chunks, ids added after removals, and the same answers after the
 * file is closed and opened again.
 */
class SecondaryIndexTest {

  @TempDir
  Path dir;

  @Test
  void idsOfEachValueAreThoseAddedAndNotRemovedInOrder() throws IOException {
    Map<String, List<String>> model = new HashMap<>();
    Random random = new Random(5);
    try (SecondaryIndex index = open()) {
      for (int i = 0; i < 2_000; i++) {
        String value = "tenant-" + (i % 3 == 0 ? "big" : random.nextInt(40));
        String id = "id-" + i;
        index.add("targetTenantId", value, id);
        model.computeIfAbsent(value, v -> new ArrayList<>()).add(id);
        if (random.nextInt(4) == 0) {
          List<String> ids = model.get(value);
          String gone = ids.remove(random.nextInt(ids.size()));
          index.remove("targetTenantId", value, gone);
        }
      }
      assertThat(model.get("tenant-big")).hasSizeGreaterThan(SecondaryIndex.HEAD_IDS * 5);
      model.forEach((value, ids) -> assertThat(index.ids("targetTenantId", value)).as(value).containsExactlyElementsOf(ids));
      assertThat(index.ids("targetTenantId", "nobody")).isEmpty();
      assertThat(index.ids("partnerTenantId", "tenant-big")).as("another property's values are apart").isEmpty();
    }
    try (SecondaryIndex reopened = open()) {
      model.forEach((value, ids) -> assertThat(reopened.ids("targetTenantId", value)).as(value).containsExactlyElementsOf(ids));
    }
  }

  @Test
  void aValueWhoseHeadWasEmptiedTakesNewIds() throws IOException {
    try (SecondaryIndex index = open()) {
      List<String> expected = new ArrayList<>();
      for (int i = 0; i <= SecondaryIndex.HEAD_IDS; i++) {
        index.add("requestId", "r", "id-" + i);
        expected.add("id-" + i);
      }
      index.remove("requestId", "r", "id-" + SecondaryIndex.HEAD_IDS);
      expected.remove("id-" + SecondaryIndex.HEAD_IDS);
      index.add("requestId", "r", "late");
      expected.add("late");
      assertThat(index.ids("requestId", "r")).containsExactlyElementsOf(expected);
    }
  }

  private SecondaryIndex open() throws IOException {
    ChronicleMap<String, byte[]> map = ChronicleMapBuilder.of(String.class, byte[].class).name("index")
      .entries(10_000).averageKeySize(40).averageValueSize(200).createPersistedTo(dir.resolve("index.dat").toFile());
    return new SecondaryIndex(map);
  }
}
