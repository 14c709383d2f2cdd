// Inputs the libFuzzer targets of tests/fuzz found, each kept as the unit test of its fix. Some
// findings were undefined behaviour that only a sanitizer reports: their tests check the
// behaviour here and catch the UB again in a sanitizer build (the asan and fuzz presets).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ml/checksum.h"
#include "ml/column_file.h"
#include "ml/csv_reader.h"
#include "ml/formula.h"
#include "ml/model.h"

namespace mlprod::ml {
namespace {

// csv_reader_fuzzer: a blank line within a one-column file is a row whose cell is an empty view
// with no data; comparing it with a known cell passed a null pointer to memcmp.
TEST(FuzzRegression, BlankLinesAmongTextCellsAreMissingCells) {
  auto f = ReadCsv("g\nx\n\n\ny\nx\n", CsvOptions{});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->rows, 5u);
  const Column& g = f->columns[0];
  EXPECT_EQ(g.type, ColumnType::kCategorical);
  EXPECT_EQ(g.levels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(g.codes, (std::vector<int32_t>{0, -1, -1, 1, 0}));
  EXPECT_EQ(g.missing, 2u);
}

// The column file of `csv`, as the server stores an upload.
std::string ColumnFileOf(std::string_view csv) {
  std::string file;
  ColumnFileWriter writer([&](std::string_view bytes) {
    file.append(bytes);
    return Status::Ok();
  });
  CsvStreamReader reader(CsvOptions{}, &writer, [&](uint64_t offset, size_t length, std::string*) {
    return Result<std::string_view>(csv.substr(offset, length));
  });
  EXPECT_TRUE(reader.Feed(csv).ok());
  Result<CsvColumns> layout = reader.Finish();
  EXPECT_TRUE(layout.ok() && writer.Finish(*layout).ok());
  return file;
}

Result<Frame> ReadBack(const std::string& file) {
  return ReadColumnFile(
      [&](uint64_t offset, size_t length, char* out) {
        if (offset > file.size() || length > file.size() - offset)
          return Status::DataLoss("read past the end");
        std::memcpy(out, file.data() + offset, length);
        return Status::Ok();
      },
      file.size());
}

// A version 2 column file ends in: footer JSON, its size (8 bytes), its XXH64 (8), "MLPCOLS2".
constexpr size_t kTrailer = 24;

uint64_t FooterSize(const std::string& file) {
  uint64_t footer_size;
  std::memcpy(&footer_size, file.data() + file.size() - kTrailer, 8);
  return footer_size;
}

nlohmann::json FooterOf(const std::string& file) {
  return nlohmann::json::parse(
      file.substr(file.size() - kTrailer - FooterSize(file), FooterSize(file)));
}

// Where the footer says column `column`'s cells of the first block start.
uint64_t PartOffset(const std::string& file, size_t column) {
  return FooterOf(file).at("blocks").at(0).at("parts").at(column).at(0).get<uint64_t>();
}

// The file with its footer replaced by `footer`, checksummed as the writer would, so that only
// the damage a test plants is what the reader sees.
std::string WithFooter(const std::string& file, const nlohmann::json& footer) {
  const std::string text = footer.dump();
  std::string out = file.substr(0, file.size() - kTrailer - FooterSize(file)) + text;
  const uint64_t size = text.size();
  const uint64_t hash = Xxh64(text);
  out.append(reinterpret_cast<const char*>(&size), 8);
  out.append(reinterpret_cast<const char*>(&hash), 8);
  return out + "MLPCOLS2";
}

// The file with the first block's part of `column` (`bytes` long) checksummed again after the
// test changed its cells: the reader's own checks must find the damage, not the checksum.
std::string Rechecked(const std::string& file, size_t column, size_t bytes) {
  nlohmann::json footer = FooterOf(file);
  auto& part = footer.at("blocks").at(0).at("parts").at(column);
  part.at(2) = Xxh64(std::string_view(file).substr(part.at(0).get<uint64_t>(), bytes));
  return WithFooter(file, footer);
}

// model_fuzzer (UBSan) found get<int>() of "format_version": 1.4e62 casting out of range; the
// review that followed found every count and offset of column files and models read the same
// way (1e300 cast with undefined behaviour, -1 wrapped to 2^64 - 1, and a row count far beyond
// the data allocated and zeroed before any check). Each is now refused.
TEST(FuzzRegression, ColumnFileCountsThatAreNotIntegersInRangeAreDataLoss) {
  const std::string file = ColumnFileOf("x,g\n1,a\n2,b\n3,a\n");
  ASSERT_TRUE(ReadBack(WithFooter(file, FooterOf(file))).ok());
  const std::vector<std::pair<nlohmann::json::json_pointer, nlohmann::json>> damage = {
      {"/rows"_json_pointer, 1e300},
      {"/rows"_json_pointer, -1},
      {"/rows"_json_pointer, 1.5},
      {"/rows"_json_pointer, uint64_t{1} << 40},  // far more than 4 bytes a row of data
      {"/columns/0/missing"_json_pointer, -1},
      {"/columns/1/remap/0"_json_pointer, 1e300},
      {"/blocks/0/first_row"_json_pointer, "0"},
      {"/blocks/0/rows"_json_pointer, 3.0},
      {"/blocks/0/parts/0/0"_json_pointer, -8},
  };
  for (const auto& [where, value] : damage) {
    nlohmann::json footer = FooterOf(file);
    footer[where] = value;
    Result<Frame> read = ReadBack(WithFooter(file, footer));
    EXPECT_EQ(read.status().code(), StatusCode::kDataLoss)
        << where.to_string() << " = " << value.dump() << ": " << read.status().ToString();
  }
}

TEST(FuzzRegression, ModelCountsThatAreNotIntegersInRangeDoNotLoad) {
  auto frame = ReadCsv("y,x,b\n1,1,no\n3,2,yes\n2,3,no\n5,4,yes\n4,5,yes\n7,6,no\n6,7,yes\n", {});
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  for (const char* kind : {"ols", "logistic", "lasso"}) {
    TrainOptions options;
    options.kind = kind;
    options.formula = options.kind == "logistic" ? "b ~ x" : "y ~ x";
    if (options.kind == "lasso") options.params = {{"lambda", "0.1"}};
    auto trained = Train(*frame, options);
    ASSERT_TRUE(trained.ok()) << kind << ": " << trained.status().ToString();
    const auto json = nlohmann::json::parse(trained->model->Serialize());
    for (const char* key : {"format_version", "n_obs"}) {
      if (!json.contains(key)) continue;  // lasso keeps no n_obs
      for (const nlohmann::json& value : {nlohmann::json(1.4e62), nlohmann::json(-1)}) {
        auto damaged = json;
        damaged[key] = value;
        auto loaded = DeserializeModel(damaged.dump());
        EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument)
            << kind << " " << key << " = " << value.dump() << ": " << loaded.status().ToString();
      }
    }
  }
}

// column_file_fuzzer: a code below -1 passed as a missing cell (every reader tests code < 0), so
// the frame's missing count disagreed with its cells. Only -1 means missing; the rest is damage.
TEST(FuzzRegression, ColumnFileCodesBelowMinusOneAreDataLoss) {
  std::string file = ColumnFileOf("x,g\n1,a\n2,b\n3,a\n");
  ASSERT_TRUE(ReadBack(file).ok());
  const int32_t garbage = -842268671;
  std::memcpy(&file[PartOffset(file, 1) + 4], &garbage, 4);
  Result<Frame> read = ReadBack(Rechecked(file, 1, 3 * sizeof(int32_t)));
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss) << read.status().ToString();
  EXPECT_EQ(read.status().message().find("checksum"), std::string::npos)
      << "the cells' own check, not the checksum, must refuse: " << read.status().ToString();
}

