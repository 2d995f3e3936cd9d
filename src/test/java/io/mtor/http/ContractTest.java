package io.mtor.http;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.pointer.JsonPointer;
import io.vertx.json.schema.OutputUnit;
import io.vertx.junit5.VertxExtension;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The OpenAPI document is valid (Vert.x loads it), and every example in it passes its own schema. */
@ExtendWith(VertxExtension.class)
class ContractTest {

  @Test
  void theContractIsValidAndItsExamplesPassIt(Vertx vertx) throws Exception {
    OpenAPIContract contract = OpenAPIContract.from(vertx, ResultsResource.CONTRACT).await();
    JsonObject raw = pristine();
    Set<String> checked = new HashSet<>();
    for (Operation operation : contract.operations()) {
      JsonObject rawOperation = raw.getJsonObject("paths").getJsonObject(operation.getOpenAPIPath())
        .getJsonObject(operation.getHttpMethod().name().toLowerCase());
      JsonObject requestContent = rawOperation.getJsonObject("requestBody", new JsonObject()).getJsonObject("content");
      if (requestContent != null) {
        checkExamples(contract, raw, requestContent.getJsonObject("application/json"),
          operation.getRequestBody().getContent().get("application/json"), checked);
      }
      for (Map.Entry<String, Object> response : rawOperation.getJsonObject("responses")) {
        if (!(response.getValue() instanceof JsonObject rawResponse)) {
          continue;
        }
        JsonObject content = rawResponse.getJsonObject("content");
        if (content != null && content.containsKey("application/json") && response.getKey().matches("2\\d\\d")) {
          checkExamples(contract, raw, content.getJsonObject("application/json"),
            operation.getResponse(Integer.parseInt(response.getKey())).getContent().get("application/json"), checked);
        }
      }
    }
    JsonObject declared = raw.getJsonObject("components").getJsonObject("examples");
    assertThat(checked).hasSize(declared.size());
  }

  /** The document as written; the contract's own copy carries resolver annotations. */
  @SuppressWarnings("unchecked")
  private static JsonObject pristine() throws Exception {
    try (var in = ContractTest.class.getClassLoader().getResourceAsStream(ResultsResource.CONTRACT)) {
      return new JsonObject(io.vertx.core.json.Json.encode(new org.yaml.snakeyaml.Yaml().loadAs(in, Map.class)));
    }
  }

  private static void checkExamples(OpenAPIContract contract, JsonObject raw, JsonObject rawMediaType, MediaType mediaType, Set<String> checked) {
    JsonObject examples = rawMediaType.getJsonObject("examples", new JsonObject());
    for (Map.Entry<String, Object> entry : examples) {
      if (!(entry.getValue() instanceof JsonObject example)) {
        continue;
      }
      String ref = example.getString("$ref");
      if (ref != null) {
        example = (JsonObject) JsonPointer.from(ref.substring(1)).queryJson(raw);
      }
      OutputUnit result = contract.getSchemaRepository().validator(mediaType.getSchema()).validate(example.getValue("value"));
      assertThat(result.getValid()).as("example %s: %s", entry.getKey(), result.toJson()).isTrue();
      checked.add(example.getString("summary"));
    }
  }
}
