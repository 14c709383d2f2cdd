// Model deserialisation: any bytes as a stored model blob. DeserializeModel answers a model or
// INVALID_ARGUMENT / DATA_LOSS; a model it answers serialises to bytes that load again into a
// model serialising to the same bytes, and predicts two equal rows built from its own signature
// alike (or refuses with INVALID_ARGUMENT), with and without intervals.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ml/model.h"
#include "tests/fuzz/fuzz_check.h"

namespace mlprod::fuzz {
namespace {

void CheckPredicts(const ml::Model& model) {
  std::map<std::string, std::string> record;
  for (const ml::InputColumn& in : model.signature()) {
    if (in.type == ml::ColumnType::kNumeric) {
      record[in.name] = "1.5";
    } else if (!in.levels.empty()) {
      record[in.name] = in.levels.back();
    } else {
      return;  // no level to send: FrameFromRecords would refuse every row
    }
  }
  const ml::TextRecord text(record.begin(), record.end());
  const Result<ml::Frame> rows = ml::FrameFromRecords(model.signature(), {text, text});
  if (!rows.ok()) {
    FUZZ_CHECK(rows.status().code() == StatusCode::kInvalidArgument, rows.status().ToString());
    return;
  }
  for (bool intervals : {false, true}) {
    ml::PredictOptions options;
    options.intervals = intervals;
    const auto predictions = model.Predict(*rows, options);
    if (!predictions.ok()) {
      // FAILED_PRECONDITION: intervals of a kind that has none (kmeans).
      FUZZ_CHECK(predictions.status().code() == StatusCode::kInvalidArgument ||
                     (intervals && predictions.status().code() == StatusCode::kFailedPrecondition),
                 predictions.status().ToString());
      continue;
    }
    FUZZ_CHECK(predictions->size() == 2, "one prediction per row");
    FUZZ_CHECK(SameBits((*predictions)[0].value, (*predictions)[1].value),
               "equal rows predict alike");
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Result<std::shared_ptr<const ml::Model>> model = ml::DeserializeModel(bytes);
  if (!model.ok()) {
    FUZZ_CHECK(model.status().code() == StatusCode::kInvalidArgument ||
                   model.status().code() == StatusCode::kDataLoss,
               model.status().ToString());
    return;
  }
  const std::string saved = (*model)->Serialize();
  const Result<std::shared_ptr<const ml::Model>> again = ml::DeserializeModel(saved);
  FUZZ_CHECK(again.ok(), "its own bytes do not load: " + again.status().ToString());
  FUZZ_CHECK((*again)->Serialize() == saved, "serialise, load, serialise changes the bytes");
  FUZZ_CHECK((*again)->kind() == (*model)->kind(), "kind");
  CheckPredicts(**model);
}

}  // namespace
}  // namespace mlprod::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlprod::fuzz::FuzzOne(data, size);
  return 0;
}