// column_file_fuzzer (the invariant added with the fix above): a cell turned NaN by damage made a
// missing cell the footer does not count; training and describe trust that count.
TEST(FuzzRegression, ColumnFileMissingCountMustMatchTheCells) {
  std::string file = ColumnFileOf("x,g\n1,a\n2,b\n3,a\n");
  const double nan = std::nan("");
  std::memcpy(&file[PartOffset(file, 0) + 8], &nan, 8);
  Result<Frame> read = ReadBack(Rechecked(file, 0, 3 * sizeof(double)));
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss) << read.status().ToString();
  EXPECT_EQ(read.status().message().find("checksum"), std::string::npos)
      << "the cells' own check, not the checksum, must refuse: " << read.status().ToString();
}

// model_fuzzer: a model whose "transforms" key was lost loaded as a model with unfitted poly()
// and ns() terms: it passed RegisterModel's load check, then failed every prediction.
TEST(FuzzRegression, ModelsWithoutTheirBasisStateDoNotLoad) {
  auto frame = ReadCsv("y,x,z\n1,1,5\n3,2,3\n2,3,8\n5,4,1\n4,5,9\n7,6,2\n6,7,7\n9,8,4\n", {});
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  for (const char* kind : {"ols", "ridge"}) {
    TrainOptions options;
    options.kind = kind;
    options.formula = "y ~ poly(x, 2) + ns(z, 2)";
    if (options.kind == "ridge") options.params = {{"lambda", "0.5"}};
    auto trained = Train(*frame, options);
    ASSERT_TRUE(trained.ok()) << kind << ": " << trained.status().ToString();
    auto json = nlohmann::json::parse(trained->model->Serialize());
    ASSERT_TRUE(DeserializeModel(json.dump()).ok()) << kind;
    json.erase("transforms");
    auto loaded = DeserializeModel(json.dump());
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument)
        << kind << ": " << loaded.status().ToString();
  }
}

