#include "ml/frame.h"

namespace mlprod::ml {

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kNumeric: return "numeric";
    case ColumnType::kCategorical: return "categorical";
    case ColumnType::kBoolean: return "boolean";
  }
  return "numeric";
}

Result<ColumnType> ParseColumnType(std::string_view text) {
  if (text == "numeric") return ColumnType::kNumeric;
  if (text == "categorical") return ColumnType::kCategorical;
  if (text == "boolean") return ColumnType::kBoolean;
  return Status::InvalidArgument("unknown column type '" + std::string(text) +
                                 "' (expected numeric, categorical or boolean)");
}

const Column* Frame::Find(std::string_view name) const {
  for (const Column& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace mlprod::ml
