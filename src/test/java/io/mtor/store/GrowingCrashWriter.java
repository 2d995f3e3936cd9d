package io.mtor.store;

import java.nio.file.Path;
import java.util.Map;

/**
 * Run as a child process by {@link RecordVolumesTest}: writes records into a store whose first volume is tiny, so
 * that it grows through four files or more, then dies with {@code halt} (as {@code kill -9} would) at once, while the
 * next volume may be being created.
 */
public final class GrowingCrashWriter {

  public static void main(String[] args) {
    OperationResultStore store = OperationResultStore.open(RecordVolumesTest.options(Path.of(args[0])));
    int count = Integer.parseInt(args[1]);
    int i = 0;
    // At least count records, and on until there are four files.
    for (; i < count || store.records().volumes().size() < 4; i++) {
      store.insert("id-" + i, RecordVolumesTest.record(i), Map.of(), "e-" + i,
        OperationResultStoreTest.EVENT);
    }
    System.out.println("written " + i + " records into " + store.records().volumes().size() + " files");
    System.out.flush();
    Runtime.getRuntime().halt(137);
  }

  private GrowingCrashWriter() {
  }

}
