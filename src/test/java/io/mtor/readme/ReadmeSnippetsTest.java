package io.mtor.readme;

import io.mtor.TestService;
import io.mtor.api.ServiceConfig;
import io.mtor.auth.Caller;
import io.mtor.auth.DevSigningKey;
import io.mtor.tools.DevToken;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Java snippets in docs/embedding-and-events.md (moved there from the README) and docs/cluster.md are these compiled
 * files, verbatim, and they work (the cluster member's in ClusterEventsIT).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadmeSnippetsTest {

  private static final Path SOURCES = Path.of("src/test/java/io/mtor/readme");

  @TempDir
  Path dataDir;

  static String snippet(String file, String name) throws IOException {
    String source = Files.readString(SOURCES.resolve(file));
    Matcher m = Pattern.compile("// README:" + name + ":begin\\n(.*?)\\n\\s*// README:" + name + ":end", Pattern.DOTALL)
      .matcher(source);
    assertThat(m.find()).as("markers of %s in %s", name, file).isTrue();
    List<String> lines = m.group(1).lines().toList();
    int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
    List<String> out = new ArrayList<>();
    lines.forEach(l -> out.add(l.isBlank() ? "" : l.substring(indent)));
    return String.join("\n", out);
  }

  @Test
  void theDocsQuoteTheCompiledSnippets() throws IOException {
    String doc = Files.readString(Path.of("docs/embedding-and-events.md"));
    assertThat(doc).contains(snippet("HostApplication.java", "embedding"));
    assertThat(doc).contains(snippet("EventBusSubscriber.java", "eventbus"));
    assertThat(doc).contains(snippet("DeployVerticle.java", "verticle"));
    // The member application of docs/cluster.md, which ClusterEventsIT joins the nodes with.
    assertThat(Files.readString(Path.of("docs/cluster.md"))).contains(snippet("Subscriber.java", "member"));
  }

  static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0)) {
      return free.getLocalPort();
    }
  }

  @Test
  void theSnippetsRun(Vertx vertx) throws Exception {
    int port = freePort();
    int opsPort = freePort();
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    EventBusSubscriber.subscribe(vertx, seen).completion().await();
    ServiceConfig config = TestService.config(dataDir.resolve("host")).with(new JsonObject()
      .put("http", new JsonObject().put("port", port))
      .put("ops", new JsonObject().put("port", opsPort).put("host", "127.0.0.1")));
    String host = vertx.deployVerticle(new HostApplication(), new DeploymentOptions().setConfig(config.toJson())).await();
    WebClient client = WebClient.create(vertx);
    assertThat(client.get(port, "localhost", "/status").send().await().bodyAsString()).isEqualTo("host is up");
    // Under the mount: the CSDL document every @odata.context points to, and Graph errors, not the host's page.
    var metadata = client.get(port, "localhost", "/api/graph/$metadata").send().await();
    assertThat(metadata.statusCode()).isEqualTo(200);
    assertThat(metadata.getHeader("content-type")).startsWith("application/xml");
    assertThat(metadata.bodyAsString()).contains("<EntitySet Name=\"managedTenantOperationResults\"");
    var unknown = client.get(port, "localhost", "/api/graph/managedTenantOperationResultz").send().await();
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.getHeader("content-type")).startsWith("application/json");
    assertThat(unknown.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("notFound");
    // The host's own 404 stays the host's.
    assertThat(client.get(port, "localhost", "/elsewhere").send().await().statusCode()).isEqualTo(404);
    // Operators' health on the loopback server.
    var ready = client.get(opsPort, "127.0.0.1", "/health/ready").send().await();
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.bodyAsJsonObject().getString("outcome")).isEqualTo("UP");
    var created = client.post(port, "localhost", "/api/graph/managedTenantOperationResults")
      .putHeader("content-type", "application/json").sendJsonObject(TestService.body()).await();
    assertThat(created.statusCode()).isEqualTo(201);
    long deadline = System.currentTimeMillis() + 5_000;
    while (seen.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(seen).singleElement().asString().startsWith("created " + created.bodyAsJsonObject().getString("id"));
    vertx.undeploy(host).await();

    int second = freePort();
    String verticle = DeployVerticle.deploy(vertx, dataDir.resolve("verticle").toString(), second).await();
    // As shipped, authentication is on and trusts the development key it made in the data folder.
    String token = DevToken.sign(vertx, DevSigningKey.loadOrCreate(dataDir.resolve("verticle")),
      ServiceConfig.fromJson(new JsonObject()).auth(), DevToken.DEV_TENANT, Caller.READ_WRITE, 60);
    assertThat(client.post(second, "localhost", "/beta/managedTenantOperationResults")
      .putHeader("content-type", "application/json").sendJsonObject(TestService.body()).await().statusCode()).isEqualTo(401);
    assertThat(client.post(second, "localhost", "/beta/managedTenantOperationResults").bearerTokenAuthentication(token)
      .putHeader("content-type", "application/json").sendJsonObject(TestService.body()).await().statusCode()).isEqualTo(201);
    vertx.undeploy(verticle).await();
  }
}
