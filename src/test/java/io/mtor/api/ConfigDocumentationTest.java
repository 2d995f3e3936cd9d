package io.mtor.api;

import io.mtor.config.Setting;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code conf/application.yaml} and the configuration table in docs/operations.md list exactly the settings the code knows, with
 * their environment variables and defaults. Rows of the table whose key is not a dotted key (LOG_LEVEL, JAVA_OPTS,
 * ...) are not settings and are left out.
 */
class ConfigDocumentationTest {

  /** What one place says of a setting. */
  record Documented(String env, String defaultValue) {
  }

  private static Map<String, Documented> known() {
    Map<String, Documented> known = new LinkedHashMap<>();
    for (Setting<?, ?> setting : ServiceConfig.SETTINGS) {
      known.put(setting.key(), new Documented(setting.env(), setting.documentedDefault()));
    }
    return known;
  }

  /** {@code key: value  # ENV...} under a top-level {@code section:}; a machine-dependent one commented out. */
  @Test
  void theYamlFileListsEverySettingWithItsVariableAndDefault() throws IOException {
    Pattern section = Pattern.compile("([A-Za-z]+):\\s*(#.*)?");
    Pattern entry = Pattern.compile("\\s+(#\\s*)?([A-Za-z]+):\\s+(\\S.*?)\\s+#\\s*([A-Z][A-Z0-9_]*)\\b.*");
    Map<String, Documented> listed = new LinkedHashMap<>();
    String current = null;
    for (String line : Files.readAllLines(Path.of("conf/application.yaml"))) {
      Matcher m;
      if ((m = section.matcher(line)).matches()) {
        current = m.group(1);
      } else if ((m = entry.matcher(line)).matches()) {
        String key = current + "." + m.group(2);
        String value = m.group(3).equals("\"\"") ? "empty" : m.group(3);
        // A commented-out setting keeps the code's default, which depends on the machine.
        Setting<?, ?> setting = ServiceConfig.SETTINGS.stream().filter(s -> s.key().equals(key)).findFirst().orElse(null);
        boolean commented = m.group(1) != null;
        assertThat(commented).as("%s is commented out exactly when its default depends on the machine", key)
          .isEqualTo(setting != null && setting.machineDependent());
        listed.put(key, new Documented(m.group(4), commented ? setting.documentedDefault() : value));
      }
    }
    assertThat(listed).containsExactlyInAnyOrderEntriesOf(known());
  }

  @Test
  void theOperationsDocTableListsEverySettingWithItsVariableAndDefault() throws IOException {
    String doc = Files.readString(Path.of("docs/operations.md"));
    int start = doc.indexOf("\n## Configuration\n");
    assertThat(start).as("docs/operations.md section ## Configuration").isPositive();
    int end = doc.indexOf("\n## ", start + 1);
    List<String> rows = doc.substring(start, end < 0 ? doc.length() : end).lines()
      .filter(line -> line.startsWith("| `")).toList();
    Pattern row = Pattern.compile("\\| `([a-z]+\\.[A-Za-z]+)` \\| `([A-Z0-9_]+)` \\| ([^|]+?) \\|.*");
    Map<String, Documented> listed = new LinkedHashMap<>();
    for (String line : rows) {
      Matcher m = row.matcher(line);
      if (m.matches()) {
        assertThat(listed).as("rows of %s", m.group(1)).doesNotContainKey(m.group(1));
        listed.put(m.group(1), new Documented(m.group(2), defaultCell(m.group(3))));
      }
    }
    assertThat(listed).containsExactlyInAnyOrderEntriesOf(known());
  }

  /** {@code `0` (4x the sizing)} is 0; {@code empty} and {@code CPU cores} are themselves. */
  private static String defaultCell(String cell) {
    Matcher code = Pattern.compile("`([^`]*)`").matcher(cell);
    return code.lookingAt() ? code.group(1) : cell.trim();
  }
}
