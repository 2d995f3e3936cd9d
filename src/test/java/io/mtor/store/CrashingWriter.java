package io.mtor.store;

import net.openhft.chronicle.map.ExternalMapQueryContext;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Run as a child process by {@link OperationResultStoreTest}: writes records, then dies with {@code halt}
 * while holding a segment's update lock, as a process killed mid-write would.
 */
public final class CrashingWriter {

  public static void main(String[] args) {
    OperationResultStore store = OperationResultStore.open(OperationResultStoreTest.options(Path.of(args[0])));
    int count = Integer.parseInt(args[1]);
    for (int i = 0; i < count; i++) {
      store.insert("id-" + i, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8), Map.of(), "e-" + i, OperationResultStoreTest.EVENT);
    }
    ExternalMapQueryContext<String, byte[], ?> context = store.chronicleMap().queryContext("id-0");
    context.updateLock().lock();
    System.out.println("locked");
    System.out.flush();
    Runtime.getRuntime().halt(137);
  }
}
