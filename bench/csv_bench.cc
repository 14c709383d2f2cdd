// CSV parse throughput of ml::ReadCsv on a generated survey-shaped file (numeric, categorical,
// boolean and missing cells), in bytes per second.
#include <random>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include "ml/csv_reader.h"

namespace mlprod::ml {
namespace {

std::string MakeCsv(size_t rows) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const char* countries[] = {"Germany", "India", "United States", "France", "Brazil"};
  std::ostringstream out;
  out << "salary,years_code,country,remote,age\n";
  for (size_t i = 0; i < rows; ++i) {
    out << static_cast<int>(40000 + 100000 * u(rng)) << ",";
    if (u(rng) > 0.02) out << static_cast<int>(40 * u(rng));
    out << "," << countries[rng() % 5] << "," << (u(rng) < 0.3 ? "yes" : "no") << ","
        << 20 + 0.5 * static_cast<int>(80 * u(rng)) << "\n";
  }
  return out.str();
}

void BM_ReadCsv(benchmark::State& state) {
  const std::string text = MakeCsv(static_cast<size_t>(state.range(0)));
  CsvOptions options;
  for (auto _ : state) {
    auto frame = ReadCsv(text, options);
    if (!frame.ok()) state.SkipWithError(frame.status().ToString().c_str());
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

BENCHMARK(BM_ReadCsv)->Arg(200000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mlprod::ml
