package io.mtor;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The real packaged service, started by scripts/run, stopped by SIGTERM and by kill -9. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServiceProcessIT {

  @TempDir
  Path dataDir;

  @Test
  void sigtermExitsZeroAndARestartKeepsEveryRecord() throws Exception {
    List<String> ids = new ArrayList<>();
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      assertThat(service.output()).contains("data folder: " + dataDir.toAbsolutePath());
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> created = service.post("/beta/managedTenantOperationResults", TestService.body().encode());
        assertThat(created.statusCode()).isEqualTo(201);
        ids.add(new JsonObject(created.body()).getString("id"));
      }
      assertThat(service.terminate(10)).as(service.output()).isZero();
    }
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      assertThat(service.output()).doesNotContain("recovering");
      for (String id : ids) {
        assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).isEqualTo(200);
      }
      assertThat(service.terminate(10)).isZero();
    }
  }

  @Test
  void killDashNineLosesNoAcknowledgedWriteAndTheNextStartRecovers() throws Exception {
    List<String> acknowledged = new ArrayList<>();
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      Thread writer = new Thread(() -> {
        try {
          while (true) {
            HttpResponse<String> created = service.post("/managedTenantOperationResults", TestService.body().encode());
            if (created.statusCode() == 201) {
              synchronized (acknowledged) {
                acknowledged.add(new JsonObject(created.body()).getString("id"));
              }
            }
          }
        } catch (Exception stopped) {
          // the process was killed under us
        }
      });
      writer.start();
      Thread.sleep(1500);
      service.kill();
      writer.join(10_000);
    }
    assertThat(acknowledged).isNotEmpty();
    try (ServiceProcess service = ServiceProcess.start(dataDir, Map.of())) {
      assertThat(service.output()).contains("recovering");
      synchronized (acknowledged) {
        for (String id : acknowledged) {
          assertThat(service.get("/managedTenantOperationResults/" + id).statusCode()).as(id).isEqualTo(200);
        }
      }
      assertThat(service.post("/managedTenantOperationResults", TestService.body().encode()).statusCode()).isEqualTo(201);
      assertThat(service.terminate(10)).isZero();
    }
  }
}
