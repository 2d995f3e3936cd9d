package io.mtor.tools;

import io.mtor.TestService;
import io.mtor.api.ServiceConfig;
import io.mtor.auth.DevSigningKey;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code scripts/token}'s command, run as scripts/token runs it (its own JVM, the project's
 * {@code conf/application.yaml}, {@code DATA_DIR} from the environment): it signs with the key the service made in
 * that folder, and never makes one.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DevTokenTest {

  @TempDir
  Path dir;

  record Run(int exit, String out, String err) {
  }

  static Run devToken(Path dataDir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-cp", System.getProperty("java.class.path"), DevToken.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("CONFIG_FILE");
    builder.environment().put("DATA_DIR", dataDir.toString());
    Path out = Files.createTempFile("devtoken", ".out");
    Path err = Files.createTempFile("devtoken", ".err");
    try {
      Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("scripts/token's command ended").isTrue();
      return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  @Test
  void withoutAKeyInDataDirItFailsNamingTheFolderAndTheVariableAndCreatesNothing() throws Exception {
    Path moved = dir.resolve("moved");
    Run run = devToken(moved);
    assertThat(run.exit()).as(run.err()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("scripts/token: no development signing key in " + moved.toAbsolutePath())
      .contains("DATA_DIR").contains(DevSigningKey.FILE).contains("none was created");
    assertThat(moved).doesNotExist();

    Files.createDirectories(moved);
    assertThat(devToken(moved).exit()).isEqualTo(2);
    assertThat(moved.resolve(DevSigningKey.FILE)).doesNotExist();
  }

  @Test
  void aTokenFromTheServicesDataDirIsAcceptedByTheService() throws Exception {
    Path data = dir.resolve("elsewhere");
    Vertx vertx = Vertx.vertx();
    try {
      // As shipped: authentication on, trusting the development key the service makes in its data folder.
      ServiceConfig config = TestService.config(data).with(new JsonObject().put("auth", new JsonObject().put("enabled", true)));
      TestService service = TestService.start(vertx, config).await();
      try {
        Run run = devToken(data);
        assertThat(run.exit()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        String token = lines.get(lines.size() - 1);
        assertThat(token.split("\\.")).hasSize(3);
        assertThat(service.client.post("/managedTenantOperationResults").bearerTokenAuthentication(token)
          .putHeader("content-type", "application/json").sendJsonObject(TestService.body()).await().statusCode())
          .isEqualTo(201);
      } finally {
        service.stop().await();
      }
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void loadNeverCreatesAKey() {
    Path empty = dir.resolve("empty");
    assertThatThrownBy(() -> DevSigningKey.load(empty)).isInstanceOf(DevSigningKey.Missing.class)
      .hasMessageContaining(empty.toAbsolutePath().toString());
    assertThat(empty).doesNotExist();
    JsonObject made = DevSigningKey.loadOrCreate(empty);
    assertThat(DevSigningKey.load(empty)).isEqualTo(made);
  }
}