// model_fuzzer: a blob whose "format" is not a string threw nlohmann's type_error out of
// DeserializeModel (j.value("format", "") throws on a type mismatch), ending the process.
TEST(FuzzRegression, ModelsWhoseFormatIsNotAStringAreDataLoss) {
  for (const char* format : {"1", "null", "[\"mlprod-model\"]", "{}"}) {
    for (const char* kind : {"ols", "lasso", "kmeans"}) {
      const std::string bytes =
          std::string("{\"format\":") + format + ",\"kind\":\"" + kind + "\"}";
      auto loaded = DeserializeModel(bytes);
      EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss) << bytes;
    }
  }
}

// formula_fuzzer: a constant that needs all 15 digits and rounds to a trailing zero kept the
// zero ("1.22222222222220e+20"), which R drops; the label read back printed differently, so a
// stepwise candidate's terms did not match its parent's.
TEST(FuzzRegression, NumbersInLabelsDropTrailingZerosAsR) {
  auto f = ParseFormula("y ~ I(x^122222222222220222222) + I(x * 0.100000000000000001)", {"y", "x"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->variables[0].label, "I(x^1.2222222222222e+20)");
  EXPECT_EQ(f->variables[1].label, "I(x * 0.1)");
  auto again = ParseFormula("y ~ " + f->variables[0].label, {"y", "x"});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->variables[0].label, f->variables[0].label);
}

// model_fuzzer: a model whose signature does not name a column its formula computes with
// (poly(z, 2) over a signature of "zz") loaded; predicting then looked the column up with
// std::map::at, which threw, and its own serialisation did not load.
TEST(FuzzRegression, ModelsWhoseSignatureLacksAFormulaColumnDoNotLoad) {
  auto frame = ReadCsv("y,x,z\n1,1,5\n3,2,3\n2,3,8\n5,4,1\n4,5,9\n7,6,2\n6,7,7\n9,8,4\n", {});
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  for (const char* formula : {"y ~ poly(z, 2) + x", "y ~ I(z^2) + x", "y ~ log(z) + x"}) {
    for (const char* kind : {"ols", "elasticnet"}) {
      TrainOptions options;
      options.kind = kind;
      options.formula = formula;
      if (options.kind == "elasticnet") options.params = {{"lambda", "0.2"}, {"alpha", "0.5"}};
      auto trained = Train(*frame, options);
      ASSERT_TRUE(trained.ok()) << kind << ": " << trained.status().ToString();
      auto json = nlohmann::json::parse(trained->model->Serialize());
      for (auto& in : json.at("signature")) {
        if (in.at("name") == "z") in["name"] = "zz";
      }
      auto loaded = DeserializeModel(json.dump());
      EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument)
          << kind << " " << formula << ": " << loaded.status().ToString();
    }
  }
}

// formula_fuzzer: a degree or df too large for a double (ns(x, 2E999)) reached the error message
// as Inf, whose printf spelling "inf" has no exponent; splitting it there threw out_of_range out
// of ParseFormula.
TEST(FuzzRegression, InfiniteDegreesAreRefusedNamingThePosition) {
  for (const char* formula : {"y ~ ns(x, 2E999)", "y ~ poly(x, degree = -1e999)"}) {
    auto f = ParseFormula(formula, {"y", "x"});
    ASSERT_FALSE(f.ok()) << formula;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << f.status().ToString();
    EXPECT_NE(f.status().message().find("Inf"), std::string::npos) << f.status().ToString();
  }
  const Status status = ParseFormula("y ~ ns(x, 2E999)", {"y", "x"}).status();
  EXPECT_EQ(status.message().find("formula position 11:"), 0u) << status.ToString();
}

// formula_fuzzer: a one-sided (k-means) formula is parsed with a placeholder response that no
// frame has, and naming it (~ ns(.no_response, 4)) made it an input column: SignatureOf then
// dereferenced the frame's null column, a segfault in SubmitRun.
TEST(FuzzRegression, KMeansFormulasCannotNameTheResponsePlaceholder) {
  auto frame = ReadCsv("x,z\n1,5\n3,3\n2,8\n5,1\n4,9\n7,2\n", {});
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  TrainOptions options;
  options.kind = "kmeans";
  options.params = {{"k", "2"}};
  for (const char* formula :
       {"~ ns(.no_response, 4)", "~ x + `.no_response`", "~ I(z - .no_response)"}) {
    options.formula = formula;
    const Status status = ValidateTrainOptions(*frame, options);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << formula;
    EXPECT_NE(status.message().find("unknown column '.no_response'"), std::string::npos)
        << status.ToString();
  }
  options.formula = "~ ns(.no_response, 4)";
  EXPECT_EQ(ValidateTrainOptions(*frame, options).message().find("formula position 6:"), 0u);
  options.formula = "~ .";
  EXPECT_TRUE(ValidateTrainOptions(*frame, options).ok());
}

}  // namespace
}  // namespace mlprod::ml
