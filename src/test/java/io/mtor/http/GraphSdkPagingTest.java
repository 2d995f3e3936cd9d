package io.mtor.http;

import com.microsoft.graph.beta.serviceclient.GraphServiceClient;
import com.microsoft.graph.core.tasks.PageIterator;
import com.microsoft.kiota.HttpMethod;
import com.microsoft.kiota.RequestAdapter;
import com.microsoft.kiota.RequestInformation;
import com.microsoft.kiota.authentication.AuthenticationProvider;
import com.microsoft.kiota.serialization.AdditionalDataHolder;
import com.microsoft.kiota.serialization.Parsable;
import com.microsoft.kiota.serialization.ParseNode;
import com.microsoft.kiota.serialization.SerializationWriter;
import io.mtor.Main;
import io.mtor.TestService;
import io.mtor.auth.Caller;
import io.mtor.auth.DevSigningKey;
import io.mtor.tools.DevToken;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official Microsoft Graph beta Java SDK pages this service as it pages Graph: its {@link PageIterator}, on a
 * {@link GraphServiceClient} whose base URL is this service's, follows the nextLinks of a {@code $top=50} query to
 * the last match. This resource is not in the SDK's typed model, so the test brings the two small {@link Parsable}s
 * a generated model would have; the request, the paging and the JSON are the SDK's own. Authentication and tenant
 * isolation are on, as the service ships: the SDK sends a development token through its authentication provider.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GraphSdkPagingTest {

  static final String TENANT = "cccccccc-3333-4333-8333-333333333333";
  static final String OPERATION = "sdkPagingRun";
  static final int MATCHING = 230;

  @TempDir
  Path dir;
  Vertx vertx;
  TestService service;
  String token;

  @BeforeEach
  void start() {
    vertx = Main.createVertx(2);
    service = TestService.start(vertx, TestService.config(dir.resolve("data")).with(new JsonObject()
      .put("auth", new JsonObject().put("enabled", true).put("devKey", true)))).await();
    token = DevToken.sign(vertx, DevSigningKey.loadOrCreate(dir.resolve("data")), service.config.auth(), TENANT,
      Caller.READ_WRITE, 300);
  }

  @AfterEach
  void stop() {
    service.stop().await();
    vertx.close().await();
  }

  @Test
  void pageIteratorWalksEveryMatchOnceInPagesOfTop() throws Exception {
    // 230 records that match, and 60 around them that do not: same operation but failed, or another operation.
    Set<String> matching = new HashSet<>(create(MATCHING, body -> body.put("managedTenantOperationId", OPERATION)));
    create(30, body -> body.put("managedTenantOperationId", OPERATION).put("isSuccess", false));
    create(30, body -> body.put("managedTenantOperationId", "otherOperation"));

    List<URI> requests = Collections.synchronizedList(new ArrayList<>());
    AuthenticationProvider bearer = (request, context) -> {
      try {
        requests.add(request.getUri());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      request.headers.add("Authorization", "Bearer " + token);
    };
    GraphServiceClient graph = new GraphServiceClient(bearer);
    RequestAdapter adapter = graph.getRequestAdapter();
    adapter.setBaseUrl("http://localhost:" + service.port() + "/beta");

    // The first page as a generated request builder asks for it: a URL template and encoded query parameter names.
    RequestInformation first = new RequestInformation(HttpMethod.GET,
      "{+baseurl}/managedTenantOperationResults{?%24filter,%24top}", new HashMap<>());
    first.addQueryParameter("%24filter", "managedTenantOperationId eq '" + OPERATION + "' and isSuccess eq true");
    first.addQueryParameter("%24top", 50);
    first.headers.add("Accept", "application/json");
    List<ResultCollection> pages = Collections.synchronizedList(new ArrayList<>());
    ResultCollection firstPage = adapter.send(first, null, node -> {
      ResultCollection page = new ResultCollection();
      pages.add(page);
      return page;
    });

    List<String> walked = new ArrayList<>();
    PageIterator<OperationResult, ResultCollection> iterator = new PageIterator.Builder<OperationResult, ResultCollection>()
      .client(graph)
      .collectionPage(firstPage)
      .collectionPageFactory(node -> {
        ResultCollection page = new ResultCollection();
        pages.add(page);
        return page;
      })
      .processPageItemCallback(result -> {
        walked.add(result.getId());
        return true;
      })
      .build();
    iterator.iterate();

    assertThat(iterator.getPageIteratorState()).isEqualTo(PageIterator.PageIteratorState.COMPLETE);
    assertThat(walked).hasSize(MATCHING).doesNotHaveDuplicates();
    assertThat(new HashSet<>(walked)).isEqualTo(matching);
    // Page by page: five requests, the first the SDK's own, then four nextLinks as given, each with $top=50.
    assertThat(pages).extracting(page -> page.getValue().size()).containsExactly(50, 50, 50, 50, 30);
    assertThat(pages.subList(0, 4)).allSatisfy(page -> assertThat(page.getOdataNextLink()).contains("$top=50"));
    assertThat(pages.get(4).getOdataNextLink()).isNull();
    assertThat(requests).hasSize(5);
    assertThat(requests).allSatisfy(uri -> assertThat(URLDecoder.decode(uri.getRawQuery(), StandardCharsets.UTF_8))
      .contains("$top=50").contains("$filter=managedTenantOperationId eq '" + OPERATION + "' and isSuccess eq true"));
    assertThat(requests.subList(1, 5)).allSatisfy(uri -> assertThat(uri.getRawQuery()).contains("$skiptoken="));
    assertThat(pages.get(0).getAdditionalData()).containsKey("@odata.context");
  }

  /** Creates {@code count} records of the caller's tenant, each body changed by {@code shape}; their ids. */
  List<String> create(int count, Consumer<JsonObject> shape) {
    List<Future<HttpResponse<Buffer>>> creates = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      JsonObject body = TestService.body().put("partnerTenantId", TENANT);
      shape.accept(body);
      creates.add(service.client.post("/managedTenantOperationResults").putHeader("Authorization", "Bearer " + token)
        .putHeader("content-type", "application/json").sendBuffer(body.toBuffer()));
    }
    Future.all(creates).await();
    List<String> ids = new ArrayList<>();
    for (Future<HttpResponse<Buffer>> created : creates) {
      assertThat(created.result().statusCode()).as(created.result().bodyAsString()).isEqualTo(201);
      ids.add(created.result().bodyAsJsonObject().getString("id"));
    }
    return ids;
  }

  /** A managedTenantOperationResult as the SDK's model would read it (only what the test needs; the rest kept aside). */
  public static final class OperationResult implements Parsable, AdditionalDataHolder {
    private final Map<String, Object> additionalData = new HashMap<>();
    private String id;
    private Boolean isSuccess;

    public String getId() {
      return id;
    }

    public Boolean getIsSuccess() {
      return isSuccess;
    }

    @Override
    public Map<String, Object> getAdditionalData() {
      return additionalData;
    }

    @Override
    public Map<String, Consumer<ParseNode>> getFieldDeserializers() {
      Map<String, Consumer<ParseNode>> fields = new HashMap<>();
      fields.put("id", node -> id = node.getStringValue());
      fields.put("isSuccess", node -> isSuccess = node.getBooleanValue());
      return fields;
    }

    @Override
    public void serialize(SerializationWriter writer) {
      writer.writeStringValue("id", id);
      writer.writeBooleanValue("isSuccess", isSuccess);
      writer.writeAdditionalData(additionalData);
    }
  }

  /**
   * A page of them, as a generated collection response reads it: {@code value} and {@code @odata.nextLink}.
   * PageIterator finds {@code getValue} and {@code getOdataNextLink} among the class's own declared methods.
   */
  public static final class ResultCollection implements Parsable, AdditionalDataHolder {
    private final Map<String, Object> additionalData = new HashMap<>();
    private List<OperationResult> value;
    private String odataNextLink;

    public List<OperationResult> getValue() {
      return value;
    }

    public String getOdataNextLink() {
      return odataNextLink;
    }

    @Override
    public Map<String, Object> getAdditionalData() {
      return additionalData;
    }

    @Override
    public Map<String, Consumer<ParseNode>> getFieldDeserializers() {
      Map<String, Consumer<ParseNode>> fields = new HashMap<>();
      fields.put("value", node -> value = node.getCollectionOfObjectValues(n -> new OperationResult()));
      fields.put("@odata.nextLink", node -> odataNextLink = node.getStringValue());
      return fields;
    }

    @Override
    public void serialize(SerializationWriter writer) {
      writer.writeCollectionOfObjectValues("value", value);
      writer.writeStringValue("@odata.nextLink", odataNextLink);
      writer.writeAdditionalData(additionalData);
    }
  }
}
