// JsonNestedDeeperThan and JsonInteger, and the model reader that relies on the first: a stored
// model corrupted into deeply nested JSON is refused, where nlohmann's recursive dump() would
// overflow the stack.
#include "ml/stored_json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ml/model.h"

namespace mlprod::ml {
namespace {

TEST(JsonDepth, CountsArraysAndObjectsOutsideStrings) {
  EXPECT_FALSE(JsonNestedDeeperThan("{}", 1));
  EXPECT_TRUE(JsonNestedDeeperThan("{\"a\": []}", 1));
  EXPECT_FALSE(JsonNestedDeeperThan("[1, [2], [3, [4]]]", 3));
  EXPECT_TRUE(JsonNestedDeeperThan("[1, [2], [3, [4]]]", 2));
  // Brackets in strings, escaped quotes included, are text.
  EXPECT_FALSE(JsonNestedDeeperThan(R"(["[[[[", "\"[[[[", "\\", {"k]": "{{"}])", 2));
  EXPECT_TRUE(JsonNestedDeeperThan(R"(["\\", [[]]])", 2));
  EXPECT_TRUE(JsonNestedDeeperThan(std::string(100000, '[') + std::string(100000, ']'), 64));
}

TEST(JsonInteger, AcceptsOnlyIntegersInRange) {
  using nlohmann::json;
  EXPECT_EQ(JsonInteger(json(5), 0, 10), 5);
  EXPECT_EQ(JsonInteger(json(-1), -1, 10), -1);
  EXPECT_EQ(JsonInteger(json(uint64_t{1} << 63), 0, INT64_MAX), std::nullopt);
  EXPECT_EQ(JsonInteger(json(11), 0, 10), std::nullopt);
  EXPECT_EQ(JsonInteger(json(-1), 0, 10), std::nullopt);
  EXPECT_EQ(JsonInteger(json(3.0), 0, 10), std::nullopt);  // written as an integer, read as one
  EXPECT_EQ(JsonInteger(json(1e300), 0, INT64_MAX), std::nullopt);
  EXPECT_EQ(JsonInteger(json("3"), 0, 10), std::nullopt);
  EXPECT_EQ(JsonInteger(json(nullptr), 0, 10), std::nullopt);
  EXPECT_EQ(JsonInteger(json::array({1}), 0, 10), std::nullopt);
}

Frame Line() {
  Frame frame;
  frame.rows = 30;
  Column y{"y", ColumnType::kNumeric, {}, {}, {}, 0};
  Column x{"x", ColumnType::kNumeric, {}, {}, {}, 0};
  for (size_t i = 0; i < frame.rows; ++i) {
    x.values.push_back(static_cast<double>(i));
    y.values.push_back(2.0 * static_cast<double>(i) + static_cast<double>(i % 3));
  }
  frame.columns = {y, x};
  return frame;
}

TEST(JsonDepth, ModelsDeeperThanAnyWeWriteAreDataLoss) {
  for (const char* kind : {"ols", "ridge", "kmeans"}) {
    TrainOptions options;
    options.kind = kind;
    options.formula = options.kind == "kmeans" ? "~ poly(x, 2)" : "y ~ poly(x, 2)";
    if (options.kind == "kmeans") options.params = {{"k", "2"}};
    auto trained = Train(Line(), options);
    ASSERT_TRUE(trained.ok()) << kind << ": " << trained.status().ToString();
    const std::string bytes = trained->model->Serialize();
    ASSERT_FALSE(JsonNestedDeeperThan(bytes, kMaxStoredJsonDepth)) << kind;
    ASSERT_TRUE(DeserializeModel(bytes).ok()) << kind;
    // The poly() state is read back through dump(), which recurses once per level.
    const std::string key = "\"transforms\":";
    const size_t at = bytes.find(key);
    ASSERT_NE(at, std::string::npos) << kind;
    const std::string deep = bytes.substr(0, at + key.size()) + std::string(100000, '[') +
                             std::string(100000, ']') +
                             ", \"unused\":" + bytes.substr(at + key.size());
    auto loaded = DeserializeModel(deep);
    EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss)
        << kind << ": " << loaded.status().ToString();
  }
}

}  // namespace
}  // namespace mlprod::ml
