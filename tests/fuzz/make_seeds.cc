// Writes the binary seeds of tests/fuzz/corpus: serialised models of every kind (model_fuzzer)
// and column files of small CSVs, in one block and in blocks of two rows (column_file_fuzzer).
// Text seeds (CSV, formulas, filters) are committed as they are.
//
//   build/fuzz/tests/fuzz/make_fuzz_seeds tests/fuzz/corpus
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "ml/column_file.h"
#include "ml/csv_reader.h"
#include "ml/model.h"

namespace {

using mlprod::Result;
using mlprod::Status;
using namespace mlprod::ml;

// 24 rows: y numeric, x numeric with one missing cell, z positive, g categorical, b boolean.
const char kCsv[] =
    "y,x,z,g,b\n"
    "3.1,1,0.5,a,yes\n4.9,2,1.5,b,no\n7.2,3,2.5,c,yes\n8.8,4,3.5,a,no\n"
    "11.1,5,4.5,b,yes\n13.0,6,5.5,c,no\n15.2,7,6.5,a,yes\n16.8,8,7.5,b,no\n"
    "19.1,9,8.5,c,yes\n21.0,10,9.5,a,no\n23.2,11,10.5,b,yes\n24.9,12,11.5,c,no\n"
    "27.0,13,12.5,a,yes\n29.1,14,13.5,b,no\n30.8,15,14.5,c,yes\n33.2,16,15.5,a,no\n"
    "35.1,17,16.5,b,yes\n36.9,18,17.5,c,no\n39.0,19,18.5,a,yes\n41.2,20,19.5,b,no\n"
    "42.8,21,20.5,c,yes\n45.1,22,21.5,a,no\n47.0,,22.5,b,yes\n49.2,24,23.5,c,no\n";

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) std::cerr << "cannot write " << path << "\n";
  return static_cast<bool>(out);
}

// The column file of `csv`, as the server stores an upload.
Result<std::string> ColumnFile(const std::string& csv, size_t block_rows) {
  std::string file;
  ColumnFileWriter writer([&](std::string_view bytes) {
    file.append(bytes);
    return Status::Ok();
  });
  CsvStreamReader reader(
      CsvOptions{}, &writer,
      [&](uint64_t offset, size_t length, std::string*) -> Result<std::string_view> {
        return std::string_view(csv).substr(offset, length);
      });
  if (block_rows != 0) reader.SetBlockRowsForTesting(block_rows);
  MLPROD_RETURN_IF_ERROR(reader.Feed(csv));
  MLPROD_ASSIGN_OR_RETURN(CsvColumns layout, reader.Finish());
  MLPROD_RETURN_IF_ERROR(writer.Finish(layout));
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " CORPUS_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  Result<Frame> frame = ReadCsv(kCsv, CsvOptions{});
  if (!frame.ok()) {
    std::cerr << frame.status().ToString() << "\n";
    return 1;
  }
  struct Seed {
    const char* name;
    const char* kind;
    const char* formula;
    std::map<std::string, std::string> params;
    MissingStrategy missing;
  };
  const std::vector<Seed> seeds = {
      {"ols", "ols", "y ~ x + g + I(x^2)", {}, MissingStrategy::kDrop},
      {"ols_basis",
       "ols",
       "y ~ poly(x, 2) + ns(z, 2) + C(g, ref = \"b\"):b",
       {},
       MissingStrategy::kMean},
      {"logistic", "logistic", "b ~ z + g", {}, MissingStrategy::kMedian},
      {"ridge", "ridge", "y ~ x * g", {{"lambda", "0.5"}}, MissingStrategy::kMean},
      {"lasso", "lasso", "y ~ .", {{"lambda", "0.1"}}, MissingStrategy::kDrop},
      {"elasticnet",
       "elasticnet",
       "y ~ poly(z, 2) + b",
       {{"lambda", "0.2"}, {"alpha", "0.5"}},
       MissingStrategy::kDrop},
      {"kmeans", "kmeans", "~ x + z", {{"k", "3"}}, MissingStrategy::kMean},
  };
  for (const Seed& seed : seeds) {
    TrainOptions options;
    options.kind = seed.kind;
    options.formula = seed.formula;
    options.params = seed.params;
    options.missing = seed.missing;
    Result<TrainOutput> trained = Train(*frame, options);
    if (!trained.ok()) {
      std::cerr << seed.name << ": " << trained.status().ToString() << "\n";
      return 1;
    }
    if (!Write(dir + "/model_fuzzer/" + seed.name + ".json", trained->model->Serialize())) return 1;
  }
  const std::vector<std::pair<std::string, std::string>> csvs = {
      {"salaries", kCsv},
      {"quoted", "id,text,n\n1,\"a, b\",3\n2,\"line one\nline two\",4\n3,\"\"\"\",NA\n"},
      {"empty_rows", "a,b\n"},
  };
  for (const auto& [name, csv] : csvs) {
    for (size_t block_rows : {size_t{0}, size_t{2}}) {
      Result<std::string> file = ColumnFile(csv, block_rows);
      if (!file.ok()) {
        std::cerr << name << ": " << file.status().ToString() << "\n";
        return 1;
      }
      const std::string suffix = block_rows == 0 ? "" : "_blocks2";
      if (!Write(dir + "/column_file_fuzzer/" + name + suffix + ".mlpcols", *file)) return 1;
    }
  }
  return 0;
}
