package net.openhft.chronicle.values;

import net.openhft.chronicle.hash.VanillaGlobalMutableState;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service ships chronicle-values' native class of Chronicle Map's file header compiled (see its source), so that
 * opening a map does not generate and compile it at start. Here in the library's package, to reach its generator:
 * the shipped source must be what the library on the class path generates, and it must be the class the library
 * takes. A Chronicle upgrade that changes the header fails this test: regenerate the source (the generated text is
 * printed in the failure).
 */
class PregeneratedNativeClassTest {

  private static final Path SOURCE =
    Path.of("src/main/java/net/openhft/chronicle/hash/VanillaGlobalMutableState$$Native.java");

  @Test
  void theShippedSourceIsWhatTheLibraryGenerates() throws Exception {
    ValueModel model = ValueModel.acquire(VanillaGlobalMutableState.class);
    String generated = Generators.generateNativeClass(model, model.simpleName() + ValueModel.$$NATIVE);
    String shipped = Files.readAllLines(SOURCE).stream().filter(line -> !line.startsWith("//"))
      .collect(Collectors.joining("\n", "", "\n"));
    assertThat(shipped).isEqualTo(generated);
  }

  @Test
  void theLibraryTakesTheShippedClass() {
    Class<?> taken = Values.nativeClassFor(VanillaGlobalMutableState.class);
    assertThat(taken.getName()).isEqualTo("net.openhft.chronicle.hash.VanillaGlobalMutableState$$Native");
    // Loaded from the service's own classes, not defined by the library's run-time compiler.
    assertThat(taken.getProtectionDomain().getCodeSource()).isNotNull();
    assertThat(taken.getProtectionDomain().getCodeSource().getLocation().getPath()).endsWith("target/classes/");
  }
}
